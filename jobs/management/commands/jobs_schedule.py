"""manage.py jobs_schedule list|show|add|pause|resume|run-now|remove: schedules from the shell (as the
system: no permission checks). Exit codes as every jobs_* command (jobs.management.cli)."""

from __future__ import annotations

from jobs import selectors, services
from jobs.api.schedule_serializers import ScheduleDetailSerializer, ScheduleSerializer
from jobs.management import cli
from jobs.models import Schedule

VERBS = "list|show|add|pause|resume|run-now|remove"


def add_options(parser) -> None:
    rule = parser.add_mutually_exclusive_group(required=True)
    rule.add_argument("--cron", help='Cron expression: 5 fields, or 6 with seconds last ("*/5 * * * * 0").')
    rule.add_argument("--every", type=cli.positive_int, dest="interval_seconds", help="Interval in seconds.")
    rule.add_argument("--at", type=cli.aware_datetime, dest="run_at", help="Once, at this ISO 8601 date-time.")
    parser.add_argument("--tz", dest="timezone", help="Time zone of the cron expression (default UTC).")
    parser.add_argument("--args", type=cli.json_object, dest="handler_args", help="Handler arguments as a JSON object.")
    parser.add_argument("--queue")
    parser.add_argument("--priority", type=cli.integer)
    parser.add_argument("--timeout", type=cli.positive_int)
    parser.add_argument("--max-attempts", type=cli.positive_int)
    parser.add_argument("--deadline-seconds", type=cli.positive_int)
    parser.add_argument("--catch-up", choices=Schedule.CatchUp.values)
    parser.add_argument("--catch-up-limit", type=cli.positive_int)
    parser.add_argument("--overlap", choices=Schedule.Overlap.values)
    parser.add_argument("--jitter", type=cli.integer, dest="jitter_seconds", help="Seconds of random delay.")
    parser.add_argument("--description")
    parser.add_argument("--paused", action="store_true", help="Create it paused.")


class Command(cli.JobsCommand):
    help = (
        "list: every schedule with its rule, next run and last outcome. show NAME: one, with its next and "
        "last runs. add NAME HANDLER --cron EXPR [--tz ZONE] | --every SECONDS | --at WHEN [options]: "
        "create one. pause/resume/run-now/remove NAME."
    )

    def add_arguments(self, parser):
        verbs = parser.add_subparsers(dest="verb", required=True, metavar=VERBS)
        verbs.add_parser("list", help="Show the schedules.")
        add = verbs.add_parser("add", help="Create a schedule.")
        add.add_argument("name")
        add.add_argument("handler")
        add_options(add)
        for verb in ("show", "pause", "resume", "run-now", "remove"):
            verbs.add_parser(verb, help=f"{verb.capitalize()} a schedule.").add_argument("name")
        self.finish_verbs(verbs)

    def handle(self, *, verb, json, **options):
        with cli.domain_errors():
            if verb == "list":
                return self._list(json)
            if verb == "add":
                schedule = services.schedule_create(**_fields(options))
                return self._show(schedule, json, f"Created schedule {schedule.name}: {schedule.rule}")
            schedule = selectors.schedule_get(name=options["name"])
            if verb == "remove":
                services.schedule_delete(schedule=schedule)
                return self.write_json({"removed": schedule.name}) if json else self.stdout.write(
                    f"Removed schedule {schedule.name}.")  # fmt: skip
            if verb == "run-now":
                job = services.schedule_run_now(schedule=schedule)
                return self.write_json({"id": job.pk, "status": job.status, "schedule": schedule.name}) if json else (
                    self.stdout.write(f"#{job.pk} queued now for schedule {schedule.name}."))  # fmt: skip
            if verb in ("pause", "resume"):
                schedule = getattr(services, f"schedule_{verb}")(schedule=schedule)
            self._show(schedule, json, _line(schedule))

    def _list(self, json: bool) -> None:
        schedules = list(selectors.schedule_list())
        if json:
            return self.write_json(ScheduleSerializer(schedules, many=True).data)
        rows = [
            [s.name, s.handler, s.rule, _state(s), cli.when(s.next_run_at),
             f"{s.last_run_status} {cli.when(s.last_run_at)}" if s.last_run_status else ""]
            for s in schedules
        ]  # fmt: skip
        self.stdout.write(cli.table(["NAME", "HANDLER", "RULE", "STATE", "NEXT RUN", "LAST RUN"], rows))

    def _show(self, schedule: Schedule, json: bool, line: str) -> None:
        data = ScheduleDetailSerializer(schedule).data
        if json:
            return self.write_json(data)
        self.stdout.write(line)
        for run in data["last_runs"]:
            self.stdout.write(f"  #{run['id']} {run['status']} {run['scheduled_for'] or 'run now'}")


def _fields(options: dict) -> dict:
    names = ("name", "handler", "cron", "interval_seconds", "run_at", "timezone", "queue", "priority",
             "timeout", "max_attempts", "deadline_seconds", "catch_up", "catch_up_limit", "overlap",
             "jitter_seconds", "description", "paused")  # fmt: skip
    fields = {name: options[name] for name in names if options.get(name) not in (None, False)}
    if options.get("handler_args") is not None:
        fields["args"] = options["handler_args"]
    return fields


def _state(schedule: Schedule) -> str:
    return f"paused {cli.when(schedule.paused_at)}" if schedule.is_paused else "enabled"


def _line(schedule: Schedule) -> str:
    next_run = f", next run {cli.when(schedule.next_run_at)}" if schedule.next_run_at else ""
    return f"{schedule.name}: {schedule.rule}, {_state(schedule)}{next_run}."
