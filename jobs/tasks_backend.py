"""`JobsBackend`: Django's task API (`django.tasks`, DEP 14) on top of our jobs.

    TASKS = {"default": {"BACKEND": "jobs.tasks_backend.JobsBackend", "QUEUES": [...], "OPTIONS": {...}}}

`task.enqueue(*args, **kwargs)` is one `job_enqueue` (in the caller's transaction); the result id is the
job id, and `get_result` reads the Job row. A `@task` function is registered as a handler under its
import path (`task.module_path`), so it shows wherever handlers do; its job args are
`{"args": [...], "kwargs": {...}}`. A worker that has not imported the task finds it by that name
(jobs/tasks_discovery.py). The standard's package is named once, in `STANDARD`: see docs/TASKS.md."""

from __future__ import annotations

import builtins
import inspect
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core import checks
from django.utils import timezone

from jobs import registry
from jobs.context import JobContext
from jobs.exceptions import InvalidJob, PermanentJobError, UnknownHandler
from jobs.models import Job, JobEvent
from jobs.services import job_enqueue

# The standard's package: the django-tasks backport on Django 5.2. On Django 6 this line reads
# STANDARD = "django.tasks"; nothing else changes (only names both packages share are used below).
STANDARD = "django_tasks"

_base = import_module(f"{STANDARD}.base")
_signals = import_module(f"{STANDARD}.signals")
BaseTaskBackend = import_module(f"{STANDARD}.backends.base").BaseTaskBackend
TaskResultDoesNotExist = import_module(f"{STANDARD}.exceptions").TaskResultDoesNotExist
Task, TaskResult, TaskError, TaskContext = _base.Task, _base.TaskResult, _base.TaskError, _base.TaskContext
TaskResultStatus = _base.TaskResultStatus
normalize_json = _base.normalize_json  # the standard's own JSON normaliser (bytes -> str, tuples -> lists)

OPTION_NAMES = ("max_attempts", "timeout", "backoff")  # OPTIONS keys, and what @job_options takes
NAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")

STATUSES = {
    Job.Status.WAITING: TaskResultStatus.READY,  # for the jobs it depends on
    Job.Status.QUEUED: TaskResultStatus.READY,
    Job.Status.RESERVED: TaskResultStatus.READY,  # taken by a cluster, not started yet
    Job.Status.RUNNING: TaskResultStatus.RUNNING,
    Job.Status.SUCCEEDED: TaskResultStatus.SUCCESSFUL,
    Job.Status.FAILED: TaskResultStatus.FAILED,
    Job.Status.CANCELLED: TaskResultStatus.FAILED,
    Job.Status.EXPIRED: TaskResultStatus.FAILED,  # its deadline passed before it ran
}


class TaskArgumentsError(InvalidJob, TypeError):
    """A task's arguments are not JSON round-trippable. A TypeError as the standard raises, and an
    InvalidJob, so the API and the pages answer it as bad input."""


class JobExpired(Exception):
    """The error class of an expired job's result: its deadline passed before it could run."""


@dataclass(frozen=True, slots=True, kw_only=True)
class JobTaskContext(TaskContext):
    """The standard TaskContext, plus `job`: our JobContext (`progress`, `advance`, `log`,
    `raise_if_cancelled`, `cancel_requested`)."""

    job: JobContext


def job_options(**options: Any) -> Callable[[Callable], Callable]:
    """Per-task run options (`max_attempts`, `timeout`, `backoff`: a Backoff or exponential()'s keyword
    arguments), placed under `@task`. They override the backend's OPTIONS."""
    unknown = set(options) - set(OPTION_NAMES)
    if unknown:
        raise TypeError(f"job_options() takes {', '.join(OPTION_NAMES)}; not {', '.join(sorted(unknown))}")

    def mark(func: Callable) -> Callable:
        if isinstance(func, Task):
            raise TypeError("@job_options goes under @task (it marks the function, not the Task).")
        func.job_options = options
        return func

    return mark


