"""Set-based writes to the catalogue: one upsert per block of rows, never a query per row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from updater.blocks import ProductBlock, blocks_from_rows
from updater.models import Product

# PostgreSQL receives each column as one string of values joined by the unit separator (U+001F,
# a control character no valid value contains, see updater.rows), split back by string_to_array:
# one parameter per column whatever the chunk size, each built by a single str.join.
SEPARATOR = "\x1f"
_PG_CAST = {"sku": "", "name": "", "price": "::numeric[]", "currency": "", "stock": "::integer[]", "active": "::boolean[]"}
_PG_TEXT = {"price": str, "stock": str, "active": {True: "t", False: "f"}.__getitem__}


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0  # rows folded into a later row with the same sku in the same chunk

    def add(self, other: UpsertCounts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.duplicates += other.duplicates


def product_upsert_chunk(*, rows: list[dict], now: datetime | None = None) -> UpsertCounts:
    """Create or update the products of clean `rows` in one transaction (see blocks_from_rows for
    rows sharing a sku, and product_upsert_blocks for what is written)."""
    blocks, duplicates = blocks_from_rows(rows)
    counts = product_upsert_blocks(blocks=blocks, now=now)
    counts.duplicates = duplicates
    return counts


def product_upsert_blocks(*, blocks: list[ProductBlock], now: datetime | None = None) -> UpsertCounts:
    """Write blocks (skus unique across all of them) in one transaction. Only a block's columns
    are written; a product whose values would not change is not written at all (its `updated_at`
    stays). Rows are written in sku order, so concurrent writers lock in the same order."""
    counts = UpsertCounts()
    blocks = [block for block in blocks if len(block)]
    if not blocks:
        return counts
    stamp = connection.ops.adapt_datetimefield_value(now or timezone.now())
    write = _upsert_postgresql if connection.vendor == "postgresql" else _upsert_sqlite
    with transaction.atomic(), connection.wrap_database_errors:
        cursor = _driver_cursor()
        try:
            for block in blocks:
                created, updated = write(cursor, block, stamp)
                counts.created += created
                counts.updated += updated
                counts.unchanged += len(block) - created - updated
        finally:
            cursor.close()
    return counts


def _driver_cursor():
    """The driver's own cursor on Django's connection, so inside its transaction. Django's cursor
    would, with DEBUG on, keep the text of every chunk's statement (hundreds of KB each) in
    connection.queries. On PostgreSQL it binds on the server, so the statement, the same for
    every chunk, is prepared once per connection (psycopg's prepare_threshold)."""
    if connection.vendor == "postgresql":
        import psycopg  # only PostgreSQL needs it

        return psycopg.Cursor(connection.connection)
    return connection.connection.cursor()


def _conflict_clause(columns: tuple[str, ...], distinct: str) -> str:
    changing = [column for column in columns if column != "sku"]
    if not changing:
        return "ON CONFLICT (sku) DO NOTHING"
    assignments = ", ".join(f"{column} = EXCLUDED.{column}" for column in changing)
    current = ", ".join(f"p.{column}" for column in changing)
    incoming = ", ".join(f"EXCLUDED.{column}" for column in changing)
    # The WHERE makes an unchanged row cost nothing: no new row version, no index update.
    return (
        f"ON CONFLICT (sku) DO UPDATE SET {assignments}, updated_at = EXCLUDED.updated_at "
        f"WHERE ({current}) {distinct} ({incoming})"
    )


def _upsert_postgresql(cursor, block: ProductBlock, stamp) -> tuple[int, int]:
    table = connection.ops.quote_name(Product._meta.db_table)
    names = ", ".join(block.columns)
    arrays = ", ".join(f"string_to_array(%s, chr(31)){_PG_CAST[column]}" for column in block.columns)
    sql = (
        f"WITH written AS (INSERT INTO {table} AS p ({names}, created_at, updated_at) "
        f"SELECT {names}, %s, %s FROM unnest({arrays}) AS incoming ({names}) ORDER BY sku "
        f"{_conflict_clause(block.columns, 'IS DISTINCT FROM')} RETURNING (xmax = 0) AS created) "
        "SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM written"
    )
    joined = []
    for column, values in zip(block.columns, block.values):
        text = _PG_TEXT.get(column)
        joined.append(SEPARATOR.join(map(text, values) if text else values))
        if joined[-1].count(SEPARATOR) != len(values) - 1:  # only rows that skipped updater.rows
            raise ValueError(f"{column}: a value holds the control character U+001F")
    cursor.execute(sql, [stamp, stamp, *joined])
    created, updated = cursor.fetchone()
    return created, updated


def _upsert_sqlite(cursor, block: ProductBlock, stamp) -> tuple[int, int]:
    table = connection.ops.quote_name(Product._meta.db_table)
    width = len(block.columns) + 2
    batch = max(1, connection.features.max_query_params // width)
    placeholders = "(" + ", ".join(["?"] * width) + ")"
    rows = list(zip(*block.values))
    sku = block.columns.index("sku")
    created = written = 0
    for start in range(0, len(rows), batch):
        part = rows[start : start + batch]
        skus = [row[sku] for row in part]
        # SQLite has no xmax: the skus already present tell creations from updates.
        cursor.execute(f"SELECT count(*) FROM {table} WHERE sku IN ({', '.join(['?'] * len(skus))})", skus)
        created += len(part) - cursor.fetchone()[0]
        cursor.execute(
            f"INSERT INTO {table} AS p ({', '.join(block.columns)}, created_at, updated_at) "
            f"VALUES {', '.join([placeholders] * len(part))} "
            f"{_conflict_clause(block.columns, 'IS NOT')} RETURNING 1",
            [value for row in part for value in (*row, stamp, stamp)],
        )
        written += len(cursor.fetchall())
    return created, written - created
