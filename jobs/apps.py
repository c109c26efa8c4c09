from importlib import import_module

from django.apps import AppConfig, apps
from django.conf import settings
from django.utils.module_loading import module_has_submodule


class JobsConfig(AppConfig):
    name = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from jobs import checks, runner, tracing  # noqa: F401  (system checks; the worker's spawn hook)

        tracing.configure()  # OpenTelemetry, when the OTEL_* environment asks for it (docs/OPERATIONS.md)

        # Every app's `handlers` module registers its handlers, in web and worker processes alike.
        for config in apps.get_app_configs():
            if module_has_submodule(config.module, "handlers"):
                import_module(f"{config.name}.handlers")
        for module in settings.JOBS_HANDLER_MODULES:
            import_module(module)
        # django.tasks: each app's `tasks` module, when a backend runs tasks as jobs (docs/TASKS.md).
        backends = [options.get("BACKEND") for options in getattr(settings, "TASKS", {}).values()]
        if "jobs.tasks_backend.JobsBackend" in backends:
            from jobs import tasks_discovery

            tasks_discovery.autodiscover()
