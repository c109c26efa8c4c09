"""The updater's page in the operator console: upload a feed, land on its import job's page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from jobs.exceptions import InvalidJob
from updater import services
from updater.exceptions import FeedTooLarge


class FeedUploadForm(forms.Form):
    """Parses the fields; their ranges are the service's to check (one rule, in one place)."""

    file = forms.FileField(help_text="CSV with a header row, or JSON Lines: sku, name, price, currency, stock, active.")
    chunk_size = forms.IntegerField(required=False, help_text="Rows per transaction (default from settings).")
    max_rows_per_second = forms.IntegerField(required=False, help_text="Throttle; 0 or empty: as fast as it goes.")
    pause_seconds = forms.FloatField(required=False, help_text="Pause between chunks.")


@require_http_methods(["GET", "POST"])
@login_required
def feed_upload_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "updater/feed_upload.html", {"form": FeedUploadForm()})
    form = FeedUploadForm()
    try:
        # Refused from the headers, before the body is read or spooled.
        services.feed_check_request_size(content_length=request.META.get("CONTENT_LENGTH"))
        form = FeedUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, "updater/feed_upload.html", {"form": form}, status=400)
        options = dict(form.cleaned_data)
        job = services.feed_import_start(upload=options.pop("file"), requested_by=request.user, **options)
    except FeedTooLarge as exc:
        form.add_error(None, str(exc))
        return render(request, "updater/feed_upload.html", {"form": form}, status=413)
    except InvalidJob as exc:
        for field, errors in exc.errors.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return render(request, "updater/feed_upload.html", {"form": form}, status=400)
    messages.success(request, f"Feed received: import job #{job.pk} is queued.")
    return redirect("jobs:detail", pk=job.pk)
