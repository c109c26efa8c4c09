from django.contrib import admin

from updater import selectors
from updater.models import Feed, Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "price", "currency", "stock", "active", "updated_at"]
    list_filter = ["active", "currency"]
    search_fields = ["sku", "name"]
    readonly_fields = ["created_at", "updated_at"]
    ordering = ["sku"]
    # Counting a catalogue of millions on every page would cost more than the page itself.
    show_full_result_count = False

    def get_queryset(self, request):
        return selectors.product_list()


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    """Feeds are facts of what was sent: shown, never edited."""

    list_display = ["id", "original_name", "format", "size", "rows", "uploaded_by", "created_at"]
    list_filter = ["format"]
    search_fields = ["original_name"]

    def get_queryset(self, request):
        return selectors.feed_list()

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
