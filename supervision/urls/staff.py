from django.urls import path

from ..views import staff

urlpatterns = [
    path("todo/", staff.todo, name="todo"),
    path("todo/weekly/", staff.weekly, name="weekly"),
    path("nodes/<int:node_id>/", staff.node_detail, name="node"),
    path("nodes/<int:node_id>/progress/", staff.node_progress, name="node-progress"),
    path("nodes/<int:node_id>/complete/", staff.node_finish, name="node-complete"),
    path("nodes/<int:node_id>/recommit/", staff.node_recommit, name="node-recommit"),
    path(
        "attachments/<str:kind>/<int:attachment_id>/",
        staff.attachment_download,
        name="attachment",
    ),
]