class JobsBackend(BaseTaskBackend):
    supports_defer = True
    supports_async_task = True
    supports_get_result = True
    supports_priority = True

    def __init__(self, alias: str, params: dict) -> None:
        super().__init__(alias, params)
        if "QUEUES" not in params:  # the standard's default is ["default"]; ours are the job queues
            self.queues = set(settings.JOBS_QUEUES)
        self.enqueue_on_commit = params.get("ENQUEUE_ON_COMMIT", True)

    def validate_task(self, task: Task) -> None:
        """The standard's checks, then the task becomes a handler (at definition, so workers and
        the console know it as soon as its module is imported)."""
        super().validate_task(task)
        register_task(task, self.options)

    def enqueue(self, task: Task, args: Iterable, kwargs: dict) -> TaskResult:
        """One `job_enqueue` in the caller's transaction: a rolled-back enqueue leaves no job and never runs.
        Raises TaskArgumentsError for arguments that are not JSON, InvalidJob for bad run options."""
        self.validate_task(task)
        try:
            payload = to_json({"args": list(args), "kwargs": dict(kwargs)})
        except ValueError as exc:
            raise TaskArgumentsError({"args": [f"Task arguments must be JSON round-trippable: {exc}"]}) from None
        job = job_enqueue(
            handler=task.module_path,
            args=payload,
            queue=task.queue_name,
            priority=task.priority,
            run_after=_when(task.run_after),
        )
        result = self._result(task, job, workers=[])
        _signals.task_enqueued.send(type(self), task_result=result)
        return result

    def get_result(self, result_id: str) -> TaskResult:
        """The result of job `result_id`; raises TaskResultDoesNotExist for an unknown id or a job
        that is not a task of this backend."""
        result_id = str(result_id)
        job = Job.objects.filter(pk=int(result_id)).first() if result_id.isdigit() and len(result_id) < 19 else None
        task = _task_for(job.handler) if job else None
        if task is None or not isinstance(task.get_backend(), JobsBackend):
            raise TaskResultDoesNotExist(result_id)
        return self._result(task, job, workers=_workers(job))

    def _result(self, task: Task, job: Job, *, workers: list[str]) -> TaskResult:
        result = TaskResult(
            task=task,
            id=str(job.pk),
            status=STATUSES[job.status],
            enqueued_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            last_attempted_at=job.started_at,
            args=job.args.get("args", []),
            kwargs=job.args.get("kwargs", {}),
            backend=self.alias,
            errors=_errors(job),
            worker_ids=workers,
        )
        if job.status == Job.Status.SUCCEEDED:
            object.__setattr__(result, "_return_value", job.result)
        return result

    def check(self, **kwargs: Any) -> Iterable[checks.CheckMessage]:
        unknown = set(self.options) - set(OPTION_NAMES)
        if unknown:
            yield checks.Error(f"TASKS[{self.alias!r}] OPTIONS: unknown {', '.join(sorted(unknown))}; "
                               f"known: {', '.join(OPTION_NAMES)}.", id="jobs.E101")  # fmt: skip
        if self.queues - set(settings.JOBS_QUEUES):
            yield checks.Error(f"TASKS[{self.alias!r}] QUEUES must be among JOBS_QUEUES "
                               f"({', '.join(settings.JOBS_QUEUES)}).", id="jobs.E102")  # fmt: skip
        if not self.enqueue_on_commit:
            yield checks.Warning(f"TASKS[{self.alias!r}] ENQUEUE_ON_COMMIT=False is ignored: a job is "
                                 "always written in the caller's transaction.", id="jobs.W101")  # fmt: skip


def to_json(value: Any) -> Any:
    """`value` as the JSON it round-trips to (the standard's own normalisation: tuples become lists,
    bytes text); raises ValueError saying why it does not (objects, NaN, non-string keys)."""
    try:
        normal = normalize_json(value)
        if json.loads(json.dumps(normal, allow_nan=False)) != normal:
            raise ValueError("it does not survive a JSON round trip (non-string keys?)")
    except (TypeError, ValueError) as exc:
        raise ValueError(str(exc)) from None
    return normal


def _when(run_after: datetime | timedelta | None) -> datetime | None:
    if isinstance(run_after, timedelta):  # Django 6 accepts a delay
        return timezone.now() + run_after
    return run_after


def _workers(job: Job) -> list[str]:
    """One worker id per attempt: each attempt's `started` event (written as it starts) names its worker."""
    return list(job.events.filter(kind=JobEvent.Kind.STARTED).order_by("attempt").values_list("message", flat=True))


