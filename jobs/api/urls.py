from django.urls import path

from jobs.api import schedule_views, views

urlpatterns = [
    path("jobs/", views.JobListEnqueueApi.as_view(), name="job-list"),
    path("jobs/batch/", views.JobBatchEnqueueApi.as_view(), name="job-batch"),
    path("jobs/retry/", views.JobRetryMatchingApi.as_view(), name="job-retry-matching"),
    path("jobs/cancel/", views.JobCancelMatchingApi.as_view(), name="job-cancel-matching"),
    path("jobs/<int:pk>/", views.JobDetailApi.as_view(), name="job-detail"),
    path("jobs/<int:pk>/retry/", views.JobRetryApi.as_view(), name="job-retry"),
    path("jobs/<int:pk>/cancel/", views.JobCancelApi.as_view(), name="job-cancel"),
    path("queues/", views.QueueListApi.as_view(), name="queue-list"),
    path("queues/<str:name>/pause/", views.QueuePauseApi.as_view(), name="queue-pause"),
    path("queues/<str:name>/resume/", views.QueueResumeApi.as_view(), name="queue-resume"),
    path("schedules/", schedule_views.ScheduleListCreateApi.as_view(), name="schedule-list"),
    path("schedules/<slug:name>/", schedule_views.ScheduleDetailApi.as_view(), name="schedule-detail"),
    path("schedules/<slug:name>/pause/", schedule_views.SchedulePauseApi.as_view(), name="schedule-pause"),
    path("schedules/<slug:name>/resume/", schedule_views.ScheduleResumeApi.as_view(), name="schedule-resume"),
    path("schedules/<slug:name>/run-now/", schedule_views.ScheduleRunNowApi.as_view(), name="schedule-run-now"),
]
