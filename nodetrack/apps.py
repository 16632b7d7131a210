from django.apps import AppConfig


class NodetrackConfig(AppConfig):
    name = "nodetrack"
    verbose_name = "节点督办"
