"""How web and worker processes know the django.tasks tasks they run as jobs: each installed app's
`tasks` module is imported at start (`autodiscover`), and a job naming a task not imported yet is
resolved by its import path (`resolve_handler`, a resolver of jobs.registry), safely: only modules
of installed apps or under JOBS_HANDLER_MODULES are imported, and nothing is called but the import."""

from __future__ import annotations

import logging
from importlib import import_module, util

from django.apps import apps
from django.conf import settings

from jobs import registry
from jobs.tasks_backend import NAME, JobsBackend, Task, register_task

logger = logging.getLogger(__name__)


def autodiscover() -> None:
    """Import each installed app's `tasks` module, so its tasks are handlers from the start (the
    console's and the admin's handler lists, `jobs_handlers`)."""
    for config in apps.get_app_configs():
        if util.find_spec(f"{config.name}.tasks") is not None:
            import_module(f"{config.name}.tasks")


def resolve_handler(name: str) -> None:
    """Register the task `name` (an import path) when it is a Task of a JobsBackend; else do nothing,
    and the caller's lookup raises UnknownHandler."""
    module, _, attr = name.rpartition(".")
    if not NAME.match(name) or not _trusted(module):
        return
    try:
        if util.find_spec(module) is None:
            return
        found = getattr(import_module(module), attr, None)
    except ImportError:
        return
    except Exception:  # a module that fails to import is no handler: an unknown one, not a crash
        logger.exception("task module failed to import", extra={"action": "task.resolve_failed", "handler": name})
        return
    if isinstance(found, Task) and found.module_path == name and isinstance(found.get_backend(), JobsBackend):
        register_task(found, found.get_backend().options)
        logger.info("task found by name", extra={"action": "task.resolved", "handler": name})


def _trusted(module: str) -> bool:
    roots = [config.name for config in apps.get_app_configs()] + list(settings.JOBS_HANDLER_MODULES)
    return any(module == root or module.startswith(f"{root}.") for root in roots)


registry.add_resolver(resolve_handler)
