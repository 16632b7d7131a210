"""Statistics: the dashboard's figures over the caller's scope."""

from ninja import Router

router = Router(tags=["统计与通报"])
