"""Reading feeds: recognising an upload, and streaming its records with exact line numbers."""

import io
from decimal import Decimal

import pytest

from updater import feeds
from updater.feeds import FeedFormatError, FeedShape, feed_chunks, feed_measure, feed_sniff


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "The feed is empty."),
        (b"  \n\n ", "The feed is empty."),
        (b"sku,price,colour\nA,1,red\n", "Unknown column(s): colour."),
        (b"name,price\nLamp,1\n", "The sku column is missing."),
        (b'{"name": "Lamp"}\n', "The sku column is missing."),
        (b'{"sku": "A", "size": 3}\n', "Unknown column(s): size."),
        (b"sku,price,price\nA,1,2\n", "Duplicate column(s): price."),
        (b"sku,,price\nA,,1\n", "empty column name"),
        (b"sku;price\nA;1\n", "separated by commas"),
        (b"sku,price\n", "header but no rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV or JSON Lines file"),
        (b"sku,name\nA,\xff\xfe caf\xe9\n", "not UTF-8"),
        (b'[{"sku": "A"}]', "A JSON array is not JSON Lines"),
        (b'{"sku": "A",\n', "Line 1 is not valid JSON"),
        (b"x" * (feeds.SAMPLE_BYTES + 10), "longer than 64 KB"),
    ],
)
def test_unreadable_upload_is_refused_with_a_reason(content, message):
    sample = content[: feeds.SAMPLE_BYTES]
    with pytest.raises(FeedFormatError) as caught:
        feed_sniff(sample, complete=len(content) <= feeds.SAMPLE_BYTES)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "content, format, columns",
    [
        (b"sku,price\nA,1\n", "csv", ["sku", "price"]),
        (b"\xef\xbb\xbf SKU , Price \r\nA,1\r\n", "csv", ["sku", "price"]),
        (b"\n\nsku\nA\n", "csv", ["sku"]),
        (b'{"sku": "A", "price": 1.5}\n{"sku": "B"}\n', "jsonl", ["sku", "price"]),
    ],
)
def test_feed_format_and_columns_are_recognised(content, format, columns):
    header = feed_sniff(content, complete=True)
    assert (header.format, header.columns) == (format, columns)


def test_a_multibyte_character_cut_by_the_sample_is_not_an_error():
    head = b"sku,name\nA,"
    content = head + b"x" * (feeds.SAMPLE_BYTES - len(head) - 1) + "é\n".encode()
    cut = content[: feeds.SAMPLE_BYTES]
    assert cut.endswith(b"\xc3")  # the first of the two bytes of é
    assert feed_sniff(cut, complete=False).columns == ["sku", "name"]


def read(content: bytes, format: str = "csv", size: int = 1000) -> tuple[list[dict], list[tuple[int, str]]]:
    """The valid rows (in sku order) and the (line, reason) of the invalid records of a feed."""
    rows, errors = [], []
    for chunk in feed_chunks(io.BytesIO(content), format=format, size=size):
        rows += [row for block in chunk.blocks for row in block.rows()]
        errors += chunk.errors
    return sorted(rows, key=lambda row: row["sku"]), errors


def test_csv_errors_carry_their_line_numbers_and_reasons():
    content = b'sku,name,price\nA,Lamp,1.00\n\nB,"two\nlines",2\nC,Mug\nD,Cup,-1\nE,Pan,3,extra\n'
    rows, errors = read(content)
    assert [row["sku"] for row in rows] == ["A"]
    assert errors == [
        (4, "name: contains control characters (tabs, line breaks, NUL...)"),
        (6, "expected 3 fields, found 2"),
        (7, "price: must be >= 0"),
        (8, "expected 3 fields, found 4"),
    ]


def test_rows_off_the_fast_path_are_still_read_exactly():
    content = b"sku,name,price,stock,active\nA,Lamp,1.00,3,true\n B , Mug ,2,,YES\nC,,,,\nD,Pan,0.5,3000000000,0\n"
    rows, errors = read(content)
    assert rows == [
        {"sku": "A", "name": "Lamp", "price": Decimal("1.00"), "stock": 3, "active": True},
        {"sku": "B", "name": "Mug", "price": Decimal("2"), "active": True},
        {"sku": "C"},
    ]
    assert errors == [(5, "stock: must be at most 2147483647")]


