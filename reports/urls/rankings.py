"""The rankings' pages: the ranking, a unit's entries, the office's entry, the export."""

from django.urls import path

from ..views import rankings

urlpatterns = [
    path("rankings/", rankings.rankings, name="rankings"),
    path("rankings/export/", rankings.rankings_export, name="rankings-export"),
    path("rankings/unit/<int:unit_id>/", rankings.rankings_unit, name="rankings-unit"),
    path("rankings/unit/<int:unit_id>/record/", rankings.rankings_record, name="rankings-record"),
]
