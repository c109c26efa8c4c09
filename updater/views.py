"""The updater's page in the operator console: upload a feed, land on its import job's page."""

from __future__ import annotations

from django import forms
from django.forms.utils import ErrorDict
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from jobs.exceptions import InvalidJob, PermissionDenied
from updater import services
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
