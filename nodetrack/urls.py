from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language

admin.site.site_header = _("节点督办 管理后台")
admin.site.site_title = _("节点督办")
admin.site.index_title = _("管理")

urlpatterns = [
    path("", include("supervision.urls")),
    path("", include("ledger.urls")),
    path("", include("reports.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("api/v1/", include("nodetrack.api_urls")),
]
# Uploaded files are never served from MEDIA_ROOT: the attachment view checks who may see
# the node first (supervision.views.staff.attachment_download).

# Pages keep Django's error pages; under /api/ every error answers JSON (nodetrack.api_urls).
handler400 = "nodetrack.api_urls.bad_request"
handler403 = "nodetrack.api_urls.permission_denied"
handler404 = "nodetrack.api_urls.page_not_found"
handler500 = "nodetrack.api_urls.server_error"
