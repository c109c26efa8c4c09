import sys

import pytest

from jobs import registry, tasks_backend

FRESH = "tests.tasks.unimported"


@pytest.fixture
def fresh_module():
    """`tests.tasks.unimported` as a worker that never imported it sees it: not loaded, its tasks not
    registered (before and after the test, so the order of tests does not matter)."""

    def forget() -> None:
        sys.modules.pop(FRESH, None)
        for name in [name for name in tasks_backend._tasks if name.startswith(f"{FRESH}.")]:
            del tasks_backend._tasks[name]
            del registry._registry[name]

    forget()
    yield FRESH
    forget()
