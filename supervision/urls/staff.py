from django.urls import path

from ..views import staff

urlpatterns = [
    path("todo/", staff.todo, name="todo"),
    path("todo/weekly/", staff.weekly, name="weekly"),
    path("nodes/<int:node_id>/", staff.node_detail, name="node"),
]
