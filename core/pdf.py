"""PDFs of pages (the battle map, bulletins), drawn by WeasyPrint on the server.

Only the app's own static files are ever fetched while drawing: county networks are closed,
and a page's content must not make the server reach anywhere else.
"""

import mimetypes
from urllib.parse import quote, urlsplit

import weasyprint
from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.template.loader import render_to_string
from weasyprint.urls import URLFetcher, URLFetcherResponse

BASE_URL = "http://nodetrack.invalid/"


class ForbiddenFetch(ValueError):
    """A drawn page referred to something that is not one of the app's static files."""


class StaticOnlyFetcher(URLFetcher):
    """Resolves /static/… to the file the static finders know; refuses every other address."""

    def fetch(self, url, headers=None):
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
        return URLFetcherResponse(url, body, {"Content-Type": content_type})


def pdf_bytes(html: str) -> bytes:
    """The PDF of an HTML document, its page size from the document's own @page rule."""
    document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher())
    return document.write_pdf()


def pdf_response(request, template_name: str, context: dict, filename: str) -> HttpResponse:
    """A download of the template drawn as a PDF."""
    html = render_to_string(template_name, context, request=request)
    response = HttpResponse(pdf_bytes(html), content_type="application/pdf")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}.pdf"
    return response
