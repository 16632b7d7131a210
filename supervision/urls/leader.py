from django.urls import path

from ..views import leader

urlpatterns = [
    path("approvals/", leader.approvals, name="approvals"),
    path("coverage/", leader.coverage, name="coverage"),
]
