"""One NumPy pass over a CSV file's bytes: control and format characters, non-ASCII bytes,
spaces beside a field's edge, and its records (how many, which are longer than
:data:`MAX_LINE_BYTES`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indicators.ingest.cells import FORMAT_CHARACTERS
from indicators.ingest.problems import MAX_PROBLEMS, Problem, Rejected

MAX_LINE_BYTES: int = 8_000_000
"""A CSV record (a line, or a quoted record over several) longer than this is rejected, naming
its row: "line N is … MB; the limit is 8 MB".

The size is the record's bytes without its line break.  DuckDB reads a file in buffers of
:data:`CSV_BUFFER_BYTES` (128 MB) and skips a record that does not fit one
without a trace — the silent loss of issue 14 — so the limit must stay well below that; 8 MB
is four times DuckDB's default line limit (2 MB, which refused a valid 3 MB text cell) and
keeps the reader's memory what it was.  The byte scan enforces it before DuckDB reads a row."""
DUCKDB_LINE_BYTES: int = MAX_LINE_BYTES + 2
"""DuckDB's own line limit, just above ours so that it never refuses a record ours allows (it
refuses a last line without a line break at exactly its limit)."""
CSV_BUFFER_BYTES: int = 16 * DUCKDB_LINE_BYTES
"""DuckDB's CSV read buffer, set explicitly to what DuckDB itself chooses for that line limit
(16 lines' worth, 128 MB).  Not smaller: with a buffer of 4 or 8 lines' worth (32 or 64 MiB)
the INSERT's row groups were written twice, once while loading and again by the CHECKPOINT
(2–4.6 s more at 10 M purchases, a file 60 % bigger: 650 MB instead of 405 MB)."""


_UTF8_BOM = b"\xef\xbb\xbf"
_LF, _CR, _QUOTE = 0x0A, 0x0D, 0x22
_SCAN_CHUNK = 1 << 18
"""Bytes read and looked at a time: 256 KB, so that a chunk and the masks made of it stay in
the processor's cache between the passes over it (the scan of 10 M purchases took 0.28 s
where 4 MB chunks took 0.48 s)."""
_CF_LOW = np.array([low for low, _ in FORMAT_CHARACTERS])
_CF_HIGH = np.array([high for _, high in FORMAT_CHARACTERS])
_CF_FIRST_BYTES = np.zeros(256, dtype=bool)
_CF_FIRST_BYTES[[chr(c).encode()[0] for lo, hi in FORMAT_CHARACTERS for c in range(lo, hi + 1)]] = True
"""The first UTF-8 bytes of the format characters: 0xC2 (U+00AD) and bytes from 0xD8 up, so
Latin, Greek and Cyrillic letters (0xC3–0xD1) are never decoded by the scan."""


@dataclass(frozen=True)
class _Line:
    """A record longer than :data:`MAX_LINE_BYTES`: its row, size in bytes and first byte."""

    row: int
    size: int
    start: int


@dataclass(frozen=True)
class _ByteScan:
    controls: bool
    """A control character, a BOM or another format character past the first bytes: the
    per-cell rule must run."""
    ascii: bool
    """Every byte is ASCII: a cell can only start or end with U+0020 among the spaces trimmed."""
    records: int = 0
    """Data records (after the header; blank lines, which DuckDB skips, left out)."""
    plain_quotes: bool = True
    """Every quote opens a field, closes one or is doubled inside one, so ``records`` and
    ``long_lines`` follow the quotes as DuckDB does.  False when a quote stands inside an
    unquoted field (``5" screen``, which DuckDB reads as text): :func:`walk_records` then
    counts again before anything is concluded from them."""
    long_lines: tuple[_Line, ...] = ()
    """Records longer than :data:`MAX_LINE_BYTES` (the first :data:`MAX_PROBLEMS`)."""
    edge_spaces: bool = True
    """A space stands beside a field's edge (a delimiter, a line break, a quote, the file's
    first or last byte), so a cell may start or end with one.  False proves that no cell does:
    every cell's first byte follows one of those and its last byte precedes one."""


