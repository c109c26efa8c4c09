"""Demo data for `make run`: the admin account, a few jobs to look at (one waiting for another) and a
schedule firing every minute. Idempotent."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from jobs import services
from jobs.management import cli
from jobs.models import Job, Schedule

DEMO_SCHEDULE = "demo-every-minute"


class Command(BaseCommand):
    help = "Create the demo admin (DEMO_ADMIN_USERNAME / DEMO_ADMIN_PASSWORD) and a few demo jobs."

    def execute(self, *args, **options):
        with cli.log_level(options.get("verbosity", 1)):  # make run's output: no INFO line per demo job
            return super().execute(*args, **options)

    def handle(self, *args, **options):
        import environ

        env = environ.Env()
        username = env("DEMO_ADMIN_USERNAME", default="admin")
        password = env("DEMO_ADMIN_PASSWORD", default="")
        if not password:
            if not settings.DEBUG:
                raise CommandError("Set DEMO_ADMIN_PASSWORD (make run writes one into .env).")
            password = "admin"  # DEBUG only
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        if created or not user.check_password(password):
            user.set_password(password)
            user.is_staff = user.is_superuser = True
            user.save()
        if not Job.objects.exists():
            first = services.job_enqueue(handler="jobs.sleep", args={"seconds": 20, "steps": 40}, requested_by=user)
            services.job_enqueue(handler="jobs.noop", depends_on=[first.pk], requested_by=user)
            services.job_enqueue(handler="jobs.fail", args={"succeed_on_attempt": 3}, requested_by=user)
            services.job_enqueue(handler="jobs.noop", delay=30, requested_by=user)
        if not Schedule.objects.filter(name=DEMO_SCHEDULE).exists():
            services.schedule_create(
                name=DEMO_SCHEDULE, handler="jobs.noop", cron="* * * * *",
                description="A demo: fires every minute. Pause or run it on its page; edit or remove it in the admin.",
            )  # fmt: skip
        self.stdout.write(f"Demo admin: {username}")
