"""Date-time input every door shares: ISO 8601 with a time-zone offset the databases accept.

PostgreSQL refuses offsets beyond ±15:59 and Python cannot move the first and last instants of its
calendar to UTC; either used to surface as a 500. `check_offset` turns them into a field error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import django_filters
from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError

MAX_OFFSET = timedelta(hours=15, minutes=59)


def check_offset(value: datetime | None) -> None:
    """Raise ValidationError for an offset beyond ±15:59, or a time that has no UTC equivalent."""
    if value is None or value.tzinfo is None:
        return
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        raise ValidationError("Time-zone offsets must lie within ±15:59.", code="offset")
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValidationError("This time is out of range.", code="range") from None


class BoundedIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """Given but empty (`?created_after=`) is an error unless `blank` (an HTML form sends its empty
    fields; an API client that sends one has made a mistake the schema forbids)."""

    default_validators = [check_offset]

    def __init__(self, *args, blank: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.blank = blank

    def clean(self, value):
        if value == "" and not self.blank:
            raise ValidationError("Enter a date and time, e.g. 2030-01-01T12:00:00Z, or leave the parameter out.")
        return super().clean(value)

    def to_python(self, value):
        try:
            return super().to_python(value)
        except (OverflowError, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """django-filter's ISO 8601 filter, refusing what `check_offset` refuses (400 naming the field)."""

    field_class = BoundedIsoDateTimeField


class BoundedDateFieldListFilter(admin.DateFieldListFilter):
    """The admin's date filter; a hand-made URL with an impossible offset shows the admin's own
    "invalid lookup" notice instead of a 500."""

    def queryset(self, request, queryset):
        field = forms.DateTimeField()
        for value in self.used_parameters.values():
            for item in value if isinstance(value, list) else [value]:
                try:
                    check_offset(field.clean(item))
                except ValidationError as exc:
                    raise IncorrectLookupParameters(exc) from None
        return super().queryset(request, queryset)
