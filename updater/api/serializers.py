from rest_framework import serializers

from config.fields import StrictFloatField
from updater.models import Product


class UpdateOptionsSerializer(serializers.Serializer):
    """Parses the run options; their ranges are checked by the service (`import_options_clean`)."""

    chunk_size = serializers.IntegerField(required=False, help_text="Rows per transaction, 1 to 50000.")
    max_rows_per_second = serializers.IntegerField(required=False, help_text="Throttle; 0 (the default) means none.")
    pause_seconds = StrictFloatField(required=False, help_text="Seconds to pause between chunks, up to 3600.")


class UpdateCreateSerializer(UpdateOptionsSerializer):
    """A feed file (multipart field `file`: CSV with a header row, or JSON Lines) or a JSON body
    `{"rows": [{"sku": ..., "price": ...}, ...]}`; not both."""

    # An empty file passes here so that the feed checks explain it like every other bad feed.
    file = serializers.FileField(required=False, allow_empty_file=True)
    rows = serializers.ListField(child=serializers.DictField(), required=False, allow_empty=False)

    def validate(self, data: dict) -> dict:
        if ("file" in data) == ("rows" in data):
            raise serializers.ValidationError(
                {"file": ['Send a feed file (multipart field "file") or a JSON body {"rows": [...]}, not both.']}
            )
        return data


class UpdateSyncSerializer(UpdateCreateSerializer):
    max_rows_per_second = None  # the baseline runs flat out inside the request
    pause_seconds = None


class ImportSummarySerializer(serializers.Serializer):
    """What an import did (the job's result, or the synchronous endpoint's answer)."""

    feed_id = serializers.IntegerField()
    format = serializers.CharField()
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    invalid = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())
    errors_omitted = serializers.IntegerField()
    chunks = serializers.IntegerField()
    duration_seconds = serializers.FloatField()
    throttled_seconds = serializers.FloatField()
    rows_per_second = serializers.FloatField(allow_null=True)


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["sku", "name", "price", "currency", "stock", "active", "created_at", "updated_at"]
        read_only_fields = fields
