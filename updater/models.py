"""The product catalogue and the feeds applied to it.

Products are written in bulk by raw upserts (`updater.upsert`), so every default a new row needs
lives in the database (`db_default`): a partial feed inserts a product with only the columns it has."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone


class Product(models.Model):
    """One catalogue entry, keyed by `sku`. `price` is NULL until a feed gives one (never a made-up 0)."""

    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True, default="", db_default="")
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="", db_default="", help_text="ISO 4217")
    stock = models.PositiveIntegerField(default=0, db_default=0)
    active = models.BooleanField(default=True, db_default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    # Moves only when a value changed: an import that changes nothing leaves it (and the row) alone.
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        ordering = ["sku"]
        indexes = [models.Index(fields=["updated_at"], name="product_updated_idx")]
        constraints = [
            # A constraint rather than unique=True: on PostgreSQL the field option adds a second
            # (LIKE pattern) index that every insert would pay for and no query uses.
            models.UniqueConstraint(fields=["sku"], name="product_sku_unique"),
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(condition=~Q(sku=""), name="product_sku_not_empty"),
        ]

    def __str__(self) -> str:
        return self.sku


class Feed(models.Model):
    """An uploaded feed, kept in Django's file storage: a job's arguments carry only its id."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSONL = "jsonl", "JSON Lines"

    file = models.FileField(upload_to="feeds/%Y/%m/%d/")
    original_name = models.CharField(max_length=255, blank=True, default="")
    format = models.CharField(max_length=8, choices=Format.choices)
    size = models.PositiveBigIntegerField(help_text="bytes")
    columns = models.JSONField(default=list, help_text="columns of the header (CSV) or first row (JSONL)")
    rows = models.PositiveIntegerField(null=True, blank=True, help_text="data lines, counted when imported")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="feeds"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"feed #{self.pk} {self.original_name}"
