from django.urls import path

from updater.api import views

urlpatterns = [
    path("updates/", views.UpdateCreateApi.as_view(), name="update-create"),
    path("updates/sync/", views.UpdateSyncApi.as_view(), name="update-sync"),
    path("products/", views.ProductListApi.as_view(), name="product-list"),
]
