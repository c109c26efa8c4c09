"""A task outside any installed app and JOBS_HANDLER_MODULES: never imported by name."""

from django_tasks import task


@task
def add(a: int, b: int) -> int:
    return a + b
