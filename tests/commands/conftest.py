import pytest

from tests.commands.call import run_command


@pytest.fixture
def command():
    return run_command
