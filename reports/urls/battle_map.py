"""The battle map (挂图作战图): the page and its A3 PDF."""

from django.urls import path

from ..views import battle_map

urlpatterns = [
    path("map/", battle_map.battle_map, name="battle-map"),
    path("map/pdf/", battle_map.battle_map_pdf, name="battle-map-pdf"),
]
