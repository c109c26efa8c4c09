"""Imported by no test: the backend must find `add` here by its name alone, as a worker would."""

from django_tasks import task

CALLS: list[str] = []


@task
def add(a: int, b: int) -> int:
    return a + b


def not_a_task() -> None:
    CALLS.append("not_a_task")
