"""Bulletins: the published ones, for every signed-in user."""

from ninja import Router

router = Router(tags=["统计与通报"])
