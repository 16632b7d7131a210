"""The supervision office uploads a ledger, sees the dry run, then imports it."""

from django.shortcuts import render


def ledger_upload(request):
    return render(request, "placeholder.html", {"nav_active": "ledger"})
