"""The admin in zh-hans: no English from strings the project owns.

Two checks. The strings the apps define (verbose names, help texts, choices, list columns,
actions, filters, inlines, model __str__) are read directly and must be Chinese. Then
every admin page of the apps is rendered, as a superuser and as the supervision office,
over a full story, and no English word may remain but the data itself and the listed
strings of Django and the libraries, which their own catalogs translate (or not).
"""

import datetime as dt
import re
from decimal import Decimal
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from organization.models import ApiToken, Coverage
from organization.services import person_without_login_create, role_assign
from projects.models import (
    DisposalLine,
    Enterprise,
    NodeTemplate,
    NodeTemplateStep,
    ProgressAttachment,
    ProgressReport,
    Project,
)
from projects.validators import uscc_check_digit
from scoring.models import RuleVersion
from supervision.models import CalendarDay, Card, SupervisionItem
from supervision.services import (
    card_revoke,
    recommitment_decide,
    recommitment_submit,
    supervision_item_add_inspection,
    sweep_run,
)
from tests.factories import LocalityFactory, NodeFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
APPS = ("organization", "projects", "scoring", "supervision")
CJK = re.compile(r"[\u4e00-\u9fff]")
WORD = re.compile(r"[A-Za-z]{2,}")

# Words a Chinese administrator reads as they are.
KEPT_WORDS = {"API"}
# Strings of Django and the libraries, on pages the project does not template. Each is
# theirs to translate: Django 5.2's zh_Hans catalog lacks the first four; django-q names
# its app so; simple_history's history list has an untranslated header and prints None
# for an empty change reason; Django's help texts name keys and products.
THEIRS = (
    "Add link",
    "Change or view list link",
    "Model name",
    "After you’ve created a user, you’ll be able to edit more user options.",
    "Django Q",
    "Changes",
    "LDAP",
    "Control",
    "Mac",
    "Command",
)
HISTORY_ONLY = ("None",)
# Permission names are stored by Django at migrate time ("Can add …"), never translated.
PERMISSION = re.compile(r"^.+ \| .+ \| Can (add|change|delete|view) ")


def at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SH)


@pytest.fixture
def story():
    """A row of every model the admin of the apps shows, through the services where they exist."""
    department = UnitFactory(name="县自然资源局")
    locality = LocalityFactory(name="上派镇")
    people = {
        role: UserFactory(username=username)
        for role, username in (("staff", "chentao"), ("leader", "wanglixin"), ("office", "sunli"))
    }
    role_assign(user=people["staff"], role="staff", unit=department, actor=None)
    role_assign(user=people["leader"], role="leader", unit=department, actor=None)
    role_assign(user=people["office"], role="supervisor", actor=None)
    leader = person_without_login_create(full_name="王五", actor=None)
    code = "91340123MA2N0X1Y2"
    enterprise = Enterprise.objects.create(
        name="合肥派河家具制造有限公司",
        credit_code=code + uscc_check_digit(code),
        locality=locality,
    )
    project = Project.objects.create(
        code="FXDX-001",
        name="派河家具低效用地收储收回项目",
        locality=locality,
        enterprise=enterprise,
    )
    project.leader = leader
    project.save()
    DisposalLine.objects.create(project=project, method="takeback", area_mu=Decimal("42.33"))
    Coverage.objects.create(leader=leader, target="enterprise", enterprise=enterprise)
    ApiToken.objects.create(user=people["staff"], digest="d" * 64, prefix="abcdefgh")
    template = NodeTemplate.objects.create(name="收储收回标准流程")
    NodeTemplateStep.objects.create(
        template=template, seq=1, name="补偿款支付", unit_kind="department", offset_days=95
    )
    RuleVersion.objects.create(effective_from=dt.date(2099, 1, 1), reminder_days=[3, 1])
    CalendarDay.objects.create(date=dt.date(2026, 12, 31), name="元旦调休", is_workday=False)
    red = NodeFactory(project=project, seq=1, name="签订收储协议", unit=department)
    revoked = NodeFactory(project=project, seq=2, name="补偿款支付", unit=department)
    for node in (red, revoked):
        node.due_date = dt.date(2026, 11, 26)
        node.save()
    report = ProgressReport.objects.create(
        node=red, percent=40, note="已完成测绘", author=people["staff"]
    )
    ProgressAttachment.objects.create(
        report=report, name="测绘成果.pdf", file=SimpleUploadedFile("a.pdf", b"%PDF-1.4")
    )
    sweep_run(as_of=at("2026-11-27 09:00"))
    with time_machine.travel(at("2026-11-27 10:00"), tick=False):
        rec = recommitment_submit(
            node=red, actor=people["staff"], reason="征迁未完成", new_due_date=dt.date(2026, 12, 9)
        )
        recommitment_decide(recommitment=rec, actor=people["leader"], approve=False, comment="太晚")
        card_revoke(
            card=Card.objects.get(node=revoked), actor=people["office"], reason="节点时间有误"
        )
    sweep_run(as_of=at("2026-12-03 00:05"))
    with time_machine.travel(at("2026-12-03 10:00"), tick=False):
        supervision_item_add_inspection(
            item=SupervisionItem.objects.get(),
            actor=people["office"],
            mode="offline",
            inspected_on=dt.date(2026, 12, 3),
            text="现场督查",
        )
    return people


class VisibleText(HTMLParser):
    """What a person reads on a page: text, titles, placeholders and button labels."""

    def __init__(self):
        super().__init__()
        self.hidden = 0
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self.hidden += 1
        attrs = dict(attrs)
        for name in ("title", "placeholder", "aria-label"):
            if attrs.get(name):
                self.chunks.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.chunks.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.chunks.append(data.strip())


