"""Choices of the reports: a bulletin's status."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class BulletinStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
