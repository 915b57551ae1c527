"""The byte scan's spaces beside a field's edge: an ASCII file where it finds none loads its
cells untrimmed (``NULLIF`` alone), so it must see every space a cell could start or end with,
across chunk boundaries too."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from indicators.ingest import bytescan
from indicators.ingest.bytescan import scan_bytes
from tests.indicators.test_ingest import PURCHASE_HEADER, fresh_connection, load

CASES = [
    (b"a,b\nx y,z\n", ",", False),  # a space inside a cell only
    (b"a,b\n x,z\n", ",", True),  # after a line break
    (b"a,b\nx ,z\n", ",", True),  # before a delimiter
    (b"a,b\nx, z\n", ",", True),  # after a delimiter
    (b"a,b\nx,z \n", ",", True),  # before a line break
    (b"a,b\r\nx,z \r\n", ",", True),  # before a carriage return
    (b'a,b\n" x",z\n', ",", True),  # after an opening quote
    (b'a,b\n"x ",z\n', ",", True),  # before a closing quote
    (b"a,b\nx,z ", ",", True),  # the file's last byte
    (b" a,b\nx,z\n", ",", True),  # the file's first byte
    (b"a;b\nx, y;z\n", ";", False),  # a comma is no edge in a ;-delimited file
    (b"a;b\nx; y;z\n", ";", True),
]


@pytest.mark.parametrize(("data", "delimiter", "found"), CASES)
def test_spaces_beside_an_edge_are_found(tmp_path, data, delimiter, found):
    path = tmp_path / "s.csv"
    path.write_bytes(data)
    assert scan_bytes(path, delimiter).edge_spaces is found


@pytest.mark.parametrize("chunk", [1, 2, 3, 4, 5, 7])
@pytest.mark.parametrize(("data", "delimiter", "found"), CASES)
def test_chunk_boundaries_change_nothing(tmp_path, monkeypatch, chunk, data, delimiter, found):
    monkeypatch.setattr(bytescan, "_SCAN_CHUNK", chunk)
    path = tmp_path / "s.csv"
    path.write_bytes(data)
    assert scan_bytes(path, delimiter).edge_spaces is found


def test_a_file_not_ascii_says_spaces_may_be_there(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes("a,b\nx,Zürich\n".encode())
    assert scan_bytes(path).edge_spaces is True


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    yield from fresh_connection()


def test_cells_without_edge_spaces_load_as_written(con, tmp_path):
    load(con, tmp_path, "p.csv", PURCHASE_HEADER + "p 1,2025-03-01,c 1,Field service,2,\n")
    assert con.execute(
        "SELECT purchase_id, customer_id, department, amount FROM purchases"
    ).fetchone() == ("p 1", "c 1", "Field service", 2)
