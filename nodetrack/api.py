"""The REST API (/api/v1/): the NinjaAPI instance, bearer-token auth, error bodies, shared schema bits.

Every error answers JSON: 400 {"detail", "errors": {field: [messages]}}, 401/403/404
{"detail"}, 409 {"detail", "code"}. The routers (projects, supervision, scoring) import
the helpers defined here; they are mounted when nodetrack.api_urls asks for the URLs.
"""

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer
from ninja.security import HttpBearer
from pydantic import BeforeValidator, PlainSerializer, create_model
from pydantic_core import PydanticCustomError

from nodetrack.errors import Conflict
from organization.tokens import api_token_authenticate

NON_FIELD = "__all__"
PAGE_DEFAULT = 50
PAGE_MAX = 500
OFFSET_MAX = 10_000_000  # past any real list; a larger one would overflow the database


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`, checked against the stored digests (organization.tokens)."""

    def authenticate(self, request: HttpRequest, token: str):
        user = api_token_authenticate(token)
        if user is None:
            raise AuthenticationError(message=str(BAD_TOKEN))
        # The history middleware reads request.user: changes made through the API are
        # recorded under the token's user, as in the browser.
        request.user = user
        return user


class Utf8JSONRenderer(JSONRenderer):
    """JSON with Chinese text as is, not as \\u escapes (the charset is utf-8)."""

    json_dumps_params: ClassVar[dict] = {"ensure_ascii": False}


class JSONObjectParser(Parser):
    """Request bodies are JSON objects; anything else (an array, a string, null) is refused
    like malformed JSON, instead of being read as an empty object."""

    def parse_body(self, request: HttpRequest):
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise TypeError("the request body is not a JSON object")
        if _has_nul(data):
            # PostgreSQL cannot store NUL in text: refuse it as invalid input, not a 500.
            raise TypeError("the request body contains a NUL character")
        return data


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class NodeTrackAPI(NinjaAPI):
    """The API whose routers are mounted when its URLs are first built."""

    @property
    def urls(self):
        _routers_register()
        return super().urls


api = NodeTrackAPI(
    title="NodeTrack API",
    version="1",
    description=(
        "节点督办 REST API。认证：请求头 `Authorization: Bearer <令牌>`，"
        "令牌由 `python manage.py create_api_token 用户名` 生成。"
        "列表接口接受 limit（默认 50，最大 500）与 offset，返回 {count, results}。"
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=BearerToken(),
    renderer=Utf8JSONRenderer(),
    parser=JSONObjectParser(),
)


# ---------------------------------------------------------------- shared schema bits


def _strict_date(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    # The message shown to clients comes from _PYDANTIC_MESSAGES["date_format"].
    raise PydanticCustomError("date_format", "date must be YYYY-MM-DD")


# A calendar date in the body or the query: exactly YYYY-MM-DD (no timestamps, no datetimes).
DateIn = Annotated[dt.date, BeforeValidator(_strict_date)]

# An instant in the answer: ISO 8601 in the county's local time, with its offset.
Instant = Annotated[
    dt.datetime, PlainSerializer(lambda v: timezone.localtime(v).isoformat(), return_type=str)
]


def decimal2(value: Decimal | int | None) -> str:
    """A decimal as a string with two places ("97.00")."""
    return f"{Decimal(value or 0).quantize(Decimal('0.01'))}"


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
    count = items.count() if isinstance(items, QuerySet) else len(items)
    return {"count": count, "results": list(items[params.offset : params.offset + params.limit])}


class Message(Schema):
    detail: str


class ConflictMessage(Schema):
    detail: str
    code: str


class ErrorMessage(Schema):
    detail: str
    errors: dict[str, list[str]]


# What each write endpoint may answer besides its success.
WRITE_ERRORS = {400: ErrorMessage, 401: Message, 403: Message, 404: Message, 409: ConflictMessage}
READ_ERRORS = {400: ErrorMessage, 401: Message, 404: Message}


# ---------------------------------------------------------------- error bodies

BODY_NOT_OBJECT = gettext_lazy("请求体须是有效的 JSON 对象。")
NO_TOKEN = gettext_lazy("未提供身份令牌：请在请求头中使用 Authorization: Bearer <令牌>。")
BAD_TOKEN = gettext_lazy("令牌无效、已吊销，或其用户已停用。")

_PYDANTIC_MESSAGES = {
    "missing": gettext_lazy("该字段为必填项。"),
    "int_type": gettext_lazy("请填写整数。"),
    "int_parsing": gettext_lazy("请填写整数。"),
    "int_from_float": gettext_lazy("请填写整数。"),
    "string_type": gettext_lazy("请填写文本。"),
    "bool_type": gettext_lazy("请填写 true 或 false。"),
    "bool_parsing": gettext_lazy("请填写 true 或 false。"),
    "greater_than_equal": gettext_lazy("不能小于 {ge}。"),
    "greater_than": gettext_lazy("须大于 {gt}。"),
    "less_than_equal": gettext_lazy("不能大于 {le}。"),
    "less_than": gettext_lazy("须小于 {lt}。"),
    "string_too_long": gettext_lazy("不能超过 {max_length} 个字符。"),
    "literal_error": gettext_lazy("取值无效，可选：{choices}。"),
    "enum": gettext_lazy("取值无效，可选：{choices}。"),
    "model_attributes_type": BODY_NOT_OBJECT,
    "model_type": BODY_NOT_OBJECT,
    "dict_type": BODY_NOT_OBJECT,
    "date_format": gettext_lazy("日期格式应为 YYYY-MM-DD，且须是有效日期。"),
    "date_type": gettext_lazy("日期格式应为 YYYY-MM-DD，且须是有效日期。"),
    "date_parsing": gettext_lazy("日期格式应为 YYYY-MM-DD，且须是有效日期。"),
    "date_from_datetime_parsing": gettext_lazy("日期格式应为 YYYY-MM-DD，且须是有效日期。"),
    "date_from_datetime_inexact": gettext_lazy("日期格式应为 YYYY-MM-DD，且须是有效日期。"),
}


def _field_of(loc: tuple) -> str:
    """The field a client sent, from a ninja error location: ("body", "payload", "percent") → "percent"."""
    source, *rest = loc
    if source == "body":
        rest = rest[1:]  # the view's parameter name, which the client never sees
    return ".".join(str(part) for part in rest) or NON_FIELD


def _message_of(error: dict, field: str) -> str:
    kind = error.get("type", "")
    if field == NON_FIELD and error["loc"][0] == "body":
        return str(BODY_NOT_OBJECT)  # no body at all where one is required
    template = _PYDANTIC_MESSAGES.get(kind)
    if template is None:
        return _("取值无效。")
    ctx = dict(error.get("ctx") or {})
    if "expected" in ctx:  # "'yellow' or 'red'" → "yellow、red"
        ctx["choices"] = "、".join(re.findall(r"'([^']*)'", str(ctx["expected"])))
    return str(template).format(**ctx)


def _json(request: HttpRequest, data: dict, status: int) -> HttpResponse:
    return api.create_response(request, data, status=status)


def _bad_request(request: HttpRequest, errors: dict[str, list[str]], detail: str | None = None):
    messages = [m for msgs in errors.values() for m in msgs]
    return _json(request, {"detail": detail or "；".join(messages), "errors": errors}, status=400)


@api.exception_handler(NinjaValidationError)
def _request_invalid(request, exc: NinjaValidationError):
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        field = _field_of(tuple(error["loc"]))
        errors.setdefault(field, []).append(_message_of(error, field))
    return _bad_request(request, errors, detail=_("请求参数有误。"))


@api.exception_handler(DjangoValidationError)
def _service_invalid(request, exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        errors = {field: list(messages) for field, messages in exc.message_dict.items()}
    else:
        errors = {NON_FIELD: list(exc.messages)}
    return _bad_request(request, errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc: AuthenticationError):
    # ninja raises the bare AuthenticationError when no bearer token came at all.
    detail = str(NO_TOKEN) if exc.message == "Unauthorized" else exc.message
    response = _json(request, {"detail": detail}, status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if exc.status_code == 400:  # ninja could not parse the body
        message = str(BODY_NOT_OBJECT)
        return _bad_request(request, {NON_FIELD: [message]}, detail=message)
    return _json(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc: PermissionDenied):
    return _json(request, {"detail": str(exc) or _("您没有执行该操作的权限。")}, status=403)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _json(request, {"detail": _("对象不存在，或不在您的查看范围内。")}, status=404)


api.add_exception_handler(ObjectDoesNotExist, _not_found)


@api.exception_handler(Conflict)
def _conflict(request, exc: Conflict):
    return _json(request, {"detail": exc.message, "code": exc.code}, status=409)


# ---------------------------------------------------------------- routers


_routers_mounted = False


def _routers_register() -> None:
    """Mount the apps' routers, once, when the URLconf first asks for the API's URLs.

    Done then rather than at import time because the routers import the helpers above:
    importing a router module first must not meet a half-initialised nodetrack.api.
    """
    global _routers_mounted
    if _routers_mounted:
        return
    _routers_mounted = True
    from projects.api import router as projects_router
    from scoring.api import router as scoring_router
    from supervision.api import router as supervision_router

    api.add_router("", projects_router)
    api.add_router("", supervision_router)
    api.add_router("", scoring_router)
