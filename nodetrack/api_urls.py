"""URLs of the REST API, included at /api/v1/ by nodetrack.urls.

The API authenticates with bearer tokens and answers 401 JSON itself, so its views are
exempt from LoginRequiredMiddleware's redirect to the login page (and ninja exempts them
from CSRF: no cookie session is used).

Every answer under /api/ is JSON, errors included: a wrong method answers 405 JSON (with
its Allow header), and the root URLconf's error handlers (nodetrack.urls) answer 400,
403, 404 and 500 as JSON for /api/ paths — a malformed id such as /api/v1/nodes/abc/
matches no route, so it is Django's 404, not the operation's.
"""

from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, URLResolver
from django.utils.translation import gettext as _
from django.views import defaults

from core.api.base import BAD_REQUEST, NOT_ALLOWED, NOT_FOUND, SERVER_ERROR, json_error

from .api import api

API_PREFIX = "/api/"


def _json_when_not_allowed(view):
    """The view, answering a wrong method with 405 JSON instead of ninja's plain text."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and response.get("Content-Type", "").startswith("text/"):
            allowed = response.get("Allow", "")
            answer = json_error(
                405, str(NOT_ALLOWED) % {"method": request.method, "allowed": allowed}
            )
            answer["Allow"] = allowed
            return answer
        return response

    return wrapped


def _api_views(patterns: list) -> list:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _api_views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            pattern.callback = login_not_required(_json_when_not_allowed(pattern.callback))
    return patterns


# The namespace ninja reverses its own URLs in (api:openapi-json for the docs page).
app_name = api.urls_namespace
urlpatterns = _api_views(api.urls[0])


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def bad_request(request, exception):
    if _is_api(request):
        return json_error(400, str(BAD_REQUEST))
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _is_api(request):
        return json_error(403, str(exception) or _("您没有执行该操作的权限。"))
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if _is_api(request):
        return json_error(404, str(NOT_FOUND))
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return json_error(500, str(SERVER_ERROR))
    return defaults.server_error(request)
