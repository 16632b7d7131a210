from django.urls import path

from ..views import audit

urlpatterns = [
    path("office/audit/", audit.audit, name="audit"),
]
