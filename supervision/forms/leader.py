"""Leaders' forms: a decision on a recommitment."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.text import TEXT_MAX


class DecisionForm(forms.Form):
    """同意 or 驳回, with a comment (the service requires one for a rejection)."""

    APPROVE, REJECT = "approve", "reject"

    decision = forms.ChoiceField(
        choices=[(APPROVE, _("同意")), (REJECT, _("驳回"))], widget=forms.HiddenInput
    )
    comment = forms.CharField(
        label=_("审批意见"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    @property
    def approve(self) -> bool:
        return self.cleaned_data["decision"] == self.APPROVE
