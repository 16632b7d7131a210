"""PDFs of pages (the battle map, bulletins), drawn by WeasyPrint on the server.

Only the app's own static files are ever fetched while drawing: county networks are closed,
and a page's content must not make the server reach anywhere else.
"""

import mimetypes
from functools import cache
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.template.loader import render_to_string

BASE_URL = "http://nodetrack.invalid/"


class ForbiddenFetch(ValueError):
    """A drawn page referred to something that is not one of the app's static files."""


@cache
def _fetcher_class():
    """StaticOnlyFetcher, built on first use: WeasyPrint (with Pango) takes half a second to
    import, which every process would otherwise pay on its first request of any page."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        """Resolves /static/… to the file the static finders know; refuses every other
        address."""

        def fetch(self, url, headers=None):
            return URLFetcherResponse(url, *_static_file(url))

    return StaticOnlyFetcher


def _static_file(url: str) -> tuple[bytes, dict]:
    """The body and headers of one of the app's static files, by its URL; ForbiddenFetch for
    any other address."""
    parts = urlsplit(url)
    static_url = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/static/"
    if parts.netloc != urlsplit(BASE_URL).netloc or not parts.path.startswith(static_url):
        raise ForbiddenFetch(url)
    path = finders.find(parts.path[len(static_url) :])
    if not path:
        raise ForbiddenFetch(url)
    with open(path, "rb") as handle:
        body = handle.read()
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return body, {"Content-Type": content_type}


def pdf_bytes(html: str) -> bytes:
    """The PDF of an HTML document, its page size from the document's own @page rule."""
    import weasyprint

    document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=_fetcher_class()())
    return document.write_pdf()


def pdf_response(request, template_name: str, context: dict, filename: str) -> HttpResponse:
    """A download of the template drawn as a PDF."""
    html = render_to_string(template_name, context, request=request)
    response = HttpResponse(pdf_bytes(html), content_type="application/pdf")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}.pdf"
    return response
