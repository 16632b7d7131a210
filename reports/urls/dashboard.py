"""The dashboard (总览), everyone's home page, and the node list its counts link to."""

from django.urls import path

from ..views import dashboard

urlpatterns: list = [
    path("", dashboard.dashboard, name="home"),
    path("nodes/", dashboard.node_list, name="node-list"),
]
