"""Leaders: the approval inbox and decisions, and what they cover (包保)."""

from django.shortcuts import render


def approvals(request):
    return render(request, "placeholder.html", {"nav_active": "approvals"})


def coverage(request):
    return render(request, "placeholder.html", {"nav_active": "coverage"})
