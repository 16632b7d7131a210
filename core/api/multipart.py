"""A body that is JSON, or multipart/form-data with files, at the same URL.

Clients that send evidence files post multipart/form-data: the schema's fields as form
fields and the files under `files`. Everyone else keeps posting JSON, read exactly as
before (the same parser, the same errors). django-ninja reads a body from JSON only, and
mixing `Form`/`File` parameters into an operation would turn its JSON body into a form
field, so the body parameter says where to read from by the request's Content-Type:

    def nodes_progress(request, node_id: int, payload: ProgressIn = JsonOrMultipart(...)):
        files = uploaded_files(request)

Form fields arrive as text; an integer field declared `FormInt` takes "50" from a form
(never from JSON, where the string stays an error as before).
"""

import re
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.params.models import BodyModel
from ninja.params.models import Param as _ParamInfo
from pydantic import BeforeValidator, StrictInt, ValidationInfo

MULTIPART = "multipart/form-data"
FILES_FIELD = "files"
_INTEGER = re.compile(r"[+-]?\d{1,9}")


def is_multipart(request: HttpRequest) -> bool:
    return request.content_type == MULTIPART


class JsonOrMultipartModel(BodyModel):
    """A body read as JSON (ninja's way) or, for multipart/form-data, from the form fields."""

    @classmethod
    def get_request_data(cls, request, api, path_params):
        if not is_multipart(request):
            data = super().get_request_data(request, api, path_params)
            varname = getattr(cls, "__read_from_single_attr__", None)
            if varname and data == {varname: None}:
                return None  # a JSON `null` body is no body, as an empty one
            return data
        # request.POST parses the stream without loading it whole: files go to temporary
        # files, so a large photo is refused by its size check, not by a memory limit.
        data = {key: request.POST.get(key) for key in request.POST}
        nul = [key for key, value in data.items() if "\x00" in key or "\x00" in (value or "")]
        if nul:
            raise ValidationError({key: [_("不能包含空字符。")] for key in nul})
        varname = getattr(cls, "__read_from_single_attr__", None)
        return {varname: data} if varname else data


class JsonOrMultipartParam(_ParamInfo):
    _model = JsonOrMultipartModel

    @classmethod
    def _param_source(cls) -> str:
        return "body"


def JsonOrMultipart(default: Any = ..., **kwargs) -> Any:  # noqa: N802 (as ninja's Body)
    """The body parameter of an endpoint that takes JSON or multipart/form-data."""
    return JsonOrMultipartParam(default, **kwargs)


def _int_from_form(value: Any, info: ValidationInfo) -> Any:
    request = (info.context or {}).get("request")
    if (
        isinstance(value, str)
        and request is not None
        and is_multipart(request)
        and _INTEGER.fullmatch(value.strip())
    ):
        return int(value.strip())
    return value


FormInt = Annotated[StrictInt, BeforeValidator(_int_from_form)]


def uploaded_files(request: HttpRequest) -> list:
    """The files a multipart request carries under `files` (none for JSON)."""
    return request.FILES.getlist(FILES_FIELD) if is_multipart(request) else []


def multipart_openapi(schema_name: str, *, description: str) -> dict:
    """The operation's OpenAPI note that it also takes multipart/form-data: `schema_name`'s
    fields as form fields and `files`, a list of binary files."""
    return {
        "requestBody": {
            "content": {
                MULTIPART: {
                    "schema": {
                        "allOf": [
                            {"$ref": f"#/components/schemas/{schema_name}"},
                            {
                                "type": "object",
                                "properties": {
                                    FILES_FIELD: {
                                        "type": "array",
                                        "items": {"type": "string", "format": "binary"},
                                        "description": description,
                                    }
                                },
                            },
                        ]
                    }
                }
            }
        }
    }