def test_a_sku_repeated_in_a_chunk_merges_with_later_values_winning():
    content = b"sku,price,stock\nA,1.00,1\nB,2.00,2\nA,3.00,\nA,x,9\n"
    (chunk,) = feed_chunks(io.BytesIO(content), format="csv", size=10)
    rows = sorted((row for block in chunk.blocks for row in block.rows()), key=lambda row: row["sku"])
    assert rows == [{"sku": "A", "price": Decimal("3.00"), "stock": 1}, {"sku": "B", "price": Decimal("2.00"), "stock": 2}]
    assert (chunk.records, chunk.duplicates, chunk.errors) == (4, 1, [(5, "price: 'x' is not a decimal number (write it like 19.99)")])


def test_chunks_hold_at_most_their_size_of_records():
    content = b"sku\n" + b"".join(b"S%d\n" % n for n in range(25))
    assert [chunk.records for chunk in feed_chunks(io.BytesIO(content), format="csv", size=10)] == [10, 10, 5]


def test_bytes_that_are_not_utf8_spoil_only_their_row():
    rows, errors = read(b"sku,name\nA,caf\xe9\nB,ok\n")
    assert rows == [{"sku": "B", "name": "ok"}] and errors == [(2, "name: is not valid UTF-8")]


def test_an_overlong_line_is_skipped_and_reported(monkeypatch):
    monkeypatch.setattr(feeds, "MAX_LINE_CHARS", 50)
    rows, errors = read(b"sku,name\nA,short\nB," + b"x" * 200 + b"\nC,after\n")
    assert [row["sku"] for row in rows] == ["A", "C"]
    assert errors == [(3, "line longer than 50 characters")]


def test_an_unclosed_quote_is_reported_as_malformed():
    rows, errors = read(b'sku,name\nA,"open\n' + b"B,x\n" * 40_000)
    assert errors[0][0] == 2 and "malformed CSV" in errors[0][1]


def test_jsonl_errors_carry_their_line_numbers_and_reasons():
    content = (
        b'{"sku": "A", "price": 19.99}\n'
        b"\n"
        b'{"sku": "B", "price": 1.234}\n'
        b"[1, 2]\n"
        b'{"sku": "C",}\n'
        b'{"sku": "D", "colour": "red"}\n'
        b'{"price": 1}\n'
    )
    rows, errors = read(content, "jsonl")
    assert rows == [{"sku": "A", "price": Decimal("19.99")}]
    assert [line for line, _ in errors] == [3, 4, 5, 6, 7]
    assert errors[0][1] == "price: '1.234' has more than 2 decimal places"
    assert errors[1][1] == "not a JSON object"
    assert errors[2][1].startswith("invalid JSON:")
    assert errors[3][1] == "unknown column 'colour'"
    assert errors[4][1] == "sku: is required"


def test_jsonl_prices_are_read_as_exact_decimals():
    rows, _ = read(b'{"sku": "A", "price": 0.10}\n', "jsonl")
    assert str(rows[0]["price"]) == "0.10"


@pytest.mark.parametrize(
    "content, lines, longest",
    [(b"", 0, 0), (b"a\n", 1, 2), (b"a\nbcd", 2, 3), (b"a\n\nbcdef\n", 3, 6), (b"abcdefg\nh\n", 2, 8), (b"ab\ncdefgh", 2, 6)],
)
def test_lines_are_counted_and_the_longest_found_chunk_by_chunk(content, lines, longest, monkeypatch):
    monkeypatch.setattr(feeds, "COUNT_CHUNK_BYTES", 3)
    assert feed_measure(io.BytesIO(content)) == FeedShape(lines, longest)


def test_a_feed_measured_without_long_lines_is_read_the_same():
    content = b"sku,name\nA,x\nB,y\n"
    shape = feed_measure(io.BytesIO(content))
    fast = list(feed_chunks(io.BytesIO(content), format="csv", size=10, longest_line=shape.longest_line))
    guarded = list(feed_chunks(io.BytesIO(content), format="csv", size=10))
    assert [(c.records, [b.rows() for b in c.blocks]) for c in fast] == [(c.records, [b.rows() for b in c.blocks]) for c in guarded]
