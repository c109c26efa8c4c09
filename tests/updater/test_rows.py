"""The rules for one row: every bad value is refused with a reason naming its column."""

from decimal import Decimal

import pytest

from updater.rows import COLUMNS, csv_columns_clean, row_clean


@pytest.mark.parametrize(
    "values, reason",
    [
        ({"price": "1.00"}, "sku: is required"),
        ({"sku": "   ", "price": "1.00"}, "sku: is required"),
        ({"sku": "A B"}, "sku: 'A B' contains spaces or control characters"),
        ({"sku": "X" * 65}, "sku: must be at most 64 characters"),
        ({"sku": 123}, "sku: must be a string"),
        ({"sku": "A\x00"}, "sku: contains control characters"),
        ({"sku": "A\ufffd"}, "sku: is not valid UTF-8"),
        ({"sku": "A", "name": "N" * 256}, "name: must be at most 255 characters"),
        ({"sku": "A", "name": "two\nlines"}, "name: contains control characters"),
        ({"sku": "A", "name": 5}, "name: must be a string"),
        ({"sku": "A", "price": "-1.00"}, "price: must be >= 0"),
        ({"sku": "A", "price": "12.345"}, "price: '12.345' has more than 2 decimal places"),
        ({"sku": "A", "price": "12,50"}, "price: '12,50' is not a decimal number"),
        ({"sku": "A", "price": "1e3"}, "price: '1e3' is not a decimal number"),
        ({"sku": "A", "price": "n/a"}, "price: 'n/a' is not a decimal number"),
        ({"sku": "A", "price": "12345678901"}, "price: must be below 10000000000"),
        ({"sku": "A", "price": True}, "price: must be a number or a decimal string"),
        ({"sku": "A", "price": 1.5}, "price: must be a number or a decimal string"),
        ({"sku": "A", "price": Decimal("NaN")}, "price: must be a finite number"),
        ({"sku": "A", "price": Decimal("sNaN")}, "price: must be a finite number"),
        ({"sku": "A", "price": Decimal("0.001")}, "price: '0.001' has more than 2 decimal places"),
        ({"sku": "A", "currency": "eur"}, "currency: 'eur' is not an ISO 4217 code"),
        ({"sku": "A", "currency": "EURO"}, "currency: 'EURO' is not an ISO 4217 code"),
        ({"sku": "A", "stock": "-3"}, "stock: must be >= 0"),
        ({"sku": "A", "stock": "2.5"}, "stock: '2.5' is not a whole number"),
        ({"sku": "A", "stock": "lots"}, "stock: 'lots' is not a whole number"),
        ({"sku": "A", "stock": "99999999999"}, "stock: '99999999999' is not a whole number"),
        ({"sku": "A", "stock": "3000000000"}, "stock: must be at most 2147483647"),
        ({"sku": "A", "stock": -1}, "stock: must be >= 0"),
        ({"sku": "A", "stock": 2.0}, "stock: must be a whole number"),
        ({"sku": "A", "stock": True}, "stock: must be a whole number"),
        ({"sku": "A", "active": "maybe"}, "active: 'maybe' is not a boolean"),
        ({"sku": "A", "active": 2}, "active: 2 is not a boolean"),
        ({"sku": "A", "colour": "red"}, "unknown column 'colour'"),
    ],
)
def test_bad_value_is_refused_with_its_reason(values, reason):
    row, error = row_clean(values)
    assert row is None
    assert reason in error


def test_every_bad_column_of_a_row_is_named():
    row, error = row_clean({"sku": "A", "price": "-1", "stock": "x", "currency": "eu"})
    assert row is None
    assert [part.split(":")[0] for part in error.split("; ")] == ["price", "stock", "currency"]


def test_valid_values_are_converted_exactly():
    row, error = row_clean(
        {"sku": " SKU-1 ", "name": " Lamp ", "price": "19.99", "currency": "EUR", "stock": "7", "active": "No"}
    )
    assert error == ""
    assert row == {"sku": "SKU-1", "name": "Lamp", "price": Decimal("19.99"), "currency": "EUR", "stock": 7, "active": False}


@pytest.mark.parametrize("price", ["0", "5", "5.5", "0.01", "9999999999.99", Decimal("19.90"), 7, Decimal("1E+2")])
def test_valid_prices(price):
    row, error = row_clean({"sku": "A", "price": price})
    assert error == "" and row["price"] == Decimal(price)


@pytest.mark.parametrize("text, value", [("true", True), ("FALSE", False), ("1", True), ("0", False), ("yes", True), (False, False)])
def test_valid_booleans(text, value):
    assert row_clean({"sku": "A", "active": text})[0]["active"] is value


def test_absent_values_are_left_out():
    row, error = row_clean({"sku": "A", "name": None, "price": "", "stock": "  "})
    assert (row, error) == ({"sku": "A"}, "")


CELLS = [
    ["SKU-1", "Lamp", "19.99", "EUR", "7", "true"],
    [" SKU-1 ", " Lamp ", " 19.99 ", " EUR ", " 7 ", " TRUE "],
    ["SKU-1", "", "", "", "", ""],
    ["SKU-1", "Lamp", "-1", "eur", "x", "maybe"],
    ["", "Lamp", "1", "EUR", "1", "true"],
    ["SKU 1", "two\tparts", "1.234", "EURO", "3000000000", "2"],
    ["SKU-1", "   ", "0", "USD", "0", "0"],
    ["SKU-2", "Ünïcode ✓", "9999999999.99", "GBP", "999999999", "No"],
    ["SKU-3", "Mug", "5", "USD", "2147483647", "yes"],
    ["S\ufffd", "caf\ufffd", "1", "EUR", "1", "1"],
]


def test_the_csv_fast_path_agrees_with_the_full_rules():
    values, slow = csv_columns_clean(COLUMNS, CELLS)
    fast_rows = iter(dict(zip(COLUMNS, row)) for row in zip(*values))
    for index, cells in enumerate(CELLS):
        expected = row_clean({column: cell for column, cell in zip(COLUMNS, cells) if cell})
        if index not in slow:
            assert (next(fast_rows), "") == expected  # taken by the fast path: exactly the same row
    assert slow == [1, 2, 3, 4, 5, 6, 8, 9]  # a trim, blanks, errors, or a stock near the limit


@pytest.mark.parametrize(
    "cells, failing",
    [
        (["1.00", "2", "x", "4.5", ""], [2, 4]),
        (["bad", "1", "2"], [0]),
        (["1", "2", "-3"], [2]),
        (["1", "two\nlines", "3"], [1]),
        ([""], [0]),
        ([], []),
    ],
)
def test_a_column_check_finds_each_failing_cell(cells, failing):
    from updater.rows import _PRICE_PLAIN

    assert _PRICE_PLAIN(cells) == failing
