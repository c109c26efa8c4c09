from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config.throttles import TokenApi

handler404 = "config.api.api_not_found"

api_patterns = [
    path("auth/token/", TokenApi.as_view(), name="auth-token"),
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
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]
if "bench.ceiling" in settings.INSTALLED_APPS:  # BENCH_CEILING=1 (make bench): the ceiling endpoint
    urlpatterns.append(path("bench/ceiling/", include("bench.ceiling.urls")))
