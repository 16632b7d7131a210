from django.urls import path

from ..views import leader

urlpatterns = [
    path("approvals/", leader.approvals, name="approvals"),
    path("approvals/<int:pk>/decide/", leader.approval_decide, name="approval-decide"),
    path("coverage/", leader.coverage, name="coverage"),
]
