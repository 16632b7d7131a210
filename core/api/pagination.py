"""Lists answer {"count": N, "next": cursor, "results": [...]}, paged with limit and offset, or
with a cursor (keyset pagination).

`next` is an opaque cursor (URL-safe base64 of the last row's sort key values) while more
rows follow, else null. Given back as `cursor`, the next page is fetched by a WHERE on the
list's sort key, with no OFFSET: as fast deep in a large list as on its first page, and
stable while rows are added (no row is repeated or skipped). `count` is null when a cursor is
given or with `count=false`: counting a large list costs more than its page.
"""

import base64
import binascii
import datetime as dt
import json
import uuid
from collections.abc import Callable
from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist, FieldError
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy
from ninja import Field, Schema
from pydantic import create_model

PAGE_DEFAULT = 50
PAGE_MAX = 500
OFFSET_MAX = 10_000_000  # past any real list; a larger one would overflow the database
CURSOR_MAX = 2000  # characters: a sort key of a few values is far shorter
INT_BOUND = 2**63

BAD_CURSOR = gettext_lazy("分页游标无效或已不适用于该列表，请去掉 cursor 从第一页重新获取。")


class ListParams(Schema):
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX, description="每页条数（1–500）")
    offset: int = Field(0, ge=0, le=OFFSET_MAX, description="跳过的条数（给出 cursor 时不用）")
    cursor: str | None = Field(
        None,
        max_length=CURSOR_MAX,
        description="上一页答复中的 next：按排序键取下一页（不用 offset，也不计总数）",
    )
    count: bool = Field(True, description="是否计算总数 count；false 时 count 为 null，更快")


def page_of(item: type[Schema]) -> type[Schema]:
    """The answer schema of a list endpoint: {"count": N or null, "next": cursor or null,
    "results": [item, ...]}."""
    return create_model(
        f"{item.__name__}Page",
        __base__=Schema,
        count=(
            int | None,
            Field(..., description="总条数；给出 cursor 或 count=false 时为 null"),
        ),
        next=(
            str | None,
            Field(None, description="下一页的游标（作为 cursor 传回）；没有下一页时为 null"),
        ),
        results=(list[item], ...),
    )


def paginate(
    items: QuerySet | list,
    params: ListParams,
    *,
    rows_decorate: Callable[[list], object] | None = None,
) -> dict:
    """One page of a queryset (a count query unless skipped, and a sliced query) or of a list.

    `rows_decorate` is given the page's rows (after the slice, at most `limit` of them) to add
    what is worked out per row in Python, for these rows only (a node's light)."""
    if not isinstance(items, QuerySet):
        page = _paginate_list(items, params)
        if rows_decorate is not None:
            rows_decorate(page["results"])
        return page
    keys = _sort_keys(items)
    count = None if params.cursor is not None or not params.count else _count(items)
    page = items
    if params.cursor is not None and keys is None:
        raise DjangoValidationError({"cursor": [str(BAD_CURSOR)]})
    if params.cursor is not None:
        after = _after(items.model, keys, _decode(params.cursor, keys))
        try:
            page = page.filter(after)
        except (FieldError, FieldDoesNotExist, ValueError, TypeError, DjangoValidationError):
            raise DjangoValidationError({"cursor": [str(BAD_CURSOR)]}) from None
        rows = list(page[: params.limit + 1])
    else:
        rows = list(page[params.offset : params.offset + params.limit + 1])
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    if rows_decorate is not None:
        rows_decorate(rows)
    following = None
    if more and keys is not None:
        following = _encode(keys, [_key_value(rows[-1], name) for name, _ in keys])
    return {"count": count, "next": following, "results": rows}


def _paginate_list(items: list, params: ListParams) -> dict:
    """A list worked out in Python (a ranking): its cursor is the position of the next row."""
    start = params.offset
    if params.cursor is not None:
        position = _decode(params.cursor, [("#", False)])[0]
        if not isinstance(position, int) or not 0 <= position <= OFFSET_MAX:
            raise DjangoValidationError({"cursor": [str(BAD_CURSOR)]})
        start = position
    end = start + params.limit
    following = _encode([("#", False)], [end]) if end < len(items) else None
    count = None if params.cursor is not None or not params.count else len(items)
    return {"count": count, "next": following, "results": items[start:end]}