def _has_format_character(x: np.ndarray) -> bool:
    """Whether UTF-8 bytes ``x`` (three zero bytes at the end) hold a format character."""
    lead = np.flatnonzero((x[:-3] >= 0xD8) | (x[:-3] == 0xC2))
    lead = lead[_CF_FIRST_BYTES[x[lead]]]
    if not len(lead):
        return False
    b0, b1, b2, b3 = (x[lead + k].astype(np.int64) & m for k, m in enumerate((255, 63, 63, 63)))
    code = np.where(
        b0 < 0xE0,
        (b0 & 0x1F) << 6 | b1,
        np.where(b0 < 0xF0, (b0 & 0x0F) << 12 | b1 << 6 | b2, (b0 & 0x07) << 18 | b1 << 12 | b2 << 6 | b3),
    )
    i = np.searchsorted(_CF_LOW, code, side="right") - 1
    return bool(np.any((i >= 0) & (code <= _CF_HIGH[i])))


def _holds_controls(chunk: bytes, a: np.ndarray, line_feeds: int, overlap: bytes) -> tuple[bool, bool]:
    """(control or format character, non-ASCII byte) in ``chunk`` (``a``: its bytes as an
    array); ``overlap``: the bytes before it, for a character split across chunks."""
    controls = False
    low = np.count_nonzero(a < 0x20)
    if low and low != line_feeds:
        # tab, line feed and carriage return are the only allowed bytes below 0x20
        allowed = sum(int(np.count_nonzero(a == b)) for b in (0x09, 0x0A, 0x0D))
        controls = int(low) != allowed
    if not np.count_nonzero(a >= 0x7F):
        return controls, False
    if controls or np.count_nonzero(a == 0x7F):
        return True, True
    padded = np.frombuffer(overlap + chunk + b"\0\0\0", dtype=np.uint8)
    return _has_format_character(padded), True


_SPACE = 0x20


class _EdgeSpaces:
    """Looks for a space beside a field's edge, chunk by chunk (:attr:`_ByteScan.edge_spaces`).

    A space found counts whatever it is inside (a quoted ``"a, b"`` too): a false alarm only
    keeps the cells' trimming, never drops it.  The byte before the file counts as an edge.
    """

    def __init__(self, delimiter: str) -> None:
        self.edges = np.zeros(256, dtype=bool)
        self.edges[[ord(delimiter), _LF, _CR, _QUOTE]] = True
        self.found = False
        self.last = _LF
        """The byte before the chunk."""
        self.is_space = np.empty(_SCAN_CHUNK, dtype=bool)
        """Kept from chunk to chunk (see :meth:`_Records._feed_unquoted`)."""

    def feed(self, a: np.ndarray) -> None:
        """Take the next chunk's bytes ``a`` (until a space beside an edge is found)."""
        if self.found or not len(a):
            return
        first = int(a[0])
        across = (self.last == _SPACE and self.edges[first]) or (
            first == _SPACE and self.edges[self.last])
        self.last = int(a[-1])
        spaces = np.flatnonzero(np.equal(a, _SPACE, out=self.is_space[: len(a)]))
        before = a[spaces[spaces > 0] - 1]
        after = a[spaces[spaces < len(a) - 1] + 1]
        self.found = bool(across or self.edges[before].any() or self.edges[after].any())

    def finish(self) -> bool:
        """Whether a space stands beside an edge (the file's last byte counts as one)."""
        return self.found or self.last == _SPACE


