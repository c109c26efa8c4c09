"""Running a command as a script would: call_command with text arguments (so the argparse types
apply), capturing stdout, stderr and the exit code a shell would see."""

from dataclasses import dataclass
from io import StringIO

from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def run_command(name: str, *args: str) -> Outcome:
    out, err = StringIO(), StringIO()
    command = load_command_class(get_commands()[name], name)
    try:
        call_command(command, *args, stdout=out, stderr=err)
    except CommandError as exc:
        return Outcome(exc.returncode, out.getvalue(), err.getvalue() + str(exc))
    return Outcome(getattr(command, "exit_code", 0), out.getvalue(), err.getvalue())
