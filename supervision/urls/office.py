from django.urls import path

from ..views import office

urlpatterns = [
    path("office/items/", office.items, name="items"),
    path("office/cards/", office.cards, name="cards"),
]
