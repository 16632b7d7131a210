"""What leaders and the supervision office look at and hand on: the dashboard, the battle map,
rankings, exports and bulletins. It reads through the lower apps' selectors and writes only
through their services (and its own bulletins)."""
