"""The URLs of the bulletins (通报)."""

from django.urls import path

from ..views import bulletins

urlpatterns = [
    path("bulletins/", bulletins.bulletin_list_page, name="bulletins"),
    path("bulletins/generate/", bulletins.bulletin_generate_page, name="bulletin-generate"),
    path("bulletins/<int:bulletin_id>/", bulletins.bulletin_detail, name="bulletin-detail"),
    path("bulletins/<int:bulletin_id>/pdf/", bulletins.bulletin_pdf, name="bulletin-pdf"),
    path(
        "bulletins/<int:bulletin_id>/publish/",
        bulletins.bulletin_publish_page,
        name="bulletin-publish",
    ),
]
