"""The only settings module. Everything that differs between machines comes from the environment
(documented in `.env.example`); a `.env` file beside manage.py is read when present."""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="") or ("dev-only" if DEBUG else "")
PLACEHOLDER_KEYS = ("change-me", "changeme", "dev-only", "django-insecure", "your-secret", "placeholder")
if not DEBUG and (
    len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or any(word in SECRET_KEY.lower() for word in PLACEHOLDER_KEYS)
):
    # Production mode signs sessions, CSRF tokens and password resets with this key: refuse to start.
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a random value of at least 50 characters when DJANGO_DEBUG=0 "
        "(not a placeholder). Generate one: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# HTTPS in production mode; each can be turned off (e.g. behind a proxy that redirects itself, or a
# plain-HTTP machine of one's own: `make run` does so). Documented in .env.example.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):  # the proxy sets X-Forwarded-Proto
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz?/?$", r"^readyz/?$"]

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

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
    "config.throttles.LoginLockoutMiddleware",
]
# Who may upload a feed, and its size, are checked before a byte of the body is read or spooled: in
# the request phase, so before the CSRF check (a view-phase hook, which reads a multipart body to
# find its token), and after AuthenticationMiddleware, which tells who is asking.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "updater.upload_guard.FeedUploadGuardMiddleware",
)


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

# A cache shared by web and workers (API throttles count in it).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "django_cache",
    }
}

# ModelBackend behind the lockout: it refuses every password check of a locked-out username or address.
AUTHENTICATION_BACKENDS = ["config.throttles.LoginLockoutBackend"]
LOGIN_MAX_FAILURES = env.int("LOGIN_MAX_FAILURES", default=10)  # per username, 0: no limit
LOGIN_MAX_FAILURES_PER_ADDRESS = env.int("LOGIN_MAX_FAILURES_PER_ADDRESS", default=50)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)

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
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
# DRF throttles ("<n>/<second|minute|hour|day>"; empty: off), answered 429 with Retry-After.
API_THROTTLE_TOKEN = env("API_THROTTLE_TOKEN", default="20/minute")  # per client address
API_THROTTLE_ENQUEUE = env("API_THROTTLE_ENQUEUE", default="120/minute")  # per user, every POST that starts a job
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=32)
DB_UNAVAILABLE_RETRY_AFTER = env.int("DB_UNAVAILABLE_RETRY_AFTER", default=5)
SPECTACULAR_SETTINGS = {
    "TITLE": "Long Process API",
    "DESCRIPTION": "Background jobs with a record of truth, and the product updater built on them.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs are public (they describe the API, they hold no data), so clients and
    # the fuzzer (scripts/fuzz_api.py) can read them before they have a token.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI served from our own static files: the docs work offline. (Redoc is not served: its
    # page loads fonts from the internet.)
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "/favicon.ico",
    # Request bodies as their own components: they carry the input bounds (minLength, ...), and an
    # uploaded file is `format: binary` (a file picker in Swagger's "Try it out").
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.add_error_responses",
    ],
}

