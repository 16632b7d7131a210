"""Unit staff: 我的待办, the node page with its forms, the weekly update, attachments."""

from django.shortcuts import render


def todo(request):
    return render(request, "placeholder.html", {"nav_active": "todo"})


def weekly(request):
    return render(request, "placeholder.html", {"nav_active": "weekly"})


def node_detail(request, node_id: int):
    return render(request, "placeholder.html", {})
