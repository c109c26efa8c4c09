from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

api_patterns = [
    path("auth/token/", obtain_auth_token, name="auth-token"),
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
