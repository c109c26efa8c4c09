from django.apps import AppConfig


class UpdaterConfig(AppConfig):
    name = "updater"
    default_auto_field = "django.db.models.BigAutoField"
