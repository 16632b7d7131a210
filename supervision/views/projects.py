"""Projects: the list with filters and the project page, scoped like the API."""

from django.shortcuts import render

from projects.selectors import project_list as projects_visible


def project_list(request):
    """The projects the signed-in user may see."""
    projects = projects_visible(user=request.user)
    return render(request, "projects/list.html", {"projects": projects, "nav_active": "projects"})


def project_detail(request, code: str):
    return render(request, "placeholder.html", {"nav_active": "projects"})
