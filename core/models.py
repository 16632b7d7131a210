"""Model building blocks shared by the apps."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Attachment(models.Model):
    """An uploaded evidence file; subclasses add the `file` field and what it belongs to."""

    name = models.CharField(_("文件名"), max_length=200)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name
