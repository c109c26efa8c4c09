"""Bare django-q2 for comparison: the product's database, broker and connection settings, but
none of its apps and django-q2's own defaults for everything the product changes about bookkeeping
(results saved, save_limit 250, failures not acknowledged, retry 60 s, no max_attempts)."""

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

# Same broker, cluster name, worker count, prefetch and poll; django-q2 defaults for the rest.
SAME = ("name", "workers", "queue_limit", "poll", "label", "ALT_CLUSTERS", "orm", "redis")
Q_CLUSTER = {key: value for key, value in PRODUCT_Q_CLUSTER.items() if key in SAME}
if os.environ.get("BENCH_DJQ_NO_RESULTS") == "1":  # diagnostic variant: django-q2 keeping no results, as the product sets it
    Q_CLUSTER["save_limit"] = -1
