from django.db import models
from django.utils import timezone


class CeilingRow(models.Model):
    """One row per request: the least an endpoint that records something can write."""

    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