class _Records:
    """Counts a CSV file's records chunk by chunk, as DuckDB splits them.

    A record ends at a line break outside quotes (LF; CR in a file without LF); a quote toggles
    "inside", which is exact while every quote opens, closes or doubles (``plain``).  Records
    of size 0 are blank lines.  Record ``k`` (from 1, blank lines included) is row ``k``.
    """

    def __init__(self, delimiter: str, line_break: int, start: int) -> None:
        self.edges = np.array([ord(delimiter), _LF, _CR, _QUOTE], dtype=np.uint8)
        self.line_break = line_break
        self.inside = 0
        self.start = start
        """Where the current record starts (a byte offset in the file)."""
        self.ended = self.blank = 0
        self.plain = True
        self.long: list[_Line] = []
        self.ends = np.empty(_SCAN_CHUNK, dtype=bool)
        self.pairs = np.empty(_SCAN_CHUNK, dtype=bool)
        self.last = line_break
        """The byte before the chunk (before the file: a line start)."""

    def feed(self, chunk: bytes, a: np.ndarray, base: int) -> int:
        """Take ``chunk`` (``a``: as an array; at byte ``base`` of the file); returns its count
        of line feeds."""
        if not self.inside and len(a) <= MAX_LINE_BYTES and chunk.find(b'"') < 0:
            return self._feed_unquoted(chunk, a, base)
        breaks = np.flatnonzero(a == self.line_break)
        quotes = np.flatnonzero(a == _QUOTE)
        if len(quotes):
            if self.plain:
                self._check_quotes(a, quotes)
            ends = breaks[((np.searchsorted(quotes, breaks) + self.inside) & 1) == 0]
            self.inside = (self.inside + len(quotes)) & 1
        else:
            ends = breaks[: 0 if self.inside else len(breaks)]
        if len(ends):
            self._ended(a, base, ends)
        self.last = int(a[-1])
        return len(breaks) if self.line_break == _LF else 0

    def _feed_unquoted(self, chunk: bytes, a: np.ndarray, base: int) -> int:
        """A chunk without quotes, outside quotes (the common one): every line break ends a
        record, and only the first can end one begun in an earlier chunk — the only record that
        can be longer than the chunk (itself no longer than the limit), so the only size looked
        at."""
        brk = bytes([self.line_break])
        first = chunk.find(brk)
        if first < 0:
            self.last = int(a[-1])
            return 0
        # Into buffers kept from chunk to chunk: a fresh 4 MB array per step costs more in page
        # faults than the comparison itself.
        ends = np.equal(a, self.line_break, out=self.ends[: len(a)])
        pairs = self.pairs[: len(a) - 1]
        count = int(np.count_nonzero(ends))
        before = int(a[first - 1]) if first else self.last
        size = base + first - self.start - (self.line_break == _LF and before == _CR)
        if size > MAX_LINE_BYTES and len(self.long) < MAX_PROBLEMS:
            self.long.append(_Line(self.ended + 1, size, self.start))
        self.blank += (size <= 0) + int(np.count_nonzero(np.logical_and(ends[1:], ends[:-1], out=pairs)))
        if self.line_break == _LF and chunk.find(b"\r") >= 0:
            # CR LF blank lines past the first line break (that one's size says it)
            crlf = np.logical_and(ends[2:], ends[:-2], out=pairs[1:])
            self.blank += int(np.count_nonzero(crlf & (a[1:-1] == _CR)))
        self.ended += count
        self.start = base + chunk.rfind(brk) + 1
        self.last = int(a[-1])
        return count if self.line_break == _LF else 0

    def _check_quotes(self, a: np.ndarray, quotes: np.ndarray) -> None:
        """Outside a field a quote must follow a field's edge, inside one precede it (or be
        doubled); at a chunk's end the next byte is not looked at."""
        before = np.where(quotes > 0, a[quotes - 1], self.last)
        after = np.where(quotes + 1 < len(a), a[np.minimum(quotes + 1, len(a) - 1)], _QUOTE)
        opening = ((np.arange(len(quotes)) + self.inside) & 1) == 0
        edge = np.where(opening, before, after)
        self.plain = bool(np.isin(edge, self.edges).all())

    def _ended(self, a: np.ndarray, base: int, ends: np.ndarray) -> None:
        starts = np.empty_like(ends)
        starts[0] = self.start - base
        starts[1:] = ends[:-1] + 1
        sizes = ends - starts
        if self.line_break == _LF:
            sizes -= np.where(ends > 0, a[ends - 1], self.last) == _CR
        self.blank += int(np.count_nonzero(sizes <= 0))
        for k in np.flatnonzero(sizes > MAX_LINE_BYTES)[: MAX_PROBLEMS - len(self.long)]:
            self.long.append(_Line(self.ended + int(k) + 1, int(sizes[k]), base + int(starts[k])))
        self.ended += len(ends)
        self.start = base + int(ends[-1]) + 1

    def finish(
        self, size: int, *, controls: bool, ascii_only: bool, edge_spaces: bool = True
    ) -> _ByteScan:
        """The scan of a file of ``size`` bytes (a last record may lack its line break)."""
        ended, tail = self.ended, size - self.start
        if tail > 0:
            ended += 1
            if tail > MAX_LINE_BYTES and len(self.long) < MAX_PROBLEMS:
                self.long.append(_Line(ended, tail, self.start))
        return _ByteScan(
            controls=controls,
            ascii=ascii_only and not controls,
            records=max(ended - self.blank - 1, 0),
            plain_quotes=self.plain,
            long_lines=tuple(self.long),
            edge_spaces=edge_spaces,
        )


