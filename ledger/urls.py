from django.urls import path

from . import views

urlpatterns = [
    path("office/ledger/", views.ledger_upload, name="ledger-upload"),
    path("office/ledger/confirm/", views.ledger_confirm, name="ledger-confirm"),
    path("office/ledger/cancel/", views.ledger_cancel, name="ledger-cancel"),
    path("office/ledger/export/", views.ledger_export, name="ledger-export"),
]
