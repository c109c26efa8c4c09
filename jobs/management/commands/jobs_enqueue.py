"""manage.py jobs_enqueue HANDLER --args JSON [run options] [--wait]"""

from __future__ import annotations

from django.core.management.base import CommandError

from jobs import services
from jobs.api.serializers import JobSerializer
from jobs.management import cli, progress
from jobs.models import Job


class Command(cli.JobsCommand):
    help = (
        "Enqueue a job and print its id. With --wait, follow it to the end with a progress bar (on stderr) "
        "and exit 0 if it succeeded, 1 if it failed, 2 if it was cancelled."
    )

    def add_arguments(self, parser):
        parser.add_argument("handler", help="Registered handler name (see jobs_handlers), e.g. jobs.sleep.")
        # dest is not "args": Django passes an option named so as positional arguments.
        parser.add_argument("--args", dest="job_args", type=cli.json_object, default={}, metavar="JSON",
                            help='Handler arguments, a JSON object: \'{"seconds": 2}\'.')
        parser.add_argument("--queue", help="Queue name (default: the handler's, else the first queue).")
        parser.add_argument("--priority", type=cli.integer, help="-100..100; higher runs first.")
        when = parser.add_mutually_exclusive_group()
        when.add_argument("--delay", type=cli.non_negative_float, metavar="SECONDS", help="Run no sooner than this.")
        when.add_argument("--run-after", type=cli.aware_datetime, metavar="ISO", help="Run no sooner than this time.")
        parser.add_argument("--deadline", type=cli.aware_datetime, metavar="ISO",
                            help="Not started by this time: the job expires without running.")
        parser.add_argument("--max-attempts", type=cli.positive_int)
        parser.add_argument("--timeout", type=cli.positive_int, metavar="SECONDS", help="Limit of one attempt.")
        parser.add_argument("--unique-key", help="Refuse the job while another active job holds this key.")
        parser.add_argument("--depends-on", type=cli.job_ids, metavar="IDS",
                            help="Job ids, like 12,13: wait until they all succeeded (cancelled if one fails).")
        parser.add_argument("--wait", action="store_true", help="Follow the job until it finishes.")
        parser.add_argument("--poll", type=cli.positive_float, metavar="SECONDS", help="Poll interval of --wait.")

    def handle(self, *, handler, job_args, wait, poll, json, **options):
        if poll is not None and not wait:
            raise cli.usage_error("--poll needs --wait")
        with cli.domain_errors():
            job = services.job_enqueue(
                handler=handler,
                args=job_args,
                queue=options["queue"],
                priority=options["priority"],
                max_attempts=options["max_attempts"],
                timeout=options["timeout"],
                run_after=options["run_after"],
                delay=options["delay"],
                unique_key=options["unique_key"],
                deadline=options["deadline"],
                depends_on=options["depends_on"],
            )
        if not wait:
            return self.write_json(JobSerializer(job).data) if json else self.stdout.write(str(job.pk))
        if not json:
            self.stdout.write(str(job.pk))
            self.stdout.flush()
        job = self.follow(job, poll=poll or 0.5, quiet=json)
        if json:
            self.write_json(JobSerializer(job).data)
        self.finish(job, quiet=json)

    def follow(self, job: Job, *, poll: float, quiet: bool) -> Job:
        """Poll the job until it is finished; Ctrl-C stops waiting, not the job."""
        try:
            return progress.follow(job, stream=None if quiet else self.stderr, poll=poll)
        except KeyboardInterrupt:
            raise CommandError(
                f"Stopped waiting; job #{job.pk} is still {job.status} (follow it with jobs_show {job.pk}).",
                returncode=cli.INTERRUPTED,
            ) from None

    def finish(self, job: Job, *, quiet: bool) -> None:
        """A line on stderr saying how the job ended, and its exit code (0 succeeded, 1 failed, 2 cancelled):
        the outcome of the awaited job, not an error of the command."""
        if job.status == Job.Status.SUCCEEDED:
            if not quiet:
                self.stderr.write(f"Job #{job.pk} succeeded in {cli.seconds(job.duration)}.",
                                  self.style.SUCCESS)
        elif job.status == Job.Status.FAILED:
            error = job.error or {}
            detail = f"{error.get('type', 'Error')}: {error.get('message', '')}".splitlines()[0]
            self.stderr.write(f"Job #{job.pk} failed after {job.attempts} attempt(s): {detail}")
            self.exit_code = cli.FAILED
        elif job.status == Job.Status.EXPIRED:
            self.stderr.write(f"Job #{job.pk} expired: not started by {job.deadline:%Y-%m-%d %H:%M:%S}.")
            self.exit_code = cli.CANCELLED
        else:
            self.stderr.write(f"Job #{job.pk} was cancelled.")
            self.exit_code = cli.CANCELLED