def scan_bytes(path: Path, delimiter: str = ",") -> _ByteScan:
    """One pass over the bytes of a UTF-8 file: control and format characters, non-ASCII
    bytes, spaces beside a field's edge, and its records (how many, which are too long).

    Counting bytes with NumPy runs at memory speed, where a regex over every text cell would
    cost the clean file's single pass about 40 %: only a file that holds such a character pays
    for the cell rule.  The common chunk needs a few counts (bytes below 0x20, from 0x7F up)
    and the positions of its line breaks and quotes; only a chunk with more is looked at
    further.  The record count is what :func:`lost_records` holds DuckDB's reading to.
    """
    controls, ascii_only, overlap, base = False, True, b"", 0
    with path.open("rb") as f:
        chunk = f.read(_SCAN_CHUNK)
        # A BOM at the very start is the file's encoding mark, not data.
        if chunk.startswith(_UTF8_BOM):
            chunk, base = chunk[len(_UTF8_BOM) :], len(_UTF8_BOM)
        line_break = _CR if b"\r" in chunk and b"\n" not in chunk else _LF
        records, spaces = _Records(delimiter, line_break, base), _EdgeSpaces(delimiter)
        while chunk:
            a = np.frombuffer(chunk, dtype=np.uint8)
            line_feeds = records.feed(chunk, a, base)
            if not controls:
                found, non_ascii = _holds_controls(chunk, a, line_feeds, overlap)
                controls, ascii_only = found, ascii_only and not non_ascii
            if ascii_only and not controls:
                spaces.feed(a)
            overlap, base = chunk[-3:], base + len(chunk)
            chunk = f.read(_SCAN_CHUNK)
    # Only an ASCII file's cells skip the trim (another's are trimmed with Unicode's spaces).
    edge_spaces = spaces.finish() if ascii_only and not controls else True
    return records.finish(
        base, controls=controls, ascii_only=ascii_only, edge_spaces=edge_spaces
    )


def walk_records(path: Path, delimiter: str) -> tuple[int, tuple[_Line, ...]] | None:
    """Data records and over-long records as the csv module splits the file; None if it can't.

    Like DuckDB, the csv module reads a quote inside an unquoted field as text, which the byte
    scan cannot follow: this Python pass runs only for such a file, and only when the scan's
    count disagrees with DuckDB's or finds an over-long record.
    """
    consumed, ending = 0, 0

    def lines() -> Iterator[str]:
        nonlocal consumed, ending
        with path.open("rb") as f:
            for line in f:
                consumed += len(line)
                ending = 2 if line.endswith(b"\r\n") else int(line.endswith(b"\n"))
                yield line.decode("utf-8", "surrogateescape")

    records, start, long = 0, 0, []
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, path.stat().st_size + 1))
    try:
        for row, fields in enumerate(csv.reader(lines(), delimiter=delimiter), 1):
            size = consumed - start - ending
            if size > MAX_LINE_BYTES and len(long) < MAX_PROBLEMS:
                long.append(_Line(row, size, start))
            records += bool(fields)
            start = consumed
    except csv.Error:
        return None
    finally:
        csv.field_size_limit(limit)
    return max(records - 1, 0), tuple(long)


def _long_line_problem(name: str, line: _Line) -> Problem:
    """The row and its size; no value (a problem's value is a cell, never the raw line)."""
    return Problem(
        name,
        line.row,
        None,
        None,
        f"line {line.row} is {line.size / 1e6:.1f} MB ({line.size:,} bytes); the limit is "
        f"{MAX_LINE_BYTES / 1e6:g} MB ({MAX_LINE_BYTES:,} bytes) a line",
    )


def counted_records(path: Path, name: str, delimiter: str, scan: _ByteScan) -> tuple[int, bool]:
    """The file's data records and whether the count is exact; a record longer than
    :data:`MAX_LINE_BYTES` rejects the file, naming its row (DuckDB would skip it unseen)."""
    records, exact, long = scan.records, scan.plain_quotes, scan.long_lines
    if long and not exact:
        walked = walk_records(path, delimiter)
        if walked is not None:
            (records, long), exact = walked, True
    if long:
        raise Rejected([_long_line_problem(name, line) for line in long])
    return records, exact
