"""The rules for one feed row: which columns exist and what each value must be.

A value that is absent (a missing JSON key, JSON null, or an empty or blank cell) means "leave the
product's current value alone", so a feed of `sku,price` only ever changes prices. Present values
must be exact:

- `sku`: a string of 1 to 64 printable characters without spaces (surrounding blanks are trimmed).
- `name`: a string of at most 255 characters, without control characters (tabs, line breaks).
- `price`: a decimal number >= 0 with at most 2 decimal places and 10 digits before the point,
  written with a dot and no exponent ("19.99", "5"); never read through a float, so it is exact.
- `currency`: an ISO 4217 code, three uppercase letters ("EUR").
- `stock`: a whole number from 0 to 2147483647.
- `active`: true/false, 1/0 or yes/no (any case), or a JSON boolean.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Any

COLUMNS = ("sku", "name", "price", "currency", "stock", "active")
MAX_STOCK = 2_147_483_647
MAX_PRICE = Decimal(10) ** 10

_PRICE = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,2})?")  # the common case, accepted without further checks
_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_WHOLE = re.compile(r"[0-9]{1,10}")
# No text value may hold one: the PostgreSQL upsert uses U+001F to separate values.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
_NOT_UTF8 = "\ufffd"  # what the feed reader puts in place of bytes that are not UTF-8


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if _NOT_UTF8 in value:
        raise ValueError("is not valid UTF-8")
    text = value.strip()
    if _CONTROL.search(text):
        raise ValueError("contains control characters (tabs, line breaks, NUL...)")
    return text


def clean_sku(value: Any) -> str:
    text = _text(value)
    if not text:
        raise ValueError("is required")
    if len(text) > 64:
        raise ValueError("must be at most 64 characters")
    if not text.isprintable() or " " in text:
        raise ValueError(f"{_show(text)} contains spaces or control characters")
    return text


def clean_name(value: Any) -> str:
    text = _text(value)
    if len(text) > 255:
        raise ValueError("must be at most 255 characters")
    return text


def clean_price(value: Any) -> Decimal:
    if isinstance(value, str):
        text = value.strip()
        if _PRICE.fullmatch(text):
            return Decimal(text)
        if not _NUMBER.fullmatch(text):
            raise ValueError(f"{_show(text)} is not a decimal number (write it like 19.99)")
        number = Decimal(text)
    elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        number = Decimal(value)
    else:
        raise ValueError("must be a number or a decimal string")
    try:
        if not number.is_finite():
            raise ValueError("must be a finite number")
        if number < 0:
            raise ValueError("must be >= 0")
        if number.as_tuple().exponent < -2:
            raise ValueError(f"{_show(str(value))} has more than 2 decimal places")
        if number >= MAX_PRICE:
            raise ValueError("must be below 10000000000")
    except InvalidOperation:  # a signalling NaN cannot even be compared
        raise ValueError("must be a finite number") from None
    return number


def clean_currency(value: Any) -> str:
    text = _text(value)
    if not _CURRENCY.fullmatch(text):
        raise ValueError(f"{_show(text)} is not an ISO 4217 code (three uppercase letters, like EUR)")
    return text


def clean_stock(value: Any) -> int:
    if isinstance(value, str):
        text = value.strip()
        if not _WHOLE.fullmatch(text):
            if _NUMBER.fullmatch(text) and text.startswith("-"):
                raise ValueError("must be >= 0")
            raise ValueError(f"{_show(text)} is not a whole number")
        number = int(text)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise ValueError("must be a whole number")
    if number < 0:
        raise ValueError("must be >= 0")
    if number > MAX_STOCK:
        raise ValueError(f"must be at most {MAX_STOCK}")
    return number


def clean_active(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError(f"{_show(value)} is not a boolean (true/false, 1/0, yes/no)")


CLEANERS: dict[str, Callable[[Any], Any]] = {
    "sku": clean_sku,
    "name": clean_name,
    "price": clean_price,
    "currency": clean_currency,
    "stock": clean_stock,
    "active": clean_active,
}


def row_clean(values: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """(clean row, "") when every present value is valid and a sku is given; else (None, reason),
    the reason naming each bad column."""
    clean: dict[str, Any] = {}
    problems: list[str] = []
    for column, value in values.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        cleaner = CLEANERS.get(column)
        if cleaner is None:
            problems.append(f"unknown column {_show(column)}")
            continue
        try:
            clean[column] = cleaner(value)
        except ValueError as exc:
            problems.append(f"{column}: {exc}")
    if "sku" not in clean and not any(problem.startswith("sku:") for problem in problems):
        problems.insert(0, "sku: is required")
    return (None, "; ".join(problems)) if problems else (clean, "")


# The fast path for CSV text, a column of a chunk at a time: a column is checked by one regex
# scan over its cells joined by line breaks, and converted by one constructor mapped over it,
# instead of Python calls per cell. It only accepts cells that the rules above accept unchanged,
# so a row it accepts is the row row_clean returns; any other row (blank cells, spaces to trim,
# errors) goes to row_clean.
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


class _ColumnCheck:
    """Finds the cells of a column that do not match `pattern` in full."""

    def __init__(self, pattern: str):
        self.cell = re.compile(pattern)
        self.failing_line = re.compile(rf"^(?!(?:{pattern})$).*$", re.MULTILINE)

    def __call__(self, cells: Sequence[str]) -> list[int]:
        text = "\n".join(cells)
        if text.count("\n") != len(cells) - 1:  # a cell holds a line break: check cell by cell
            return [i for i, cell in enumerate(cells) if not self.cell.fullmatch(cell)]
        failing, line, position = [], 0, 0
        for match in self.failing_line.finditer(text):
            line += text.count("\n", position, match.start())
            position = match.start()
            failing.append(line)
        return failing


_SKU_PLAIN = _ColumnCheck(r"[!-~]{1,64}")  # printable ASCII without spaces: almost every sku
_NAME_PLAIN = _ColumnCheck(r"[^\x00-\x1f\x7f\ufffd]{1,255}")
_PRICE_PLAIN = _ColumnCheck(_PRICE.pattern)
_CURRENCY_PLAIN = _ColumnCheck(_CURRENCY.pattern)
_STOCK_PLAIN = _ColumnCheck(r"[0-9]{1,9}")  # below MAX_STOCK without comparing


def _converted(convert: Callable[[str], Any], cells: Sequence[str], failing: list[int]) -> list:
    if failing:  # convertible stand-ins, so that the map below stays one C-level pass
        cells = list(cells)
        for index in failing:
            cells[index] = "0"
    return list(map(convert, cells))


def _as_is(check: _ColumnCheck) -> Callable[[Sequence[str]], tuple[list, list[int]]]:
    return lambda cells: (list(cells), check(cells))


def _names(cells: Sequence[str]) -> tuple[list, list[int]]:
    stripped = list(map(str.strip, cells))
    return stripped, _NAME_PLAIN(stripped)


def _prices(cells: Sequence[str]) -> tuple[list, list[int]]:
    failing = _PRICE_PLAIN(cells)
    return _converted(Decimal, cells, failing), failing


def _stocks(cells: Sequence[str]) -> tuple[list, list[int]]:
    failing = _STOCK_PLAIN(cells)
    return _converted(int, cells, failing), failing


def _actives(cells: Sequence[str]) -> tuple[list, list[int]]:
    values = list(map(_BOOLEANS.get, map(str.lower, cells)))
    return values, ([i for i, value in enumerate(values) if value is None] if None in values else [])


_FAST_COLUMNS = {
    "sku": _as_is(_SKU_PLAIN),
    "name": _names,
    "price": _prices,
    "currency": _as_is(_CURRENCY_PLAIN),
    "stock": _stocks,
    "active": _actives,
}


def csv_columns_clean(columns: Sequence[str], records: list[list[str]]) -> tuple[list[list], list[int]]:
    """The fast path over CSV records that all have one cell per column: the clean values, one
    list per column, of the records every column accepts, and the indices of the other records,
    for row_clean to explain (or to accept after trimming, or with absent values)."""
    values: list[list] = []
    slow: set[int] = set()
    for column, cells in zip(columns, zip(*records)):
        column_values, failing = _FAST_COLUMNS[column](cells)
        values.append(column_values)
        slow.update(failing)
    if not records:
        return [[] for _ in columns], []
    if slow:
        keep = [i for i in range(len(records)) if i not in slow]
        pick = itemgetter(*keep) if len(keep) > 1 else lambda cells: tuple(cells[i] for i in keep)
        values = [list(pick(column_values)) for column_values in values]
    return values, sorted(slow)


def _show(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"
