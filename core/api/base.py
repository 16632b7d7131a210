"""The API's base: JSON bodies in and out, and every error answered as JSON in Chinese.

Every error answers JSON: 400 {"detail", "errors": {field: [messages]}}, 401/403/404
{"detail"}, 409 {"detail", "code"}. The project's API instance (nodetrack.api) is one of
these, with its authentication and the apps' routers.
"""

import re
from functools import partial
from typing import ClassVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer

from core.errors import Conflict

NON_FIELD = "__all__"


BODY_NOT_OBJECT = gettext_lazy("请求体须是有效的 JSON 对象。")
NO_TOKEN = gettext_lazy("未提供身份令牌：请在请求头中使用 Authorization: Bearer <令牌>。")
BAD_TOKEN = gettext_lazy("令牌无效、已吊销，或其用户已停用。")
UNSTORABLE_TEXT = gettext_lazy("不能包含空字符或无效的 Unicode 字符（如单独的代理项）。")

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


def _json(api: NinjaAPI, request: HttpRequest, data: dict, status: int) -> HttpResponse:
    return api.create_response(request, data, status=status)


def _bad_request(
    api: NinjaAPI, request: HttpRequest, errors: dict[str, list[str]], detail: str | None = None
):
    messages = [m for msgs in errors.values() for m in msgs]
    return _json(
        api, request, {"detail": detail or "；".join(messages), "errors": errors}, status=400
    )


def _request_invalid(api: NinjaAPI, request, exc: NinjaValidationError):
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        field = _field_of(tuple(error["loc"]))
        errors.setdefault(field, []).append(_message_of(error, field))
    return _bad_request(api, request, errors, detail=_("请求参数有误。"))


def _service_invalid(api: NinjaAPI, request, exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        errors = {field: list(messages) for field, messages in exc.message_dict.items()}
    else:
        errors = {NON_FIELD: list(exc.messages)}
    return _bad_request(api, request, errors)


def _unauthenticated(api: NinjaAPI, request, exc: AuthenticationError):
    # ninja raises the bare AuthenticationError when no bearer token came at all.
    detail = str(NO_TOKEN) if exc.message == "Unauthorized" else exc.message
    response = _json(api, request, {"detail": detail}, status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response


def _http_error(api: NinjaAPI, request, exc: HttpError):
    if isinstance(exc.__cause__, UnstorableText):  # the parser found NUL or a lone surrogate
        message = str(UNSTORABLE_TEXT)
        errors = {field: [message] for field in exc.__cause__.fields}
        return _bad_request(api, request, errors, detail=_("请求参数有误。"))
    if exc.status_code == 400:  # ninja could not parse the body
        message = str(BODY_NOT_OBJECT)
        return _bad_request(api, request, {NON_FIELD: [message]}, detail=message)
    return _json(api, request, {"detail": str(exc)}, status=exc.status_code)


def _forbidden(api: NinjaAPI, request, exc: PermissionDenied):
    return _json(api, request, {"detail": str(exc) or _("您没有执行该操作的权限。")}, status=403)


def _not_found(api: NinjaAPI, request, exc):
    return _json(api, request, {"detail": str(NOT_FOUND)}, status=404)


def _conflict(api: NinjaAPI, request, exc: Conflict):
    return _json(api, request, {"detail": exc.message, "code": exc.code}, status=409)


class Utf8JSONRenderer(JSONRenderer):
    """JSON with Chinese text as is, not as \\u escapes (the charset is utf-8)."""

    json_dumps_params: ClassVar[dict] = {"ensure_ascii": False}


class UnstorableText(ValueError):
    """Text no database can store: a NUL character or a lone UTF-16 surrogate, in `fields`."""

    def __init__(self, fields: list[str]):
        super().__init__("the request body contains text that cannot be stored")
        self.fields = fields


class JSONObjectParser(Parser):
    """Request bodies are JSON objects; anything else (an array, a string) is refused like
    malformed JSON, instead of being read as an empty object. A `null` body is no body: an
    operation whose body is optional takes it, one whose body is required answers 400."""

    def parse_body(self, request: HttpRequest):
        data = super().parse_body(request)
        if data is None:
            return None
        if not isinstance(data, dict):
            raise TypeError("the request body is not a JSON object")
        fields = unstorable_fields(data)
        if fields:
            # PostgreSQL cannot store NUL in text, and no database can encode a lone
            # surrogate ("x\ud800y" is valid JSON): refuse them as invalid input, not a 500.
            raise UnstorableText(fields)
        return data


def _unstorable(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _printable(key) -> str:
    """A key as the client can read it back: lone surrogates written as \\udXXX escapes."""
    return str(key).encode("utf-8", "backslashreplace").decode("utf-8")


def unstorable_fields(value, path: str = "") -> list[str]:
    """The fields (dotted paths, NON_FIELD for the body itself) whose key or text holds a NUL
    or a lone surrogate, at any depth."""
    if isinstance(value, str):
        return [path or NON_FIELD] if _unstorable(value) else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            field = f"{path}.{_printable(key)}" if path else _printable(key)
            if _unstorable(str(key)):
                found.append(field)
            else:
                found.extend(unstorable_fields(item, field))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(unstorable_fields(item, f"{path}.{index}" if path else str(index)))
    return found


_HANDLERS = (
    (NinjaValidationError, _request_invalid),
    (DjangoValidationError, _service_invalid),
    (AuthenticationError, _unauthenticated),
    (HttpError, _http_error),
    (PermissionDenied, _forbidden),
    (Http404, _not_found),
    (ObjectDoesNotExist, _not_found),
    (Conflict, _conflict),
)


class NodeTrackAPI(NinjaAPI):
    """A NinjaAPI that reads JSON objects, writes UTF-8 JSON and answers every error as above."""

    def __init__(self, **kwargs):
        kwargs.setdefault("renderer", Utf8JSONRenderer())
        kwargs.setdefault("parser", JSONObjectParser())
        super().__init__(**kwargs)
        for exc_class, handler in _HANDLERS:
            self.add_exception_handler(exc_class, partial(handler, self))
        self._openapi_schemas: dict = {}

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """The OpenAPI document, built once per process (per path prefix and language: its
        descriptions are translated) instead of on every request of /openapi.json; the
        routes are fixed once the URLconf is loaded. Callers must not change it."""
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        key = (path_prefix, get_language())
        schema = self._openapi_schemas.get(key)
        if schema is None:
            schema = super().get_openapi_schema(path_prefix=path_prefix)
            self._openapi_schemas[key] = schema
        return schema


def json_error(status: int, detail: str, **extra) -> JsonResponse:
    """An error answered outside a ninja operation (no route, wrong method, a crash), shaped
    like the operations' own: 400 also carries `errors`."""
    body = {"detail": detail, **extra}
    if status == 400:
        body.setdefault("errors", {NON_FIELD: [detail]})
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


NOT_FOUND = gettext_lazy("对象不存在，或不在您的查看范围内。")
NOT_ALLOWED = gettext_lazy("该地址不接受 %(method)s 请求，可用：%(allowed)s。")
BAD_REQUEST = gettext_lazy("请求无法处理。")
SERVER_ERROR = gettext_lazy("服务器内部错误，请稍后重试。")
