"""The updater's console pages, mounted at /updater/ (namespace "updater")."""

from django.urls import path

from updater import views

app_name = "updater"

urlpatterns = [
    path("feeds/upload/", views.feed_upload_page, name="feed-upload"),
    path("imports/<int:pk>/errors.csv", views.feed_errors_csv, name="feed-errors"),
]
