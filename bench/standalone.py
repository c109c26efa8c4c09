"""What the standalone benchmarks (bench/tasks_enqueue.py, bench/batch_enqueue.py) share: a scratch
database of each kind, and one child process per database, since Django is set up once per process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


def database_url(kind: str, *, name: str, workdir: Path) -> str:
    """A fresh database: a SQLite file in `workdir`, or the PostgreSQL database `name`, recreated."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / f'{name}.sqlite3'}"
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def run_child(script: str, url: str, *args: str) -> dict:
    """`script --child ARGS` on the database `url`, in production mode over plain HTTP; the JSON object
    its last line prints."""
    env = {
        **os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "0", "LOG_LEVEL": "WARNING",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench-only-" + "x" * 50),
        "DJANGO_ALLOWED_HOSTS": "testserver", "DJANGO_SECURE_SSL_REDIRECT": "0",
    }  # fmt: skip
    out = subprocess.run([sys.executable, script, "--child", *args], env=env, check=True, capture_output=True,
                         text=True).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def write_section(section: Path, title: str, text: str) -> None:
    """Keep `text` in `section` (bench/report.py puts it into docs/BENCHMARKS.md on every run), and
    update that section of docs/BENCHMARKS.md in place now, before the analysis of the misses."""
    section.write_text(text)
    document = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"
    doc = document.read_text()
    if title in doc:
        start = doc.index(title)
        end = doc.find("\n## ", start + len(title))
        doc = doc[:start] + text + ("\n" + doc[end + 1 :] if end != -1 else "")
    else:
        at = doc.find("## Analysis of the misses")
        doc = doc[:at] + text + "\n" + doc[at:] if at != -1 else doc.rstrip() + "\n\n" + text
    document.write_text(doc)
