"""REST endpoints of escalation: the wall chart's nodes with their cards, recommitments, cards, items."""

from ninja import Router

from .escalation import router as escalation_router
from .nodes import router as nodes_router

router = Router()
router.add_router("", nodes_router)
router.add_router("", escalation_router)

__all__ = ["router"]
