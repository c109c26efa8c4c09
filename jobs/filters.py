import django_filters

from jobs.datetimes import BoundedIsoDateTimeFilter
from jobs.models import Job


class JobFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Job.Status.choices)
    handler = django_filters.CharFilter()
    queue = django_filters.CharFilter()
    trace_id = django_filters.CharFilter()
    created_after = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Job
        fields = ["status", "handler", "queue", "trace_id"]
