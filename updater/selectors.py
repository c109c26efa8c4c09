"""Every read of the catalogue that is shown: the API, the admin and the pages go through these."""

from __future__ import annotations

from django.db.models import QuerySet

from updater.models import Feed, Product


def product_list() -> QuerySet[Product]:
    """All products in sku order (the API filters and paginates it)."""
    return Product.objects.order_by("sku")


def feed_list() -> QuerySet[Feed]:
    """Stored feeds, newest first, with who sent them."""
    return Feed.objects.select_related("uploaded_by")


def demo_feed_start(*, rows: int) -> int:
    """Where a demo feed of `rows` rows starts its skus so that half of them are already in a
    catalogue built from earlier demo feeds (SKU-00000000 upwards) and half are new."""
    return max(0, Product.objects.count() - rows // 2)
