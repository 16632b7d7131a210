from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NodetrackConfig(AppConfig):
    name = "nodetrack"
    verbose_name = _("节点督办")
