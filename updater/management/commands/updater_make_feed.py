"""Write a realistic demo feed: products SKU-00000000 onwards, some changed, a few percent broken."""

import argparse
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from updater import selectors
from updater.feedgen import demo_feed_write


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def percent(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("must be between 0 and 100")
    return value


class Command(BaseCommand):
    help = (
        "Write a demo feed of --rows products to --out. By default its skus start half-way into the "
        "current catalogue, so half the rows update existing products (most unchanged) and half are new."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rows", type=positive_int, required=True)
        parser.add_argument("--out", type=Path, required=True, help="file to write (replaced if present)")
        parser.add_argument("--format", choices=["csv", "jsonl"], help="default: from --out's suffix, else csv")
        parser.add_argument("--invalid-percent", type=percent, default=2.0, help="rows broken on purpose (2)")
        parser.add_argument("--changed-percent", type=percent, default=10.0, help="rows with new values (10)")
        parser.add_argument("--seed", type=int, default=0, help="which rows change and break (0)")
        parser.add_argument("--start", type=non_negative_int, help="number of the first sku")

    def handle(self, *args, **options) -> None:
        out: Path = options["out"]
        fmt = options["format"] or ("jsonl" if out.suffix in (".jsonl", ".ndjson") else "csv")
        rows = options["rows"]
        start = options["start"] if options["start"] is not None else selectors.demo_feed_start(rows=rows)
        try:
            with out.open("w", encoding="utf-8", newline="") as stream:
                written = demo_feed_write(
                    stream,
                    format=fmt,
                    rows=rows,
                    start=start,
                    seed=options["seed"],
                    invalid_percent=options["invalid_percent"],
                    changed_percent=options["changed_percent"],
                )
        except OSError as exc:
            raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None
        self.stdout.write(
            f"wrote {written.rows:,} rows ({written.invalid:,} invalid) to {out} "
            f"as {fmt}, skus SKU-{start:08d} to SKU-{start + rows - 1:08d}"
        )
