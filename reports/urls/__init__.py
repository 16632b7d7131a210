"""The reports' pages, one module per page family."""

from .battle_map import urlpatterns as battle_map
from .bulletins import urlpatterns as bulletins
from .dashboard import urlpatterns as dashboard
from .exports import urlpatterns as exports
from .rankings import urlpatterns as rankings

urlpatterns = [*dashboard, *battle_map, *rankings, *exports, *bulletins]
