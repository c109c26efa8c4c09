"""Bare django-q2 for comparison: the product's database and connection settings, django-q2's own
ORM broker on that database, none of the product's apps, and django-q2's own defaults for everything
else (results saved, failures not acknowledged, retry 60 s, poll 0.2 s, queue_limit workers**2).
`save_limit` is its default 250 (`djq`: pruning the oldest result at each save), or 0 (`djq-keep`: every
result kept, nothing pruned: its best configuration for a full record of every task)."""

import os

from config.settings import *  # noqa: F401,F403
from config.settings import Q_CLUSTER as PRODUCT_Q_CLUSTER

# The jobs app would start the product's worker daemon in every worker: bare means without it.
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django_q",
    "bench.qprobe",
]
ROOT_URLCONF = "bench.qprobe.urls"
MIDDLEWARE = [name for name in MIDDLEWARE if name.startswith("django.")]  # noqa: F405  (none of the product's)

# Same cluster name and worker count, the ORM broker on the same database; django-q2 defaults for the rest.
SAME = ("name", "workers", "label")
Q_CLUSTER = {key: value for key, value in PRODUCT_Q_CLUSTER.items() if key in SAME}
Q_CLUSTER["orm"] = "default"
Q_CLUSTER["save_limit"] = int(os.environ.get("BENCH_DJQ_SAVE_LIMIT", "250"))
