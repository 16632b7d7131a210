"""The supervision office: the priority list, card lists, item pages, revocation."""

from django.shortcuts import render


def items(request):
    return render(request, "placeholder.html", {"nav_active": "items"})


def cards(request):
    return render(request, "placeholder.html", {"nav_active": "cards"})
