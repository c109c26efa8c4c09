from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from django.contrib.staticfiles.storage import staticfiles_storage
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.throttles import TokenApi
from jobs import probes

handler404 = "config.api.api_not_found"

api_patterns = [
    path(
        "auth/token/",
        # Open (no token yet): a username and password, form or JSON; send the key as `Authorization: Token <key>`.
        extend_schema_view(post=extend_schema(operation_id="token_obtain", tags=["auth"], auth=[]))(TokenApi).as_view(),
        name="auth-token",
    ),
    path("", include("jobs.api.urls")),
    path("", include("updater.api.urls")),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="jobs:dashboard"), name="home"),
    path("admin/", admin.site.urls),
    path("jobs/", include("jobs.urls")),
    path("updater/", include("updater.urls")),
    path("api/v1/", include((api_patterns, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", probes.healthz, name="healthz"),
    path("readyz", probes.readyz, name="readyz"),
    path("metrics", probes.metrics_view, name="metrics"),
    path("favicon.ico", RedirectView.as_view(url=staticfiles_storage.url("favicon.svg"), permanent=True)),
]
