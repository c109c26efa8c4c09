"""The product's URLs and the bench's ceiling endpoint (see bench/settings.py)."""

from django.urls import include, path

from config.urls import urlpatterns as product_urlpatterns

urlpatterns = [*product_urlpatterns, path("bench/ceiling/", include("bench.ceiling.urls"))]
