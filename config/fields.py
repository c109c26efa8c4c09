"""Request fields that take only their own JSON type. DRF's CharField turns a number into text and its
FloatField takes `false` as 0.0: a client that sends the wrong type gets a 400 naming the field, not a
guess (the OpenAPI schema says string and number, and schemathesis checks we mean it)."""

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class RefuseUnknownFields:
    """A serializer mixin: a field it does not know is a 400, since a client sending an option this
    version lacks must not believe it was applied. (In to_internal_value, not validate: a list's
    items have no initial_data.)"""

    def to_internal_value(self, data) -> dict:
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)
