"""The URLs of one page family of the reports."""

urlpatterns: list = []