def _errors(job: Job) -> list[TaskError]:
    """The last failed attempt's error (earlier attempts are in the job's history), and why a
    cancelled or expired job ended."""
    if job.status == Job.Status.CANCELLED:
        return [TaskError(exception_class_path="jobs.exceptions.JobCancelled",
                          traceback=f"Job #{job.pk} was cancelled.")]  # fmt: skip
    if job.status == "expired":
        reason = (job.error or {}).get("message") or "its deadline passed before it ran"
        return [TaskError(exception_class_path=f"{__name__}.JobExpired", traceback=f"Job #{job.pk} expired: {reason}")]
    if not job.error:
        return []
    return [TaskError(exception_class_path=_exception_path(job.error), traceback=job.error.get("traceback") or
                      f"{job.error.get('type')}: {job.error.get('message')}")]  # fmt: skip


def _exception_path(error: dict) -> str:
    """The exception's import path. The recorded type is the class name; Python's traceback names
    it `module.Class: message` (a builtin bare). Errors recorded without a traceback are the runner's."""
    name = error.get("type") or "Exception"
    for line in reversed((error.get("traceback") or "").splitlines()):
        head = line.split(":", 1)[0].strip()
        if head.endswith(f".{name}") and NAME.match(head):
            return head
    if name == "JobTimeout":
        return "jobs.runner.JobTimeout"
    found = getattr(builtins, name, None)
    return f"builtins.{name}" if isinstance(found, type) and issubclass(found, BaseException) else "builtins.Exception"


# --- tasks as handlers -------------------------------------------------------------------------

_tasks: dict[str, Task] = {}


def register_task(task: Task, options: dict) -> None:
    """Make `task` the handler named by its import path, with `options` under its own @job_options."""
    name = task.module_path
    if name in _tasks and _tasks[name].func is task.func:
        return
    chosen = {**options, **getattr(task.func, "job_options", {})}
    backoff = chosen.get("backoff")
    if isinstance(backoff, dict):
        backoff = registry.exponential(**backoff)
    registry.register_handler(
        name,
        _adapter(name),
        queue=task.queue_name,
        max_attempts=chosen.get("max_attempts"),
        timeout=chosen.get("timeout"),
        priority=task.priority,
        backoff=backoff,
        validate=_validator(task),
        description=(task.func.__doc__ or "").strip().split("\n")[0],
    )
    _tasks[name] = task


def _adapter(name: str) -> Callable[..., Any]:
    def run_task(ctx: JobContext, *, args: list, kwargs: dict) -> Any:
        task = _tasks[name]
        if task.takes_context:
            result = task.get_backend()._result(task, ctx.job, workers=_workers(ctx.job))
            value = task.call(JobTaskContext(task_result=result, job=ctx), *args, **kwargs)
        else:
            value = task.call(*args, **kwargs)
        try:
            return to_json(value)
        except ValueError as exc:  # it ran: running it again would repeat its effects
            raise PermanentJobError(f"Task return value must be JSON round-trippable: {exc}") from None

    run_task.__qualname__ = f"run_task[{name}]"
    return run_task


def _validator(task: Task) -> Callable[[dict], dict]:
    """Job args of a task: exactly {"args": [...], "kwargs": {...}}, JSON, and a call the function accepts."""
    signature = inspect.signature(task.func)

    def validate(payload: dict) -> dict:
        if not isinstance(payload, dict) or set(payload) - {"args", "kwargs"}:
            raise InvalidJob({"args": ['Must be {"args": [...], "kwargs": {...}} for a task.']})
        args, kwargs = payload.get("args", []), payload.get("kwargs", {})
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise InvalidJob({"args": ['Must be {"args": [...], "kwargs": {...}} for a task.']})
        try:
            signature.bind(*([None] if task.takes_context else []), *args, **kwargs)
        except TypeError as exc:
            raise InvalidJob({"args": [str(exc)]}) from None
        return {"args": args, "kwargs": kwargs}

    return validate


def _task_for(name: str) -> Task | None:
    if name not in _tasks:
        try:
            registry.get_handler(name)  # not imported here yet: the resolvers find it by name
        except UnknownHandler:
            return None
    return _tasks.get(name)


__all__ = ["JobExpired", "JobTaskContext", "JobsBackend", "TaskArgumentsError", "job_options", "register_task"]
