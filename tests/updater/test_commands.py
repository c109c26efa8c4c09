"""updater_make_feed and updater_import: what they print, what they leave, how they fail."""

import csv
import json
import re

import pytest
from django.core.management import CommandError, call_command

from jobs import runner
from jobs.management import cli
from jobs.management.progress import ProgressBar
from jobs.models import Job
from tests.commands.call import run_command
from tests.updater.helpers import in_thread
from tests.waiting import wait_for
from updater.models import Feed, Product

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_make_feed_writes_a_csv_with_a_few_invalid_rows(tmp_path):
    path = tmp_path / "feed.csv"
    output = run("updater_make_feed", "--rows", "500", "--out", str(path), "--invalid-percent", "10", "--seed", "3")
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 500 and rows[0]["sku"] == "SKU-00000000"
    invalid = int(output.split("(")[1].split()[0])
    assert 20 < invalid < 80
    assert f"wrote 500 rows ({invalid} invalid)" in output


def test_make_feed_is_reproducible_from_its_seed(tmp_path):
    for name in ("a.csv", "b.csv"):
        run("updater_make_feed", "--rows", "200", "--out", str(tmp_path / name), "--seed", "7")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_make_feed_writes_json_lines(tmp_path):
    path = tmp_path / "feed.jsonl"
    run("updater_make_feed", "--rows", "50", "--out", str(path), "--invalid-percent", "0")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 50 and isinstance(lines[0]["price"], float) and isinstance(lines[0]["active"], bool)


def test_make_feed_mixes_existing_and_new_skus(tmp_path):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    run("updater_make_feed", "--rows", "100", "--out", str(first), "--invalid-percent", "0")
    run("updater_import", str(first))
    runner.run(Job.objects.get().pk)
    run("updater_make_feed", "--rows", "100", "--out", str(second), "--invalid-percent", "0", "--seed", "1")
    run("updater_import", str(second))
    job = Job.objects.latest("id")
    runner.run(job.pk)
    job.refresh_from_db()
    assert job.result["created"] == 50
    assert job.result["updated"] + job.result["unchanged"] == 50 and job.result["unchanged"] > 25


@pytest.mark.parametrize(
    "args, message",
    [
        (["--rows", "0", "--out", "x.csv"], "must be at least 1"),
        (["--rows", "ten", "--out", "x.csv"], "invalid"),
        (["--rows", "5", "--out", "x.csv", "--invalid-percent", "120"], "between 0 and 100"),
        (["--rows", "5", "--out", "x.csv", "--format", "xml"], "invalid choice"),
        (["--rows", "5", "--out", "/no/such/dir/x.csv"], "cannot write"),
        (["--out", "x.csv"], "--rows"),
    ],
)
def test_make_feed_bad_arguments_fail_with_one_line(args, message):
    with pytest.raises(CommandError, match=message):
        run("updater_make_feed", *args)


def test_import_queues_a_job_through_the_same_service(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_text("sku,stock\nA,1\nB,2\n")
    output = run("updater_import", str(path), "--chunk-size", "1")
    job = Job.objects.get()
    assert output.startswith(f"job #{job.pk} queued: import of feed.csv")
    assert job.handler == "updater.import_feed" and job.args["chunk_size"] == 1
    assert Feed.objects.get().original_name == "feed.csv"
    runner.run(job.pk)
    assert Product.objects.count() == 2


def test_import_prints_json(tmp_path):
    path = tmp_path / "feed.jsonl"
    path.write_text('{"sku": "A"}\n')
    data = json.loads(run("updater_import", str(path), "--json"))
    assert data["id"] == Job.objects.get().pk and data["status"] == "queued"


@pytest.mark.parametrize(
    "content, args, message",
    [
        (None, [], "no such file"),
        ("sku,colour\nA,red\n", [], "Unknown column"),
        ("", [], "The feed is empty"),
        ("sku\nA\n", ["--chunk-size", "0"], "chunk_size: Must be an integer from 1 to 50000."),
        ("sku\nA\n", ["--chunk-size", "100000"], "chunk_size"),
        ("sku\nA\n", ["--pause-seconds", "-1"], "pause_seconds: Must be a number from 0.0 to 3600.0."),
    ],
)
def test_import_bad_input_fails_with_one_line_and_no_job(tmp_path, content, args, message):
    path = tmp_path / "feed.csv"
    if content is not None:
        path.write_text(content)
    result = run_command("updater_import", str(path), *args)
    assert result.code == cli.INVALID
    assert message in result.err
    assert not Job.objects.exists()


def test_import_bad_option_with_json_is_a_json_error_by_field(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_text("sku\nA\n")
    result = run_command("updater_import", str(path), "--chunk-size", "0", "--json")
    assert result.code == cli.INVALID
    assert json.loads(result.out)["error"]["fields"] == {"chunk_size": ["Must be an integer from 1 to 50000."]}


def test_import_refuses_a_file_over_the_limit(tmp_path, settings):
    settings.UPDATER_MAX_FEED_BYTES = 5
    path = tmp_path / "feed.csv"
    path.write_text("sku\nA\nB\n")
    result = run_command("updater_import", str(path))
    assert result.code == cli.INVALID and "limit is 5 bytes" in result.err


def run_the_next_job() -> None:
    job = wait_for(lambda: Job.objects.filter(status=Job.Status.QUEUED).first(), message="a queued job")
    runner.run(job.pk)


@pytest.mark.django_db(transaction=True)
def test_import_wait_follows_the_job_with_a_progress_bar(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_text("sku,stock\n" + "".join(f"S{n},1\n" for n in range(40)) + "BAD,-1\n")
    worker = in_thread(run_the_next_job)
    result = run_command("updater_import", str(path), "--wait", "--chunk-size", "10")
    worker.join(timeout=30)
    assert result.code == cli.OK
    assert f"updater.import_feed succeeded [{'#' * ProgressBar.WIDTH}] 41/41 (100%)" in result.err
    assert "succeeded: 41 rows, 40 created, 0 updated, 0 unchanged, 1 invalid" in result.out.splitlines()[-1]


@pytest.mark.django_db(transaction=True)
def test_import_wait_exits_non_zero_when_the_job_fails(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_text("sku\nA\n")

    def lose_the_file_then_run() -> None:
        job = wait_for(lambda: Job.objects.filter(status=Job.Status.QUEUED).first(), message="a queued job")
        Feed.objects.get(pk=job.args["feed_id"]).file.delete(save=False)
        runner.run(job.pk)

    worker = in_thread(lose_the_file_then_run)
    result = run_command("updater_import", str(path), "--wait")
    worker.join(timeout=30)
    assert result.code == cli.FAILED
    assert re.search(r"job #\d+ failed: The file of feed \d+ is gone", result.err)


@pytest.mark.django_db(transaction=True)
def test_import_wait_exits_non_zero_when_the_job_is_cancelled(tmp_path):
    from jobs.services import job_cancel

    path = tmp_path / "feed.csv"
    path.write_text("sku\nA\n")
    canceller = in_thread(
        lambda: job_cancel(job=wait_for(lambda: Job.objects.filter(status="queued").first(), message="a queued job"))
    )
    result = run_command("updater_import", str(path), "--wait")
    canceller.join(timeout=30)
    assert result.code == cli.CANCELLED
    assert re.search(r"job #\d+ cancelled", result.err)
    assert not Product.objects.exists()
