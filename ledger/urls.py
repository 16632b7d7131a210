from django.urls import path

from . import views

urlpatterns = [
    path("office/ledger/", views.ledger_upload, name="ledger-upload"),
]
