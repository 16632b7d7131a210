from django.urls import path

from ..views import projects

urlpatterns = [
    path("projects/", projects.project_list, name="projects"),
    path("projects/<path:code>/", projects.project_detail, name="project"),
]
