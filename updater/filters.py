import django_filters

from jobs.datetimes import BoundedIsoDateTimeFilter
from updater.models import Product

_BOOLEAN = (("true", "true"), ("false", "false"), ("1", "1"), ("0", "0"))


class ProductFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter()
    currency = django_filters.CharFilter()
    # A choice, not a BooleanFilter: an unreadable value is a 400, not silently no filter.
    active = django_filters.TypedChoiceFilter(choices=_BOOLEAN, coerce=lambda value: value in ("true", "1"))
    updated_since = BoundedIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Product
        fields = ["sku", "currency", "active"]
