"""Admin for bulletins: read only, since they are generated and published on their pages."""

from django.contrib import admin

from core.admin import HistoryAdmin, ReadOnlyAdminMixin

from .models import Bulletin


@admin.register(Bulletin)
class BulletinAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    """Bulletins keep the figures they were generated with: nothing is edited here."""

    list_display = ("title", "year", "serial", "period_start", "period_end", "status")
    list_filter = ("status", "year")
    ordering = ("-period_end", "-period_start")
