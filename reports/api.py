"""The reports' endpoints under /api/v1/: statistics and bulletins."""

from ninja import Router

router = Router(tags=["统计与通报"])