# --- Jobs -----------------------------------------------------------------------------------
# Queues with their weights, as asynq writes them: "critical:6,default:3,low:1" (a bare name weighs
# 1). A cluster serves JOBS_SERVE_QUEUES (default: all) and, for each claim, orders them at random
# by weight (a queue comes first with probability weight/sum), or by weight alone when
# JOBS_STRICT_QUEUES is set. The first queue listed is where jobs go by default.
JOBS_QUEUE_WEIGHTS = {
    name.strip(): int(weight or 1)
    for name, _, weight in (item.partition(":") for item in env.list("JOBS_QUEUES", default=["default"]))
}
JOBS_QUEUES = list(JOBS_QUEUE_WEIGHTS)
JOBS_SERVE_QUEUES = env.list("JOBS_SERVE_QUEUES", default=JOBS_QUEUES)
JOBS_STRICT_QUEUES = env.bool("JOBS_STRICT_QUEUES", default=False)
JOBS_WORKERS = env.int("JOBS_WORKERS", default=2)
# A cluster holds at most workers + prefetch jobs (running or reserved in its buffer), so priority,
# pause and limits are decided close to the moment a job starts.
JOBS_PREFETCH = env.int("JOBS_PREFETCH", default=1)
JOBS_ONRAMP_SECONDS = env.float("JOBS_ONRAMP_SECONDS", default=2.0)  # a new cluster's capacity grows over this
JOBS_POLL_SECONDS = env.float("JOBS_POLL_SECONDS", default=0.05)  # SQLite: how often an idle pusher looks
JOBS_LISTEN_SECONDS = env.float("JOBS_LISTEN_SECONDS", default=1.0)  # PostgreSQL: longest wait on LISTEN
JOBS_MAX_TIMEOUT = env.int("JOBS_MAX_TIMEOUT", default=3600)
JOBS_DEFAULT_TIMEOUT = env.int("JOBS_DEFAULT_TIMEOUT", default=600)
JOBS_DEFAULT_MAX_ATTEMPTS = env.int("JOBS_DEFAULT_MAX_ATTEMPTS", default=3)
JOBS_HEARTBEAT_SECONDS = env.float("JOBS_HEARTBEAT_SECONDS", default=2.0)
JOBS_STALE_SECONDS = env.float("JOBS_STALE_SECONDS", default=10.0)
JOBS_CANCEL_GRACE_SECONDS = env.float("JOBS_CANCEL_GRACE_SECONDS", default=30.0)
# A worker that cannot record an outcome (the database is down) tries again this long.
JOBS_RECORD_RETRY_SECONDS = env.float("JOBS_RECORD_RETRY_SECONDS", default=30.0)
JOBS_HANDLER_MODULES = env.list("JOBS_HANDLER_MODULES", default=[])
JOBS_MAX_ACTIVE_PER_USER = env.int("JOBS_MAX_ACTIVE_PER_USER", default=100)  # queued + running; 0: no cap
JOBS_QUOTA_RETRY_AFTER = env.int("JOBS_QUOTA_RETRY_AFTER", default=30)
JOBS_MAX_DELAY_SECONDS = env.int("JOBS_MAX_DELAY_SECONDS", default=365 * 86400)  # run_after / delay bound
# Handler middleware (jobs/middleware.py), outermost first: each wraps every run of a handler.
JOBS_MIDDLEWARE = ["jobs.middleware.log_context", "jobs.tracing.trace_run"]
# The same around each enqueue's insert: `middleware(call_next) -> call(job)` (job not yet saved).
JOBS_ENQUEUE_MIDDLEWARE = ["jobs.tracing.trace_enqueue"]
# /readyz and `jobs_health` also require a cluster seen within JOBS_STALE_SECONDS (docs/OPERATIONS.md).
JOBS_REQUIRE_WORKERS = env.bool("JOBS_REQUIRE_WORKERS", default=False)
# /metrics answers a request bearing `Authorization: Bearer <METRICS_TOKEN>`, or a logged-in staff
# user. Empty: staff only. Counters and histograms of several processes (gunicorn and qcluster
# workers) add up when they share PROMETHEUS_MULTIPROC_DIR, read by prometheus-client itself.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # read by prometheus-client at import: an environment variable
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
JOBS_IDEMPOTENCY_SECONDS = env.int("JOBS_IDEMPOTENCY_SECONDS", default=86400)  # how long an Idempotency-Key replays
JOBS_BATCH_MAX_JOBS = env.int("JOBS_BATCH_MAX_JOBS", default=1000)  # POST /api/v1/jobs/batch/
JOBS_BULK_MAX_JOBS = env.int("JOBS_BULK_MAX_JOBS", default=10000)  # bulk retry/cancel by filter, per call
# Retention: finished jobs (and their events) older than this, counted from finished_at, go with
# the built-in prune (`jobs.prune`, `manage.py jobs_prune`), JOBS_PRUNE_BATCH jobs per transaction.
JOBS_RETAIN_SUCCEEDED_SECONDS = env.int("JOBS_RETAIN_SUCCEEDED_SECONDS", default=7 * 86400)
JOBS_RETAIN_FAILED_SECONDS = env.int("JOBS_RETAIN_FAILED_SECONDS", default=30 * 86400)  # kept to debug
JOBS_RETAIN_CANCELLED_SECONDS = env.int("JOBS_RETAIN_CANCELLED_SECONDS", default=7 * 86400)
JOBS_RETAIN_EXPIRED_SECONDS = env.int("JOBS_RETAIN_EXPIRED_SECONDS", default=7 * 86400)
JOBS_PRUNE_BATCH = env.int("JOBS_PRUNE_BATCH", default=1000)
JOBS_PRUNE_PAUSE_SECONDS = env.float("JOBS_PRUNE_PAUSE_SECONDS", default=0.0)  # between batches
# Whether clusters create the built-in schedules (retention: jobs/builtin_schedules.py). Off: none is
# created (run `jobs_prune` and friends from cron instead); existing ones stay, to pause or edit.
JOBS_BUILTIN_SCHEDULES = None if env.bool("JOBS_BUILTIN_SCHEDULES", default=True) else []

