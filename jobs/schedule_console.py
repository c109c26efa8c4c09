"""What the schedule pages and admin need besides selectors: the list's filters, and whether to offer
an action (the rule is jobs.permissions.schedule_check_may, which the services apply again)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from jobs.exceptions import PermissionDenied
from jobs.models import Schedule
from jobs.permissions import schedule_check_may
from jobs.registry import all_handlers

STATES = [("enabled", "enabled"), ("paused", "paused")]


def schedule_may(user, action: str) -> bool:
    """`view`, `add`, `change` or `delete` schedules: whether a page shows the link or the button."""
    try:
        schedule_check_may(by=user, action=action)
    except PermissionDenied:
        return False
    return True


def _handler_choices() -> list[tuple[str, str]]:
    return [(spec.name, spec.name) for spec in all_handlers()]


class SchedulePageFilter(django_filters.FilterSet):
    """Schedules are a few dozen rows: a substring search costs nothing here, unlike on jobs."""

    kind = django_filters.ChoiceFilter(choices=Schedule.Kind.choices, empty_label="any kind")
    state = django_filters.ChoiceFilter(choices=STATES, method="filter_state", empty_label="any state")
    handler = django_filters.ChoiceFilter(choices=_handler_choices, empty_label="any handler")
    q = django_filters.CharFilter(method="search", label="Search", max_length=100)

    class Meta:
        model = Schedule
        fields = ["kind", "handler"]

    def filter_state(self, queryset: QuerySet[Schedule], name: str, value: str) -> QuerySet[Schedule]:
        return queryset.filter(paused_at__isnull=value != "paused")

    def search(self, queryset: QuerySet[Schedule], name: str, value: str) -> QuerySet[Schedule]:
        term = value.strip()
        return queryset.filter(Q(name__icontains=term) | Q(handler__icontains=term)) if term else queryset
