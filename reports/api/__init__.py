"""The reports' endpoints under /api/v1/: statistics and bulletins, one module each."""

from ninja import Router

from .bulletins import router as bulletins_router
from .stats import router as stats_router

router = Router(tags=["统计与通报"])
router.add_router("", stats_router)
router.add_router("", bulletins_router)
