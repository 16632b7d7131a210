from django.shortcuts import render

from .selectors import project_list


def home(request):
    """The projects the signed-in user may see."""
    projects = project_list(user=request.user)
    return render(request, "projects/home.html", {"projects": projects})