# django-q2 is the executor (sentinel, pusher, workers, monitor, timeouts, recycling); its pusher
# takes work from the Job table through our broker, which reserves at most what the cluster can
# start soon. The runner records every outcome and never raises, so django-q2 keeps no results.
Q_CLUSTER = {
    "name": env("Q_CLUSTER_NAME", default="jobs"),
    "broker_class": "jobs.broker.JobTableBroker",
    "workers": JOBS_WORKERS,
    "timeout": JOBS_MAX_TIMEOUT + 10,
    "retry": JOBS_MAX_TIMEOUT + 60,
    "max_attempts": 1,
    "ack_failures": True,
    "save_limit": -1,
    # The buffer between pusher and workers: the pusher blocks while it is full, and reserves again
    # as soon as a worker takes a job (the broker's capacity bounds what a cluster holds in all).
    "queue_limit": max(1, JOBS_PREFETCH),
    "scheduler": False,
    "catch_up": False,
    "label": "Django Q2",
}

# --- Updater --------------------------------------------------------------------------------
UPDATER_CHUNK_SIZE = env.int("UPDATER_CHUNK_SIZE", default=5000)
UPDATER_MAX_ROWS_PER_SECOND = env.int("UPDATER_MAX_ROWS_PER_SECOND", default=0)  # 0: no throttle
UPDATER_MAX_FEED_BYTES = env.int("UPDATER_MAX_FEED_BYTES", default=200 * 1024 * 1024)
# Seconds a feed's file is kept after its import ended; 0: deleted as the import ends, else by
# `manage.py updater_prune_feeds` (run it from cron or a schedule).
UPDATER_FEED_RETENTION_SECONDS = env.int("UPDATER_FEED_RETENTION_SECONDS", default=86400)

# --- django.tasks (docs/TASKS.md) -----------------------------------------------------------
# Django's task API runs as our jobs: `@task` functions become handlers, `task.enqueue()` a job.
TASKS = {
    "default": {
        "BACKEND": "jobs.tasks_backend.JobsBackend",
        "QUEUES": JOBS_QUEUES,
        "OPTIONS": {},  # max_attempts, timeout, backoff: every task's defaults (else the JOBS_DEFAULT_* ones)
    }
}

LOG_FORMAT = env.str("LOG_FORMAT", default="plain")  # plain, or json: one object per line
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Job lines end with [action=... job_id=... handler=... status=... trace_id=...] (config/logging.py).
    "filters": {"job_context": {"()": "config.logging.JobContextFilter"}},
    "formatters": {
        "plain": {"()": "config.logging.PlainFormatter", "format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["job_context"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django-q": {"level": env("DJANGO_Q_LOG_LEVEL", default="WARNING")}},
}
