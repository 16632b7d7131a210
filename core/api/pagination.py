"""Lists answer {"count": N, "results": [...]}, paged with limit and offset."""

from django.db.models import QuerySet
from ninja import Field, Schema
from pydantic import create_model

PAGE_DEFAULT = 50
PAGE_MAX = 500
OFFSET_MAX = 10_000_000  # past any real list; a larger one would overflow the database


class ListParams(Schema):
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX, description="每页条数（1–500）")
    offset: int = Field(0, ge=0, le=OFFSET_MAX, description="跳过的条数")


def page_of(item: type[Schema]) -> type[Schema]:
    """The answer schema of a list endpoint: {"count": N, "results": [item, ...]}."""
    return create_model(
        f"{item.__name__}Page", __base__=Schema, count=(int, ...), results=(list[item], ...)
    )


def paginate(items: QuerySet | list, params: ListParams) -> dict:
    """One page of a queryset (a count query and a sliced query) or of a list."""
    count = _count(items) if isinstance(items, QuerySet) else len(items)
    return {"count": count, "results": list(items[params.offset : params.offset + params.limit])}


def _count(items: QuerySet) -> int:
    """How many objects: counted over their keys alone, so that the annotations a page shows
    (a node's light is a large expression) are neither selected nor compiled for the count
    unless a filter uses them."""
    if items._fields is not None:  # a values() queryset counts as it is
        return items.count()
    return items.order_by().values("pk").count()
