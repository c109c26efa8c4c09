"""The operator console's pages, mounted at /jobs/ (namespace "jobs")."""

from django.contrib.auth import views as auth_views
from django.urls import path

from jobs import views, views_schedules

app_name = "jobs"

urlpatterns = [
    path("", views.dashboard_page, name="dashboard"),
    path("list/", views.job_list_page, name="list"),
    path("live/", views.job_list_live, name="list-live"),
    path("bulk/", views.job_bulk_action, name="bulk"),
    path("bulk/matching/", views.job_bulk_matching_action, name="bulk-matching"),
    path("<int:pk>/", views.job_detail_page, name="detail"),
    path("<int:pk>/live/", views.job_detail_live, name="detail-live"),
    path("<int:pk>/retry/", views.job_retry_action, name="retry"),
    path("<int:pk>/cancel/", views.job_cancel_action, name="cancel"),
    path("queues/<str:name>/pause/", views.queue_pause_action, name="queue-pause"),
    path("schedules/", views_schedules.schedule_list_page, name="schedules"),
    path("schedules/<str:name>/", views_schedules.schedule_detail_page, name="schedule-detail"),
    path("schedules/<str:name>/pause/", views_schedules.schedule_pause_action, name="schedule-pause"),
    path("schedules/<str:name>/resume/", views_schedules.schedule_resume_action, name="schedule-resume"),
    path("schedules/<str:name>/run-now/", views_schedules.schedule_run_now_action, name="schedule-run-now"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="jobs:login"), name="logout"),
]
