"""Reading a feed file: recognise its format from its first bytes, then stream it in chunks.

Memory stays constant whatever the file size: the stored file is read through a text wrapper one
line at a time, and one chunk of records is held at once. No line may exceed `MAX_LINE_CHARS` (a
longer one is read past in bounded pieces and reported), so not even a file without line breaks
is ever held whole; `feed_measure` finds out beforehand whether that guard is needed. CSV goes
through the csv module and is validated a column at a time (see `rows.csv_columns_clean`); JSON
Lines are parsed line by line with decimals kept exact."""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import IO

from updater.blocks import ProductBlock, blocks_from_rows
from updater.rows import COLUMNS, csv_columns_clean, row_clean

SAMPLE_BYTES = 64 * 1024
MAX_LINE_CHARS = 64 * 1024
COUNT_CHUNK_BYTES = 1024 * 1024


class FeedFormatError(ValueError):
    """The upload is not a feed we can read; the message says why, for the person who sent it."""


@dataclass(frozen=True)
class FeedHeader:
    format: str  # "csv" or "jsonl"
    columns: list[str]


@dataclass
class FeedChunk:
    """Consecutive data records of a feed: `records` of them, valid ones as `blocks` (skus unique
    across them, `duplicates` rows merged away), and (line, reason) of the invalid ones."""

    records: int
    blocks: list[ProductBlock]
    duplicates: int
    errors: list[tuple[int, str]]


def feed_sniff(sample: bytes, *, complete: bool) -> FeedHeader:
    """The format and columns of a feed from its first bytes (`complete`: the sample is the whole
    file). Raises FeedFormatError for an empty or binary file, a JSON array, unknown or duplicate
    columns, or a missing sku column."""
    text = _decode_sample(sample, complete=complete)
    stripped = text.lstrip()
    if not stripped.strip():
        raise FeedFormatError("The feed is empty.")
    if stripped[0] == "[":
        raise FeedFormatError("A JSON array is not JSON Lines: send one JSON object per line.")
    first_line, newline, rest = stripped.partition("\n")
    if not newline and not complete:
        raise FeedFormatError(f"The first line is longer than {SAMPLE_BYTES // 1024} KB.")
    if stripped[0] == "{":
        return FeedHeader("jsonl", _jsonl_columns(first_line))
    columns = _csv_columns(first_line)
    if complete and not rest.strip():
        raise FeedFormatError("The feed has a header but no rows.")
    return FeedHeader("csv", columns)


def _decode_sample(sample: bytes, *, complete: bool) -> str:
    if b"\x00" in sample:
        raise FeedFormatError("This is not a CSV or JSON Lines file (it holds binary data).")
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        # A multi-byte character cut at the end of an incomplete sample is not an error.
        return decoder.decode(sample, final=complete)
    except UnicodeDecodeError:
        raise FeedFormatError("This is not a CSV or JSON Lines file (it is not UTF-8 text).") from None


def _jsonl_columns(first_line: str) -> list[str]:
    try:
        first = json.loads(first_line, parse_float=Decimal)
    except ValueError as exc:
        raise FeedFormatError(f"Line 1 is not valid JSON: {exc}.") from None
    if not isinstance(first, dict):
        raise FeedFormatError("Line 1 is not a JSON object.")
    columns = [str(key) for key in first]
    _check_columns(columns)
    return columns


def _csv_columns(first_line: str) -> list[str]:
    header = next(csv.reader([first_line]), [])
    columns = [cell.strip().lower() for cell in header]
    if "" in columns:
        raise FeedFormatError("The header row has an empty column name.")
    if len(columns) == 1 and (";" in columns[0] or "\t" in columns[0]):
        raise FeedFormatError("Columns must be separated by commas (this header uses ';' or tabs).")
    _check_columns(columns)
    return columns


def _check_columns(columns: list[str]) -> None:
    unknown = [column for column in columns if column not in COLUMNS]
    if unknown:
        raise FeedFormatError(
            f"Unknown column(s): {', '.join(sorted(set(unknown)))}. Columns are: {', '.join(COLUMNS)}."
        )
    duplicated = sorted({column for column in columns if columns.count(column) > 1})
    if duplicated:
        raise FeedFormatError(f"Duplicate column(s): {', '.join(duplicated)}.")
    if "sku" not in columns:
        raise FeedFormatError("The sku column is missing.")


@dataclass(frozen=True)
class FeedShape:
    lines: int  # a last line without a line break counts
    longest_line: int  # in bytes, its line break included


def feed_measure(binary: IO[bytes]) -> FeedShape:
    """Count the lines of a binary stream and find the longest, reading fixed-size chunks."""
    lines = longest = current = 0  # current: bytes of the line still open at the chunk's end
    while chunk := binary.read(COUNT_CHUNK_BYTES):
        breaks = chunk.count(b"\n")
        if not breaks:
            current += len(chunk)
            continue
        first, last = chunk.index(b"\n") + 1, chunk.rindex(b"\n") + 1
        inner = max(map(len, chunk[first:last].split(b"\n"))) + 1 if breaks > 1 else 0
        longest = max(longest, current + first, inner)
        lines += breaks
        current = len(chunk) - last
    return FeedShape(lines + (current > 0), max(longest, current))


