"""The ledger upload form: one file, checked by its content before anything is stored."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .uploads import ledger_file_kind


class LedgerUploadForm(forms.Form):
    file = forms.FileField(
        label=_("台账文件"),
        error_messages={
            "required": _("请选择台账文件（.xlsx 或 .csv）。"),
            "empty": _("文件是空的。"),
        },
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv"
            }
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            upload.ledger_kind = ledger_file_kind(upload)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["file"]) from None
        return upload
