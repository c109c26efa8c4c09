"""`make bench`'s settings for the product under test: the product's own, plus the ceiling endpoint
(`bench/ceiling`, a bare insert the enqueue API is compared with). Nothing bench-only is in config/."""

from config.settings import *  # noqa: F401,F403
from config.settings import INSTALLED_APPS as PRODUCT_APPS

INSTALLED_APPS = [*PRODUCT_APPS, "bench.ceiling"]
ROOT_URLCONF = "bench.urls"
