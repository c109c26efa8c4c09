"""Realistic demo feeds, for `updater_make_feed`, the benchmark and the tests.

Product n has sku `SKU-<n, 8 digits>` and base values that depend on n alone, so feeds made with
different seeds agree on most products: a feed over skus the catalogue already has is mostly
unchanged rows, `changed_percent` of them with a new price or stock. `invalid_percent` of the rows
are broken in one of the ways real feeds break (see CORRUPTIONS)."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from updater.rows import COLUMNS

_ADJECTIVES = ("Red", "Compact", "Deluxe", "Eco", "Smart", "Classic", "Heavy", "Mini", "Pro", "Soft")
_NOUNS = ("Kettle", "Lamp", "Chair", "Backpack", "Drill", "Mug", "Blender", "Jacket", "Router", "Tent")
_CURRENCIES = ("EUR", "EUR", "EUR", "USD", "USD", "GBP", "CHF", "SEK")

# Each breaks one value the way a spreadsheet export or a hand edit does.
CORRUPTIONS = (
    ("price", "-4.20"),
    ("price", "12.345"),
    ("price", "12,50"),
    ("price", "n/a"),
    ("currency", "euro"),
    ("stock", "-3"),
    ("stock", "2.5"),
    ("active", "maybe"),
    ("sku", ""),
)


@dataclass
class DemoFeed:
    rows: int = 0
    invalid: int = 0


def demo_rows(
    *, rows: int, seed: int = 0, start: int = 0, invalid_percent: float = 2.0, changed_percent: float = 10.0
) -> Iterator[tuple[dict[str, str], bool]]:
    """(row of feed strings, is_valid) for skus start .. start + rows - 1, in that order."""
    rng = random.Random(seed)
    invalid, changed = invalid_percent / 100, changed_percent / 100
    for n in range(start, start + rows):
        h = (n * 2654435761 + 97) & 0xFFFFFFFF
        cents, stock = 99 + h % 99_900, (h >> 8) % 1000
        if rng.random() < changed:
            cents, stock = rng.randrange(99, 99_999), rng.randrange(1000)
        row = {
            "sku": f"SKU-{n:08d}",
            "name": f"{_ADJECTIVES[h % 10]} {_NOUNS[(h >> 12) % 10]} {n}",
            "price": f"{cents // 100}.{cents % 100:02d}",
            "currency": _CURRENCIES[(h >> 20) % len(_CURRENCIES)],
            "stock": str(stock),
            "active": "false" if (h >> 4) % 20 == 0 else "true",
        }
        if rng.random() < invalid:
            column, value = rng.choice(CORRUPTIONS)
            row[column] = value
            yield row, False
        else:
            yield row, True


def demo_feed_write(out: IO[str], *, format: str = "csv", **options) -> DemoFeed:
    """Write a demo feed (see demo_rows for `options`) to a text stream; returns what it holds."""
    written = DemoFeed()
    writer = csv.writer(out, lineterminator="\n")
    if format == "csv":
        writer.writerow(COLUMNS)
    for row, valid in demo_rows(**options):
        if format == "csv":
            writer.writerow(row.values())
        else:
            out.write(_json_line(row) + "\n")
        written.rows += 1
        written.invalid += not valid
    return written


def _json_line(row: dict[str, str]) -> str:
    values: dict = dict(row)
    # Numbers as JSON numbers, as feeds usually send them (a float's shortest form is the decimal
    # text, and the import reads it back as an exact Decimal); broken values stay strings.
    for column, kind in (("price", float), ("stock", int)):
        try:
            values[column] = kind(values[column])
        except ValueError:
            pass
    values["active"] = {"true": True, "false": False}.get(values["active"], values["active"])
    return json.dumps(values)
