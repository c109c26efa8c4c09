"""What the HTML console needs besides selectors: the list's filters, keyset pagination on
(-created_at, -id), and who may act on a job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Q, QuerySet

from jobs import selectors
from jobs.datetimes import BoundedIsoDateTimeFilter
from jobs.filters import JobFilter
from jobs.models import Job
from jobs.permissions import job_may
from jobs.registry import all_handlers

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PAGE_SIZE = 50


def _handler_choices() -> list[tuple[str, str]]:
    return [(spec.name, spec.name) for spec in all_handlers()]


def _queue_choices() -> list[tuple[str, str]]:
    return [(queue, queue) for queue in settings.JOBS_QUEUES]


class JobPageFilter(JobFilter):
    """The API's filters, with choices drawn from the registry and settings, plus a search box.
    Every filter is an equality on an indexed column, so a filtered page stays an index scan."""

    status = django_filters.MultipleChoiceFilter(choices=Job.Status.choices, widget=forms.CheckboxSelectMultiple)
    handler = django_filters.ChoiceFilter(choices=_handler_choices, empty_label="any handler")
    queue = django_filters.ChoiceFilter(choices=_queue_choices, empty_label="any queue")
    q = django_filters.CharFilter(method="search", label="Search", max_length=200)
    # An HTML form sends its empty fields.
    created_after = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="gte", blank=True)
    created_before = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="lt", blank=True)

    class Meta(JobFilter.Meta):
        fields = ["status", "handler", "queue", "trace_id", "q"]

    def search(self, queryset: QuerySet[Job], name: str, value: str) -> QuerySet[Job]:
        return job_search(queryset, term=value)


def job_search(jobs: QuerySet[Job], *, term: str) -> QuerySet[Job]:
    """A job id (`123` or `#123`), a trace id, or a handler name: exact matches only, because a
    substring search would scan every row."""
    term = term.strip()
    match = Q(handler=term) | Q(trace_id=term.lower())
    if term.lstrip("#").isdigit() and len(term) < 19:
        match |= Q(pk=int(term.lstrip("#")))
    return jobs.filter(match)


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Page:
    jobs: list[Job]
    next_cursor: str | None


def cursor_for(job: Job) -> str:
    """`<microseconds since the epoch>-<id>` of the last job shown."""
    delta = job.created_at - EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{micros}-{job.pk}"


def parse_cursor(value: str) -> tuple[datetime, int]:
    try:
        micros, pk = (int(part) for part in value.split("-", 1))
        if not (0 <= micros and 0 < pk < 2**63):
            raise ValueError(value)
        return EPOCH + timedelta(microseconds=micros), pk
    except (ValueError, OverflowError):
        raise BadCursor("Invalid cursor.") from None


def keyset_page(jobs: QuerySet[Job], *, before: str | None, size: int = PAGE_SIZE) -> Page:
    """The `size` newest jobs older than the cursor. `created_at <= c` lets the database seek on the
    index; the OR settles ties. Raises BadCursor for a cursor we did not make."""
    if before:
        created_at, pk = parse_cursor(before)
        jobs = jobs.filter(created_at__lte=created_at).filter(Q(created_at__lt=created_at) | Q(pk__lt=pk))
    rows = list(jobs.order_by("-created_at", "-id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, cursor_for(rows[-1]) if more else None)


def may_act(user, action: str, job: Job | None = None) -> bool:
    """Whether the page offers the action: the rules are jobs.permissions' (the services apply them too)."""
    return job_may(user, action, job)


def related_jobs(*, job: Job, user, limit: int = 20) -> list[Job]:
    """Other jobs of the same trace (one request, or a job and the jobs it started), newest first."""
    jobs = selectors.job_list(user=user).filter(trace_id=job.trace_id).exclude(pk=job.pk)
    return list(jobs.order_by("-created_at", "-id")[:limit])
