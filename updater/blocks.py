"""Clean rows in columns: the shape a chunk of a feed takes on its way to the database."""

from __future__ import annotations

from dataclasses import dataclass, field

from updater.rows import COLUMNS


@dataclass
class ProductBlock:
    """Clean rows by column: `values[i]` holds column `columns[i]` of every row; skus are unique."""

    columns: tuple[str, ...]
    values: list[list] = field(repr=False)

    def __len__(self) -> int:
        return len(self.values[0]) if self.values else 0

    def rows(self) -> list[dict]:
        return [dict(zip(self.columns, row)) for row in zip(*self.values)]


def blocks_from_rows(rows: list[dict]) -> tuple[list[ProductBlock], int]:
    """Clean rows (each with a sku) as blocks, one per set of columns, and how many rows were
    merged away: rows sharing a sku are merged in order, later values winning, as if applied one
    after another."""
    merged: dict[str, dict] = {}
    for row in rows:
        earlier = merged.get(row["sku"])
        if earlier is None:
            merged[row["sku"]] = row
        else:
            earlier.update(row)
    groups: dict[tuple[str, ...], list[dict]] = {}
    for row in merged.values():
        groups.setdefault(tuple(column for column in COLUMNS if column in row), []).append(row)
    blocks = [ProductBlock(columns, [[row[c] for row in group] for c in columns]) for columns, group in groups.items()]
    return blocks, len(rows) - len(merged)
