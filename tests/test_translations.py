"""English translations: key strings, the login page in both languages, and a .mo that matches its .po."""

import ast
import gettext as stdlib_gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext

from supervision.choices import CardKind

MESSAGES = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PO, MO = MESSAGES / "django.po", MESSAGES / "django.mo"
CJK = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%|%[sd]|\{[a-z_]*\}")


# ---------------------------------------------------------------- a tiny .po reader


def read_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgid, msgid_plural, msgstr or msgstr[n], flags; obsolete ones skipped."""
    entries, entry, key = [], None, None

    def finish():
        if entry is not None and "msgid" in entry:
            entries.append(entry)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#,"):
            finish()
            entry, key = {"flags": {f.strip() for f in line[2:].split(",")}}, None
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            entry[key] += ast.literal_eval(line)
            continue
        keyword, _, value = line.partition(" ")
        if keyword == "msgid":
            if entry is not None and "msgid" in entry:
                finish()
                entry = None
            entry = entry or {"flags": set()}
        key = keyword
        entry[key] = ast.literal_eval(value)
    finish()
    return entries


PO_ENTRIES = read_po(PO)
TRANSLATED = [e for e in PO_ENTRIES if e["msgid"]]  # the header has an empty msgid


def _targets(entry: dict) -> list[str]:
    if "msgid_plural" in entry:
        return [entry[k] for k in sorted(entry) if k.startswith("msgstr[")]
    return [entry["msgstr"]]


# ---------------------------------------------------------------- (a) English


def test_key_terms_translate_to_english():
    with translation.override("en"):
        assert gettext("黄牌") == "Yellow card"
        assert gettext("红牌") == "Red card"
        assert gettext("重新承诺") == "Recommitment"
        assert gettext("重新承诺完成时间") == "Re-committed completion date"
        assert gettext("重点督办事项") == "Priority supervision item"
        assert gettext("督查办") == "Supervision office"
        assert gettext("乡镇(园区)") == "Township/park"
        assert gettext("收储收回") == "Land take-back"
        assert gettext("面积(亩)") == "Area (mu)"
        assert str(CardKind.YELLOW.label) == "Yellow card"


def test_english_keeps_placeholders_and_plurals():
    with translation.override("en"):
        title = gettext("%(project)s 节点“%(node)s”将于%(due)s到期") % {
            "project": "P1",
            "node": "N1",
            "due": "2026-12-01",
        }
        assert title == "Node “N1” of P1 is due on 2026-12-01"
        assert gettext("填报进度 %(percent)s%%") % {"percent": 40} == "Progress reported: 40%"
        assert gettext("不能超过 {max_length} 个字符。").format(max_length=20) == (
            "Must be at most 20 characters."
        )
        one = ngettext("已吊销 %(n)d 个令牌。", "已吊销 %(n)d 个令牌。", 1) % {"n": 1}
        two = ngettext("已吊销 %(n)d 个令牌。", "已吊销 %(n)d 个令牌。", 2) % {"n": 2}
        assert (one, two) == ("Revoked 1 token.", "Revoked 2 tokens.")


@pytest.mark.django_db
def test_login_page_in_english_once_chosen(client):
    # The site ignores Accept-Language; English comes from the language cookie set_language sets.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("login"))
    body = response.content.decode()
    assert response["Content-Language"] == "en"
    assert "Log in" in body and "Username" in body and "Password" in body
    # The only Chinese left is the switch back, which names Chinese in Chinese.
    assert CJK.findall(body.replace("简体中文", "")) == []


# ---------------------------------------------------------------- (b) Chinese by default


def test_default_language_is_chinese():
    assert settings.LANGUAGE_CODE == "zh-hans"
    with translation.override(settings.LANGUAGE_CODE):
        assert gettext("黄牌") == "黄牌"
        assert str(CardKind.YELLOW.label) == "黄牌"


@pytest.mark.django_db
def test_login_page_in_chinese_by_default(client):
    for headers in ({}, {"HTTP_ACCEPT_LANGUAGE": "en"}):
        response = client.get(reverse("login"), **headers)
        body = response.content.decode()
        assert response["Content-Language"] == "zh-hans"
        assert "登录" in body and "Log in" not in body


# ---------------------------------------------------------------- (c) the catalog itself


def test_every_entry_is_translated_and_not_fuzzy():
    assert len(TRANSLATED) > 300
    untranslated = [e["msgid"] for e in TRANSLATED if not all(_targets(e))]
    fuzzy = [e["msgid"] for e in PO_ENTRIES if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []


def test_translations_keep_every_placeholder():
    wrong = []
    for e in TRANSLATED:
        wanted = sorted(PLACEHOLDER.findall(e["msgid"]))
        for target in _targets(e):
            if sorted(PLACEHOLDER.findall(target)) != wanted:
                wrong.append((e["msgid"], target))
    assert wrong == []


def test_compiled_mo_matches_the_po():
    """Run compilemessages after editing the .po: the .mo must hold exactly what the .po says."""
    with MO.open("rb") as f:
        mo = stdlib_gettext.GNUTranslations(f)
    stale = []
    for e in TRANSLATED:
        if "msgid_plural" in e:
            got = [mo.ngettext(e["msgid"], e["msgid_plural"], n) for n in (1, 2)]
        else:
            got = [mo.gettext(e["msgid"])]
        if got != _targets(e):
            stale.append((e["msgid"], got, _targets(e)))
    assert stale == []
