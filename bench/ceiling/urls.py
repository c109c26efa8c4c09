from django.urls import path

from bench.ceiling.views import CeilingInsertApi

urlpatterns = [path("", CeilingInsertApi.as_view(), name="bench-ceiling")]
