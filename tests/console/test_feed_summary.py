"""A feed import's page: its counts, its first invalid rows with their line numbers, and every
invalid row as CSV for whoever may see the job, read again from the stored feed."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from jobs import runner
from jobs.models import Job
from tests.factories import JobFactory, UserFactory
from tests.updater.helpers import upload
from updater.models import Feed
from updater.services import feed_import_start
from updater.views import _csv_lines

pytestmark = pytest.mark.django_db

HEADER = "sku,name,price,currency,stock,active\n"
GOOD = [f"SKU-{n:04d},Lamp {n},{n}.50,EUR,{n % 7},true" for n in range(1, 31)]
BAD = [f"SKU-B{n:03d},Broken,not-a-price,EUR,1,true" for n in range(1, 121)]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def may_import(user):
    """The owner in these tests imports feeds: that takes the catalogue's permission."""
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_feed", "change_product"]))


def imported(owner, lines: list[str], settings) -> Job:
    settings.UPDATER_CHUNK_SIZE = 40  # several chunks, also for the CSV that reads the feed again
    job = feed_import_start(upload=upload(HEADER + "\n".join(lines) + "\n"), requested_by=owner, chunk_size=25)
    runner.run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    return job


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_job_page_shows_counts_first_errors_and_a_download_instead_of_raw_json(user_web, user, settings):
    job = imported(user, GOOD + BAD, settings)
    html = user_web.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert 'data-tally="created">30<' in html and 'data-tally="invalid">120<' in html
    assert 'data-tally="rows">150<' in html and 'data-tally="unchanged">0<' in html
    first = html.split('class="feed-errors"')[1].split("</table>")[0]
    assert first.count("<tr><td>") == 10 and "<tr><td>32</td><td>" in first  # line 32: the first bad row
    assert "110 more not shown." in html
    assert f'href="{reverse("updater:feed-errors", args=[job.pk])}"' in html
    assert "Download all 120 invalid rows (CSV)" in html
    assert "<summary>Raw result (JSON)</summary>" in html  # still there, folded away


def test_a_clean_import_offers_no_download(user_web, user, settings):
    job = imported(user, GOOD, settings)
    html = user_web.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert 'data-tally="invalid">0<' in html
    assert reverse("updater:feed-errors", args=[job.pk]) not in html


def test_the_csv_holds_every_invalid_row_with_its_line(user_web, user, settings):
    job = imported(user, GOOD + BAD, settings)
    response = user_web.get(reverse("updater:feed-errors", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="feed-{job.args["feed_id"]}-errors.csv"'
    rows = csv_rows(response)
    assert rows[0] == ["line", "reason"]
    assert [int(line) for line, _ in rows[1:]] == list(range(32, 152))  # all 120, past the 100 the job keeps
    stored = job.result["errors"]
    assert len(stored) == 100 and [[str(e["line"]), e["reason"]] for e in stored] == rows[1:101]


def test_a_reason_that_looks_like_a_formula_is_made_inert():
    # Reasons start with a column name today; the CSV stays safe to open should one ever quote a value first.
    lines = "".join(_csv_lines(iter([(2, "=HYPERLINK(1)"), (3, "@SUM(A1)"), (4, "price: '=1' is not a number")])))
    rows = list(csv.reader(io.StringIO(lines)))
    assert rows[1:] == [["2", "'=HYPERLINK(1)"], ["3", "'@SUM(A1)"], ["4", "price: '=1' is not a number"]]


def test_another_users_import_is_404_and_staff_may_download(user_web, admin_web, settings):
    other = UserFactory()
    other.user_permissions.add(*Permission.objects.filter(codename__in=["add_feed", "change_product"]))
    job = imported(other, GOOD + BAD[:3], settings)
    assert user_web.get(reverse("updater:feed-errors", args=[job.pk])).status_code == 404
    assert len(csv_rows(admin_web.get(reverse("updater:feed-errors", args=[job.pk])))) == 4


def test_anonymous_is_sent_to_log_in(client, user, settings):
    job = imported(user, GOOD, settings)
    response = client.get(reverse("updater:feed-errors", args=[job.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("jobs:login"))


def test_a_job_that_is_no_feed_import_or_unknown_is_404(admin_web):
    job = JobFactory(handler="jobs.noop")
    assert admin_web.get(reverse("updater:feed-errors", args=[job.pk])).status_code == 404
    assert admin_web.get(reverse("updater:feed-errors", args=[10**12])).status_code == 404


def test_post_is_405(admin_web, user, settings):
    job = imported(user, GOOD, settings)
    assert admin_web.post(reverse("updater:feed-errors", args=[job.pk])).status_code == 405


@pytest.mark.parametrize("gone", ["file", "row", "args"])
def test_a_feed_gone_from_storage_is_a_message_on_the_job_page(user_web, user, settings, gone):
    job = imported(user, GOOD + BAD[:2], settings)
    feed = job.args["feed_id"]
    if gone == "file":
        Feed.objects.get(pk=feed).file.delete(save=False)
    elif gone == "row":
        Feed.objects.filter(pk=feed).delete()
    else:
        Job.objects.filter(pk=job.pk).update(args={"feed_id": "seven"})
    response = user_web.get(reverse("updater:feed-errors", args=[job.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"The feed of job #{job.pk} is no longer stored: its errors cannot be read again."
    ]


def test_other_handlers_keep_their_result_as_json(admin_web):
    job = JobFactory(status=Job.Status.SUCCEEDED, result={"rows": 12})
    html = admin_web.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert '<pre class="json" data-result>' in html and "data-feed-summary" not in html
