"""The reports' pages, one module per page family."""

urlpatterns: list = []
