"""The only settings module. Everything that differs between machines comes from the environment
(documented in `.env.example`); a `.env` file beside manage.py is read when present."""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY") if not DEBUG else env("DJANGO_SECRET_KEY", default="dev-only")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "django_tasks",  # the django.tasks backport (Django 6: built in, drop this line)
    "jobs",
    "updater",
]
if env.bool("BENCH_CEILING", default=False):  # make bench only: the bare insert endpoint (bench/ceiling)
    INSTALLED_APPS += ["bench.ceiling"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# No DATABASE_URL: SQLite, tuned for several writer processes (web + workers). WAL lets readers
# run beside the writer; IMMEDIATE takes the write lock at BEGIN, which removes the deferred
# lock-upgrade deadlock that made django-q2 lose results ("database is locked"); the busy timeout
# makes a writer wait instead of failing.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=30),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Worker subprocesses in the integration tests must see the test database: a file, not memory
    # (one per test run, so that runs side by side do not share it).
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f"test_db_{os.getpid()}.sqlite3")}
else:
    # Persistent connections: opening one per request or per broker poll costs ten times the
    # throughput on PostgreSQL (measured: 1,000 enqueues 19 s at CONN_MAX_AGE=0, 1.2 s at 60).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A shared cache: django-q2's cluster stats (workers alive) must be readable from the web process.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "django_cache",
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "jobs:login"
LOGIN_REDIRECT_URL = "/jobs/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))

# Request bodies above this are refused with 413 (uploads stream to disk and have their own limit).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "config.api.NewestFirstPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Long Process API",
    "DESCRIPTION": "Background jobs with a record of truth, and the product updater built on them.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc served from our own static files: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Jobs -----------------------------------------------------------------------------------
JOBS_QUEUES = env.list("JOBS_QUEUES", default=["default"])
JOBS_WORKERS = env.int("JOBS_WORKERS", default=2)
JOBS_MAX_TIMEOUT = env.int("JOBS_MAX_TIMEOUT", default=3600)
JOBS_DEFAULT_TIMEOUT = env.int("JOBS_DEFAULT_TIMEOUT", default=600)
JOBS_DEFAULT_MAX_ATTEMPTS = env.int("JOBS_DEFAULT_MAX_ATTEMPTS", default=3)
JOBS_HEARTBEAT_SECONDS = env.float("JOBS_HEARTBEAT_SECONDS", default=2.0)
JOBS_STALE_SECONDS = env.float("JOBS_STALE_SECONDS", default=10.0)
JOBS_PUMP_SECONDS = env.float("JOBS_PUMP_SECONDS", default=0.5)
JOBS_REDISPATCH_SECONDS = env.float("JOBS_REDISPATCH_SECONDS", default=30.0)
JOBS_CANCEL_GRACE_SECONDS = env.float("JOBS_CANCEL_GRACE_SECONDS", default=30.0)
JOBS_HANDLER_MODULES = env.list("JOBS_HANDLER_MODULES", default=[])

REDIS_URL = env("REDIS_URL", default="")  # set: django-q2 uses Redis; unset: the ORM broker

# django-q2 is only the delivery channel: the Job row is the record of truth, so django-q2 keeps
# no results (save_limit -1), acknowledges every delivery (our runner never raises), and its
# redelivery window (`retry`) is longer than any job may run, so it never hands out a running job;
# our own heartbeat sweep brings back what a dead worker held, in seconds rather than `retry`.
Q_CLUSTER = {
    "name": JOBS_QUEUES[0],
    "workers": JOBS_WORKERS,
    "timeout": JOBS_MAX_TIMEOUT + 10,
    "retry": JOBS_MAX_TIMEOUT + 60,
    "max_attempts": 1,
    "ack_failures": True,
    "save_limit": -1,
    "queue_limit": JOBS_WORKERS * 2,
    "poll": env.float("JOBS_BROKER_POLL", default=0.2),
    "catch_up": False,
    "label": "Django Q2",
    "ALT_CLUSTERS": {queue: {} for queue in JOBS_QUEUES},
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Updater --------------------------------------------------------------------------------
UPDATER_CHUNK_SIZE = env.int("UPDATER_CHUNK_SIZE", default=5000)
UPDATER_MAX_ROWS_PER_SECOND = env.int("UPDATER_MAX_ROWS_PER_SECOND", default=0)  # 0: no throttle
UPDATER_MAX_FEED_BYTES = env.int("UPDATER_MAX_FEED_BYTES", default=200 * 1024 * 1024)

# --- django.tasks (docs/TASKS.md) -----------------------------------------------------------
# Django's task API runs as our jobs: `@task` functions become handlers, `task.enqueue()` a job.
TASKS = {
    "default": {
        "BACKEND": "jobs.tasks_backend.JobsBackend",
        "QUEUES": JOBS_QUEUES,
        "OPTIONS": {},  # max_attempts, timeout, backoff: every task's defaults (else the JOBS_DEFAULT_* ones)
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django-q": {"level": env("DJANGO_Q_LOG_LEVEL", default="WARNING")}},
}