def data_words() -> set[str]:
    """Every Latin word stored in the apps' rows (usernames, codes, hashes, file names, the
    keys of event data): data, not text. The stored value of a choice is not data: a page
    shows its label."""
    words = set()
    for app in (*APPS, "auth"):
        for model in apps.get_app_config(app).get_models():
            fields = [
                f.attname
                for f in model._meta.concrete_fields
                if not f.choices
                and isinstance(
                    f, models.CharField | models.TextField | models.FileField | models.JSONField
                )
            ]
            for row in model.objects.values_list(*fields):
                words |= set(WORD.findall(" ".join(str(v) for v in row)))
    return words


def english_on(page: str, url: str, allowed: set[str]) -> set[str]:
    parser = VisibleText()
    parser.feed(page)
    found = set()
    theirs = THEIRS + (HISTORY_ONLY if url.endswith("/history/") else ())
    for chunk in parser.chunks:
        if PERMISSION.match(chunk) or "****" in chunk:  # a permission; a masked password hash
            continue
        for phrase in theirs:
            chunk = chunk.replace(phrase, " ")
        found |= set(WORD.findall(chunk)) - allowed
    return found


def admin_urls() -> list[str]:
    """Every changelist, add page, and the change and history pages of up to three rows each."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        if model._meta.app_label not in APPS:
            continue
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls += [reverse(f"{name}_changelist"), reverse(f"{name}_add")]
        for pk in model.objects.order_by("pk").values_list("pk", flat=True)[:3]:
            urls.append(reverse(f"{name}_change", args=[pk]))
            try:
                urls.append(reverse(f"{name}_history", args=[pk]))
            except NoReverseMatch:
                pass
    return urls


@pytest.mark.parametrize("who", ["superuser", "supervision office"])
def test_admin_pages_show_no_english_the_project_owns(client, story, who):
    """Every admin page of the apps reads in Chinese by default: any English left is data or
    a string of Django and the libraries (listed above), never the project's own."""
    # given
    if who == "superuser":
        client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    else:
        client.force_login(story["office"])
    allowed = data_words() | KEPT_WORDS
    # when
    english, opened = {}, 0
    for url in admin_urls():
        response = client.get(url)
        if response.status_code == 403:  # an add page nobody may use, or not the office's
            continue
        assert response.status_code == 200, url
        opened += 1
        if words := english_on(response.content.decode(), url, allowed):
            english[url] = sorted(words)
    # then
    assert opened > 40
    assert english == {}


def project_models() -> list[type[models.Model]]:
    return [
        m
        for app in APPS
        for m in apps.get_app_config(app).get_models()
        if not m.__name__.startswith("Historical")
    ]


def chinese(text) -> bool:
    """Chinese, or no Latin word but those a Chinese administrator reads as they are."""
    text = str(text)
    return bool(CJK.search(text)) and not set(WORD.findall(text)) - KEPT_WORDS


@pytest.mark.parametrize("model", project_models(), ids=lambda m: m._meta.label)
def test_every_field_name_help_text_and_choice_is_chinese(model):
    """verbose_name(_plural), each field's verbose_name and help_text and each choice label
    of the apps' models are Chinese under the default language (the implicit id aside)."""
    with translation.override("zh-hans"):
        wrong = [
            (attr, str(getattr(model._meta, attr)))
            for attr in ("verbose_name", "verbose_name_plural")
            if not chinese(getattr(model._meta, attr))
        ]
        for field in model._meta.get_fields():
            if field.auto_created and not field.concrete or field.name == "id":
                continue
            if not chinese(field.verbose_name):
                wrong.append((field.name, str(field.verbose_name)))
            if field.help_text and not chinese(field.help_text):
                wrong.append((field.name, str(field.help_text)))
            for value, label in getattr(field, "flatchoices", None) or []:
                if not chinese(label):
                    wrong.append((field.name, value, str(label)))
    assert wrong == []


def project_admins() -> list[admin.ModelAdmin]:
    return [ma for m, ma in admin.site._registry.items() if m._meta.app_label in APPS]


@pytest.mark.parametrize("model_admin", project_admins(), ids=str)
def test_every_column_action_filter_and_inline_is_chinese(model_admin, rf):
    """The admin's own words: list columns that are methods, actions, filter titles, inlines."""
    with translation.override("zh-hans"):
        wrong = []
        for name in model_admin.list_display:
            column = getattr(model_admin, name, None) if isinstance(name, str) else name
            if callable(column) and not chinese(getattr(column, "short_description", "")):
                wrong.append(("column", name))
        for action in model_admin.actions or ():
            function = getattr(model_admin, action) if isinstance(action, str) else action
            if not chinese(getattr(function, "short_description", "")):
                wrong.append(("action", action))
        for list_filter in model_admin.list_filter:
            if isinstance(list_filter, type) and not chinese(list_filter.title):
                wrong.append(("filter", list_filter.__name__))
        for inline in model_admin.inlines:
            for title in (inline.verbose_name, inline.verbose_name_plural):
                if title is not None and not chinese(title):
                    wrong.append(("inline", inline.__name__, str(title)))
    assert wrong == []


def test_every_row_names_itself_in_chinese(story):
    """Each row's __str__ (the admin's titles, breadcrumbs and links) has no English of the
    project's: data aside, it is written in Chinese, points without trailing zeros."""
    allowed = data_words() | KEPT_WORDS
    with translation.override("zh-hans"):
        wrong = [
            (model._meta.label, str(row))
            for model in project_models()
            for row in model.objects.all()[:5]
            if set(WORD.findall(str(row))) - allowed or re.search(r"\d\.00", str(row))
        ]
    assert wrong == []
