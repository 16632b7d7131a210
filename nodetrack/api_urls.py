"""URLs of the REST API, included at /api/v1/ by nodetrack.urls.

The API authenticates with bearer tokens and answers 401 JSON itself, so its views are
exempt from LoginRequiredMiddleware's redirect to the login page (and ninja exempts them
from CSRF: no cookie session is used).
"""

from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, URLResolver

from .api import api


def _exempt_from_login(patterns: list) -> list:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _exempt_from_login(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            login_not_required(pattern.callback)
    return patterns


# The namespace ninja reverses its own URLs in (api:openapi-json for the docs page).
app_name = api.urls_namespace
urlpatterns = _exempt_from_login(api.urls[0])