def _count(items: QuerySet) -> int:
    """How many objects: counted over their keys alone, so that the annotations a page shows
    (a node's light is a large expression) are neither selected nor compiled for the count
    unless a filter uses them."""
    if items._fields is not None:  # a values() queryset counts as it is
        return items.count()
    return items.order_by().values("pk").count()


def _sort_keys(items: QuerySet) -> list[tuple[str, bool]] | None:
    """The queryset's ORDER BY as (field path, descending) pairs, ending with the primary key
    so that the key is unique (ties on the sort key are broken by it, as the lists do); None
    when the order is not by field names (an expression): that list pages by offset only."""
    order = list(items.query.order_by or items.model._meta.ordering)
    if not order:
        return None
    keys = []
    for term in order:
        if not isinstance(term, str) or "?" in term or "." in term:
            return None
        descending = term.startswith("-")
        name = term.lstrip("-")
        keys.append(("pk" if name == "id" else name, descending))
    if not keys or keys[-1][0] != "pk":
        keys.append(("pk", keys[-1][1] if keys else False))
    return keys


def _key_value(row, name: str):
    if isinstance(row, dict):
        return row.get(name)
    value = row
    for part in name.split("__"):
        value = getattr(value, part, None)
        if value is None:
            return None
    return getattr(value, "pk", value) if hasattr(value, "_meta") else value


def _encode(keys, values) -> str:
    payload = {"k": [name for name, _ in keys], "v": values}
    raw = json.dumps(payload, default=_json_value, separators=(",", ":"), ensure_ascii=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _json_value(value):
    """Dates, instants (to the microsecond: a sort key must compare equal) and decimals as
    text, which the fields read back when the cursor is compared."""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"not a sort key value: {value!r}")


def _decode(cursor: str, keys) -> list:
    """The sort key values of a cursor made for a list of the same sort key; a bad one is the
    client's error (400), never the server's."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise DjangoValidationError({"cursor": [str(BAD_CURSOR)]}) from None
    if (
        not isinstance(payload, dict)
        or payload.get("k") != [name for name, _ in keys]
        or not isinstance(payload.get("v"), list)
        or len(payload["v"]) != len(keys)
        or not all(_plain(v) for v in payload["v"])
    ):
        raise DjangoValidationError({"cursor": [str(BAD_CURSOR)]})
    return payload["v"]


def _plain(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -INT_BOUND < value < INT_BOUND
    return value is None or (isinstance(value, str) and len(value) <= 200 and "\x00" not in value)


def _after(model, keys, values) -> Q:
    """Rows after the cursor's row in the list's order: (a > x) or (a = x and b > y) or ...,
    each comparison in its key's direction, with the first key's bound (a >= x) beside so that
    an index on the sort key answers it. The lists' sort keys are never null; a nullable one
    follows PostgreSQL's order (nulls last ascending, first descending)."""
    condition = Q(pk__in=[])
    equal = Q()
    for (name, descending), value in zip(keys, values, strict=True):
        if value is None:
            step = Q(**{f"{name}__isnull": False}) if descending else Q(pk__in=[])
            same = Q(**{f"{name}__isnull": True})
        else:
            step = Q(**{f"{name}__{'lt' if descending else 'gt'}": value})
            if not descending and _nullable(model, name):
                step |= Q(**{f"{name}__isnull": True})
            same = Q(**{name: value})
        condition |= equal & step
        equal &= same
    (first, descending), value = keys[0], values[0]
    if value is not None and not _nullable(model, first):
        condition &= Q(**{f"{first}__{'lte' if descending else 'gte'}": value})
    return condition


def _nullable(model, name: str) -> bool:
    """Whether a sort key (a field path such as project__code) may be null."""
    if name == "pk":
        return False
    for part in name.split("__"):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return True  # an annotation: let the comparison take care of nulls
        if field.null:
            return True
        if field.is_relation:
            model = field.related_model
    return False
