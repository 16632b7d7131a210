from django.urls import path

from ..views import exports, office

urlpatterns = [
    path("office/items/", office.items, name="items"),
    path("office/items/export/", exports.items_export, name="items-export"),
    path("office/items/<int:item_id>/", office.item_detail, name="item"),
    path("office/items/<int:item_id>/inspections/", office.item_inspect, name="item-inspect"),
    path("office/items/<int:item_id>/deadline/", office.item_deadline, name="item-deadline"),
    path("office/items/<int:item_id>/close/", office.item_close, name="item-close"),
    path("office/cards/", office.cards, name="cards"),
    path("office/cards/export/", exports.cards_export, name="cards-export"),
    path("office/cards/<int:card_id>/revoke/", office.card_revoke_page, name="card-revoke"),
]
