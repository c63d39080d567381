"""Store files for `clienteling-setup stores import`: a CSV with a header row, or a JSON array
of objects, read as a stream (any number of rows, bounded memory).

What a file may be is bounded, and each refusal names its line or row: UTF-8 only (with or
without a byte order mark), at most `MAX_FILE_BYTES`, a CSV row with no more values than the
header has columns, a JSON row a flat object of at most `MAX_JSON_ROW_CHARS` characters. A
problem with one row (`RowProblem`) is reported with the others' validation problems; a file
that cannot be read on (`StoreFileError`) stops the import.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

#: Bytes read from a store file at a time (the file is streamed, never held whole).
READ_CHUNK = 1 << 16
#: The largest file imported at once (about seven million stores as CSV): split larger ones.
MAX_FILE_BYTES = 1 << 30
#: The largest JSON row: a store is a few hundred characters.
MAX_JSON_ROW_CHARS = 1 << 16
_WHITESPACE = re.compile(r"[ \t\n\r]*")


class StoreFileError(Exception):
    """The file cannot be read on; the message names where and what to do."""


class RowProblem(str):
    """What makes one row unusable, reported in place of its values."""


#: A row's values by column, or what is wrong with it.
RawRow = dict[str, Any] | RowProblem


def check_file(path: Path) -> None:
    """Refuse, before anything is read, a file that is not a store file or is too large."""
    if path.suffix.lower() not in (".csv", ".json"):
        raise StoreFileError("The file must end in .csv or .json.")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise StoreFileError(
            f"The file is {size:,} bytes; at most {MAX_FILE_BYTES:,} are imported at once. "
            "Split it into smaller files and import each."
        )


def read_rows(path: Path, progress: Callable[[int], None]) -> Iterator[tuple[int, RawRow]]:
    """(line number, raw row) pairs from a CSV with a header row or a JSON array (rows
    numbered from 1), read as they come; `progress` is told how many bytes each step read."""
    check_file(path)
    if path.suffix.lower() == ".csv":
        return _csv_rows(path, progress)
    return _json_rows(path, progress)


def _csv_rows(path: Path, progress: Callable[[int], None]) -> Iterator[tuple[int, RawRow]]:
    # utf-8-sig: the file may open with a byte order mark. Progress is told every 1,000 rows.
    with path.open("rb") as raw, io.TextIOWrapper(raw, "utf-8-sig", newline="") as text:
        reader = csv.DictReader(text)
        told = 0
        try:
            for row in reader:
                yield reader.line_num, _csv_row(row, len(reader.fieldnames or ()))
                if reader.line_num % 1000 == 0:
                    position = raw.tell()
                    progress(position - told)
                    told = position
        except UnicodeDecodeError as exc:
            raise _not_utf8(path, "line", exc) from exc
        except csv.Error as exc:
            # Raised while the next line is read, before line_num counts it.
            raise StoreFileError(f"line {reader.line_num + 1}: not valid CSV ({exc}).") from exc
        progress(raw.tell() - told)


def _csv_row(row: dict[str | None, Any], columns: int) -> RawRow:
    extra = row.get(None)  # DictReader's place for values beyond the header's columns
    if extra:
        return RowProblem(
            f"has {columns + len(extra)} values but the header names {columns} columns; "
            "quote values that contain commas, or add the missing column names to the header."
        )
    return {k: (v if v != "" else None) for k, v in row.items() if k}


def _not_utf8(path: Path, label: str, exc: UnicodeDecodeError) -> StoreFileError:
    return StoreFileError(
        f"{label} {_first_undecodable_line(path)}: the file is not UTF-8 ({exc.reason} at a "
        f"{exc.object[exc.start : exc.start + 1]!r} byte). Save it as UTF-8, with or without a "
        "byte order mark, and import it again."
    )


def _first_undecodable_line(path: Path) -> int:
    """The line of the file's first byte that is not UTF-8 (read again only to say where: a
    line break is one byte in UTF-8, so a file splits into lines before it is decoded)."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 1


def _json_rows(path: Path, progress: Callable[[int], None]) -> Iterator[tuple[int, RawRow]]:
    """The objects of a top-level JSON array, one at a time (row numbers from 1)."""
    not_an_array = StoreFileError("A JSON store file must be a top-level array of objects.")
    with path.open("rb") as handle:
        reader = _JsonReader(path, handle, progress)
        if reader.peek() != "[":
            raise not_an_array
        reader.take()
        if reader.peek() == "]":
            reader.take()
        else:
            index = 0
            while True:
                value = reader.value(index + 1)
                if not isinstance(value, dict):
                    raise not_an_array
                index += 1
                yield index, _flat(value)
                separator = reader.peek()
                reader.take()
                if separator == "]":
                    break
                if separator != ",":
                    raise StoreFileError(
                        f"row {index}: the JSON array is not valid after this row "
                        "(expected ',' or ']')."
                    )
        if reader.peek() != "":
            raise not_an_array


def _flat(row: dict[str, Any]) -> RawRow:
    """A store row's values are plain (text, numbers, true/false, null): no JSON nests below
    the row, which bounds the depth of what the validation worker is handed."""
    nested = sorted(k for k, v in row.items() if isinstance(v, dict | list))
    if nested:
        return RowProblem(
            f"'{nested[0]}' is a JSON {'object' if isinstance(row[nested[0]], dict) else 'array'}"
            "; a store's values are text, numbers, true/false or null."
        )
    return row


class _JsonReader:
    """A JSON text read from a binary file a chunk at a time, one value at a time."""

    def __init__(self, path: Path, handle: BinaryIO, progress: Callable[[int], None]) -> None:
        self.path = path
        self.handle = handle
        self.progress = progress
        self.text = codecs.getincrementaldecoder("utf-8-sig")()
        self.decoder = json.JSONDecoder()
        self.buffer = ""
        self.pos = 0
        self.eof = False

    def _fill(self) -> bool:
        chunk = self.handle.read(READ_CHUNK)
        self.progress(len(chunk))
        self.eof = not chunk
        try:
            decoded = self.text.decode(chunk, final=self.eof)
        except UnicodeDecodeError as exc:
            raise _not_utf8(self.path, "line", exc) from exc
        self.buffer = self.buffer[self.pos :] + decoded
        self.pos = 0
        return not self.eof

    def peek(self) -> str:
        """The next character that is not whitespace ("" at the end of the file)."""
        while True:
            match = _WHITESPACE.match(self.buffer, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._fill():
                return ""

    def take(self) -> None:
        self.pos += 1

    def value(self, row: int) -> Any:
        """The JSON value that starts here (reading on until it is whole)."""
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                if not self.eof and self._more(row):
                    continue
                raise StoreFileError(f"row {row}: not valid JSON ({exc.msg}).") from exc
            except RecursionError as exc:
                raise StoreFileError(
                    f"row {row}: the JSON nests too deeply; a store is an object of plain values."
                ) from exc
            if end == len(self.buffer) and not self.eof and self._more(row):
                continue  # a number or literal may go on in the next chunk
            self.pos = end
            return value

    def _more(self, row: int) -> bool:
        """Read on for the value of `row`, unless it is already longer than a row may be."""
        if len(self.buffer) - self.pos > MAX_JSON_ROW_CHARS:
            raise StoreFileError(
                f"row {row}: longer than {MAX_JSON_ROW_CHARS:,} characters; a store is an "
                "object of a few short values."
            )
        return self._fill()