def feed_chunks(binary: IO[bytes], *, format: str, size: int, longest_line: int | None = None) -> Iterator[FeedChunk]:
    """The data records of a stored feed, `size` at a time (blank lines skipped), each chunk
    validated: its valid rows as blocks ready to write, and the line and reason of the others.
    Given `longest_line` (from feed_measure) within MAX_LINE_CHARS, lines are read at full speed,
    without the guard against overlong ones."""
    raw = getattr(binary, "file", binary)  # under a Django File: its proxy would be called per line
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
    lines = _Lines(text, guarded=longest_line is None or longest_line > MAX_LINE_CHARS)
    if format == "csv":
        yield from _csv_chunks(lines, size)
        return
    records = _jsonl_records(lines)
    while chunk := list(islice(records, size)):
        yield _rows_chunk(chunk)


class _Lines:
    """The lines of a text stream. Guarded, a line longer than MAX_LINE_CHARS is replaced by an
    empty one (and read past in bounded pieces), its number kept in `too_long`."""

    def __init__(self, text: IO[str], *, guarded: bool):
        self.text, self.guarded = text, guarded
        self.too_long: set[int] = set()

    def __iter__(self) -> Iterator[str]:
        return self._guarded() if self.guarded else iter(self.text)

    def _guarded(self) -> Iterator[str]:
        readline, limit, number = self.text.readline, MAX_LINE_CHARS, 0
        while line := readline(limit):
            number += 1
            if len(line) == limit and not line.endswith("\n"):
                while (more := readline(limit)) and not more.endswith("\n"):
                    pass
                self.too_long.add(number)
                line = "\n"
            yield line


def _too_long(lines: _Lines, line: int) -> str:
    if not lines.too_long or line not in lines.too_long:
        return ""
    lines.too_long.discard(line)
    return f"line longer than {MAX_LINE_CHARS} characters"


def _csv_header(reader) -> list[str]:
    header = next(reader, None)
    while header in ([], [""]):  # blank lines before the header, as feed_sniff allows
        header = next(reader, None)
    return [cell.strip().lower() for cell in header or []]


def _csv_chunks(lines: _Lines, size: int) -> Iterator[FeedChunk]:
    reader = csv.reader(lines)
    columns = _csv_header(reader)
    start = reader.line_num + 1  # where the next record begins
    while True:
        # The loop below runs once per record of a feed: it does as little as it can.
        cells_of, line_of, errors, records, width = [], [], [], 0, len(columns)
        while records < size:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                errors.append((start, f"malformed CSV: {exc}"))
                records, start = records + 1, reader.line_num + 1
                continue
            line, start = start, reader.line_num + 1
            if len(cells) == width:
                cells_of.append(cells)
                line_of.append(line)
            elif error := _too_long(lines, line):
                errors.append((line, error))
            elif cells:
                errors.append((line, f"expected {width} fields, found {len(cells)}"))
            else:
                continue  # a blank line
            records += 1
        if not records:
            return
        yield _csv_chunk(columns, cells_of, line_of, errors, records)


def _csv_chunk(
    columns: list[str], cells_of: list[list[str]], line_of: list[int], errors: list[tuple[int, str]], records: int
) -> FeedChunk:
    values, slow = csv_columns_clean(columns, cells_of)
    slow_rows: list[tuple[int, dict]] = []  # (index in cells_of, row) of valid rows off the fast path
    for index in slow:
        row, error = row_clean({column: cell for column, cell in zip(columns, cells_of[index]) if cell})
        if row is None:
            errors.append((line_of[index], error))
        else:
            slow_rows.append((index, row))
    errors.sort()
    fast = ProductBlock(tuple(columns), values)
    skus = values[columns.index("sku")]
    if len(set(skus).union(row["sku"] for _, row in slow_rows)) == len(skus) + len(slow_rows):
        blocks, duplicates = blocks_from_rows([row for _, row in slow_rows])
        return FeedChunk(records, [fast, *blocks], duplicates, errors)
    # A sku repeats within the chunk: back to rows in file order, so that later values win.
    slow_at = set(slow)
    fast_indices = (index for index in range(len(cells_of)) if index not in slow_at)
    ordered = sorted([*zip(fast_indices, fast.rows()), *slow_rows], key=lambda pair: pair[0])
    blocks, duplicates = blocks_from_rows([row for _, row in ordered])
    return FeedChunk(records, blocks, duplicates, errors)


def _jsonl_records(lines: _Lines) -> Iterator[tuple[int, dict | None, str]]:
    loads = json.JSONDecoder(parse_float=Decimal).decode
    for line, text in enumerate(lines, 1):
        if error := _too_long(lines, line):
            yield line, None, error
            continue
        if not text.strip():
            continue
        try:
            values = loads(text)
        except ValueError as exc:
            yield line, None, f"invalid JSON: {exc}"
            continue
        if not isinstance(values, dict):
            yield line, None, "not a JSON object"
            continue
        row, error = row_clean(values)
        yield line, row, error


def _rows_chunk(records: list[tuple[int, dict | None, str]]) -> FeedChunk:
    blocks, duplicates = blocks_from_rows([row for _, row, _ in records if row is not None])
    errors = [(line, error) for line, row, error in records if row is None]
    return FeedChunk(len(records), blocks, duplicates, errors)
