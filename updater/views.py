"""The updater's pages in the operator console: upload a feed, land on its import job's page;
download every invalid row of an import as CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django import forms
from django.forms.utils import ErrorDict
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from jobs import selectors as job_selectors
from jobs.exceptions import InvalidJob, JobNotFound, PermissionDenied
from updater import selectors, services
from updater.exceptions import FeedTooLarge
from updater.permissions import feed_may_import
from updater.upload_guard import feed_check_upload_cut


class FeedUploadForm(forms.Form):
    """Parses the fields; their ranges are the service's to check (one rule, in one place)."""

    file = forms.FileField(help_text="CSV with a header row, or JSON Lines: sku, name, price, currency, stock, active.")
    chunk_size = forms.IntegerField(required=False, help_text="Rows per transaction (default from settings).")
    max_rows_per_second = forms.IntegerField(required=False, help_text="Throttle; 0 or empty: as fast as it goes.")
    pause_seconds = forms.FloatField(required=False, help_text="Pause between chunks.")


@require_http_methods(["GET", "POST"])
@login_required
def feed_upload_page(request: HttpRequest) -> HttpResponse:
    """The upload form. Who may post, and the size from the headers, were checked before the body was
    read (updater.upload_guard); a body cut off at the limit is answered here."""
    if not feed_may_import(request.user):
        return feed_upload_refused(request, "You do not have permission to import feeds.", status=403)
    if request.method == "GET":
        return render(request, "updater/feed_upload.html", {"form": FeedUploadForm()})
    form = FeedUploadForm()
    try:
        data, files = request.POST, request.FILES  # parsed through LimitedUploadHandler
        feed_check_upload_cut(request)
        form = FeedUploadForm(data, files)
        if not form.is_valid():
            return render(request, "updater/feed_upload.html", {"form": form}, status=400)
        options = dict(form.cleaned_data)
        job = services.feed_import_start(upload=options.pop("file"), requested_by=request.user, **options)
    except FeedTooLarge as exc:
        return feed_upload_refused(request, str(exc), status=413)
    except PermissionDenied as exc:
        return feed_upload_refused(request, str(exc), status=403)
    except InvalidJob as exc:
        for field, errors in exc.errors.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return render(request, "updater/feed_upload.html", {"form": form}, status=400)
    messages.success(request, f"Feed received: import job #{job.pk} is queued.")
    return redirect("jobs:detail", pk=job.pk)


def feed_upload_refused(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    """The upload page with `message` as the form's error (a refusal before the body was read)."""
    form = FeedUploadForm()
    form.cleaned_data, form._errors = {}, ErrorDict()  # an empty form carrying the error alone
    form.add_error(None, message)
    return render(request, "updater/feed_upload.html", {"form": form}, status=status)


@require_GET
@login_required
def feed_errors_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """Every invalid row of the feed that import job `pk` reads, as CSV (line, reason), streamed.
    Whoever may see the job may download them; another user's job is a 404, as on its page."""
    try:
        job = job_selectors.job_get(job_id=pk, user=request.user)
    except JobNotFound:
        raise Http404(f"Job {pk} not found.") from None
    if job.handler != services.HANDLER:
        raise Http404(f"Job {pk} is not a feed import.")
    feed = selectors.feed_get(feed_id=(job.args or {}).get("feed_id"))
    try:
        if feed is None:
            raise FileNotFoundError(pk)
        errors = selectors.feed_errors(feed=feed)
    except OSError:
        messages.error(request, f"The feed of job #{job.pk} is no longer stored: its errors cannot be read again.")
        return redirect("jobs:detail", pk=job.pk)
    response = StreamingHttpResponse(_csv_lines(errors), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="feed-{feed.pk}-errors.csv"'
    return response


class _Line:
    def write(self, text: str) -> str:
        return text


def _csv_lines(errors: Iterator[tuple[int, str]]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(["line", "reason"])
    for line, reason in errors:
        yield writer.writerow([line, _inert(reason)])


def _inert(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (a reason may quote the feed's own values)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
