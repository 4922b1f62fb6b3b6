from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.health import healthz

# Under /api/, unknown addresses, requests refused before any view and server errors answer the
# API's JSON error body, not an HTML page.
handler400 = "core.api_errors.bad_request"
handler404 = "core.api_errors.page_not_found"
handler500 = "core.api_errors.server_error"
# Under /admin/, a refusal is a page of the admin (templates/admin/403.html); elsewhere 403.html.
handler403 = "core.admin_kit.permission_denied_page"

admin.site.site_header = admin.site.site_title = settings.SPECTACULAR_SETTINGS["TITLE"].replace(" API", "")

api_v1 = [
    path("members/", include("members.api_urls")),
    path("hardship/", include("hardship.api_urls")),
    path("vouchers/", include("vouchers.api_urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("core.urls")),
    path("hardship/", include("hardship.urls")),
    path("vouchers/", include("vouchers.urls")),
    path("", include("members.urls")),
]
