"""The shape shared by `jobs_retry` and `jobs_cancel`: act on the jobs named by id, one line per job,
or on a selection (`--status failed --handler X`) through the bulk service.

Exit status: by id, every id is tried (a batch is not left half done because one id was wrong),
then the command prints a summary line and exits 3 if any id names no job, else 4 if any job's
state refused the action, else 0 (with --json the counts are in the JSON). A selection exits 0: jobs in other states are what a selection naturally sweeps past,
and they are counted as skipped."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from jobs import selectors
from jobs.exceptions import DuplicateJob, JobNotFound, JobStateConflict
from jobs.management import cli
from jobs.models import Job
from jobs.services.control import BulkOutcome


class JobActionCommand(cli.JobsCommand):
    verb: str  # "retry"
    past: str  # "Retried"
    action: Callable[..., Job]  # job_retry(job=, by=)
    action_many: Callable[..., BulkOutcome]  # job_retry_many(jobs=, by=)
    default_statuses: list[str]  # what a selection without --status takes

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=cli.job_id, metavar="ID", help="Job ids.")
        cli.add_selection_arguments(
            parser, statuses_help=f"Select jobs by status instead of ids (default {','.join(self.default_statuses)})."
        )
        parser.add_argument("--dry-run", action="store_true", help="With a selection: count it, change nothing.")

    def handle(self, *, ids, status, handler, queue, since, dry_run, json, **options):
        selection = {"status": status, "handler": handler, "queue": queue, "since": since}
        if ids and any(selection.values()):
            raise cli.usage_error("give job ids or a selection (--status/--handler/--queue/--since), not both")
        if not ids and not any(selection.values()):
            raise cli.usage_error(
                f"give job ids to {self.verb}, or select jobs with --status/--handler/--queue/--since"
            )
        if ids and dry_run:
            raise cli.usage_error("--dry-run goes with a selection, not with ids")
        if ids:
            return self.by_ids(list(dict.fromkeys(ids)), json=json)
        selection["status"] = selection["status"] or [self.default_statuses]
        return self.by_selection(selection, dry_run=dry_run, json=json)

    def by_ids(self, ids: list[int], *, json: bool) -> None:
        results = [self.act(job_id) for job_id in ids]
        tally = Counter(result["outcome"] for result in results)
        if json:
            self.write_json({"done": tally["done"], "skipped": tally["skipped"], "not_found": tally["not_found"],
                             "jobs": results})
        else:
            for result in results:
                self.stdout.write(f"#{result['id']} {result['detail']}")
        if tally["not_found"] or tally["skipped"]:  # a partial success: a summary line and its exit code
            self.exit_code = cli.NOT_FOUND if tally["not_found"] else cli.CONFLICT
            if not json:
                self.stdout.write(f"{self.past} {tally['done']} of {len(ids)}: {tally['not_found']} not found, "
                                  f"{tally['skipped']} refused by their state.")  # fmt: skip

    def act(self, job_id: int) -> dict:
        try:
            job = self.action(job=selectors.job_get(job_id=job_id), by=None)
        except JobNotFound:
            return {"id": job_id, "outcome": "not_found", "status": None, "detail": "not found"}
        except DuplicateJob as exc:
            detail = f"skipped: {exc} (job #{exc.existing_id})"
            return {"id": job_id, "outcome": "skipped", "status": None, "detail": detail}
        except JobStateConflict as exc:
            return {"id": job_id, "outcome": "skipped", "status": None, "detail": f"skipped: {exc}"}
        return {"id": job_id, "outcome": "done", "status": job.status, "detail": self.describe(job)}

    def describe(self, job: Job) -> str:
        return f"{self.past.lower()} (now {job.status})"

    def by_selection(self, selection: dict, *, dry_run: bool, json: bool) -> None:
        jobs = cli.select(selectors.job_list(), **selection)
        selected = jobs.count()
        if dry_run:
            data = {"selected": selected, "done": 0, "skipped": 0, "reasons": {}}
            text = f"{selected} job{'s' if selected != 1 else ''} selected; nothing changed (--dry-run)."
        else:
            outcome = self.action_many(jobs=jobs, by=None)
            skipped = outcome.skipped
            data = {"selected": selected, "done": outcome.done, "skipped": skipped.total(), "reasons": dict(skipped)}
            text = outcome.summary(self.past)
        self.write_json(data) if json else self.stdout.write(text)
