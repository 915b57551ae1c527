"""I/O faults and hostile names at the command line: a full disk, a busy file, raw file names.

* A full disk during a load (a real 3 MB tmpfs where this machine lets us mount one — root in
  CI — and always a write that raises ENOSPC inside the load's transaction) leaves every table
  exactly as it was, says "no space left on the disk holding <db>; nothing was loaded" (exit 1,
  no traceback), and ``check`` is ok afterwards.
* ``demo`` on a file another process holds waits ``--wait`` seconds, then says so (exit 1).
* File names are printed escaped: a line break cannot forge an "accepted" line, and ANSI
  escapes or bidi controls never reach the terminal.
"""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from indicators import store
from indicators.__main__ import main
from tests.reliability.procs import (
    Cli,
    ingest_cli,
    ingest_now,
    many_purchases,
    purchases_csv,
    snapshot,
)

DISK_BYTES = 3 * 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 3 MB tmpfs folder (skipped where mounting is not permitted: the ENOSPC test below
    covers the same path in-process)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(folder)],
        capture_output=True, text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _big_file(folder: Path, n: int = 150_000) -> Path:
    """About 6 MB of purchases in 2025-02 (twice the disk)."""
    rows = [(f"b{i}", f"2025-02-{1 + i % 28:02d}T10:00:00", f"c{i}", f"D{i % 50}", 1.0 + i % 7)
            for i in range(n)]
    return purchases_csv(folder / "big.csv", rows)


def _said(cli: Cli) -> str:
    return "".join(cli.stdout + cli.stderr)


def test_a_full_disk_during_a_load_leaves_the_old_state_and_says_so(small_disk, tmp_path):
    db = small_disk / "service.duckdb"
    ingest_now(db, purchases_csv(tmp_path / "small.csv", many_purchases("s", "A", "2025-01", 50)))
    before = snapshot(db)
    cli = Cli(["ingest", "--db", str(db), str(_big_file(tmp_path))])
    try:
        assert cli.finish() == 1
    finally:
        cli.kill()
    said = _said(cli)
    assert f"error: no space left on the disk holding {db}; nothing was loaded" in said
    assert "Traceback" not in said and "accepted" not in said
    assert snapshot(db) == before
    check = Cli(["check", "--db", str(db)])
    try:
        assert check.finish() == 0, _said(check)
    finally:
        check.kill()


def test_demo_on_a_full_disk_says_so_and_leaves_a_healthy_file(small_disk):
    db = small_disk / "demo.duckdb"
    cli = Cli(["demo", "--db", str(db)])
    try:
        assert cli.finish() == 1
    finally:
        cli.kill()
    said = _said(cli)
    assert f"no space left on the disk holding {db}; " in said, said
    assert "were not loaded" in said and "demo database failed" in said
    assert "Traceback" not in said
    assert store.health(db).ok


@pytest.mark.parametrize(
    "fault",
    [
        duckdb.IOException('IO Error: Could not write file "x.duckdb": No space left on device'),
        OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
    ],
    ids=["duckdb", "python"],
)
def test_a_write_that_raises_enospc_inside_the_transaction_changes_nothing(
    tmp_path, monkeypatch, capsys, fault
):
    """The fault comes after the old rows of the slice were deleted: the rollback restores them."""
    db = tmp_path / "service.duckdb"
    ingest_now(db, purchases_csv(tmp_path / "old.csv", many_purchases("o", "A", "2025-01", 5)))
    before = snapshot(db)
    again = purchases_csv(tmp_path / "new.csv", many_purchases("n", "A", "2025-01", 7))

    def full_disk(point: str) -> None:
        if point == "old_slices_deleted":
            raise fault

    monkeypatch.setattr(store, "pause_for_test", full_disk)
    assert main(["ingest", "--db", str(db), str(again)]) == 1
    out, err = capsys.readouterr()
    assert err.endswith(f"error: no space left on the disk holding {db}; nothing was loaded\n")
    assert "accepted" not in out and "rejected" not in out
    assert snapshot(db) == before
    assert main(["check", "--db", str(db)]) == 0


def test_several_files_on_a_full_disk_say_which_were_not_loaded(tmp_path, monkeypatch, capsys):
    db = tmp_path / "service.duckdb"
    first = purchases_csv(tmp_path / "a.csv", many_purchases("a", "A", "2025-01", 2))
    second = purchases_csv(tmp_path / "b.csv", many_purchases("b", "B", "2025-01", 2))
    calls = []

    def full_disk_on_the_second(point: str) -> None:
        calls.append(point)
        if point == "old_slices_deleted" and calls.count("old_slices_deleted") == 2:
            raise duckdb.IOException("IO Error: Could not write: No space left on device")

    monkeypatch.setattr(store, "pause_for_test", full_disk_on_the_second)
    assert main(["ingest", "--db", str(db), str(first), str(second)]) == 1
    out, err = capsys.readouterr()
    assert "accepted: a.csv" in out and "b.csv →" not in out
    assert "the file in progress and the ones after it were not loaded" in err
    assert {r[3] for r in snapshot(db)["purchases"]} == {"A"}


def test_demo_on_a_busy_file_waits_then_says_so(tmp_path, capsys):
    db = tmp_path / "service.duckdb"
    ingest_now(db, purchases_csv(tmp_path / "old.csv", many_purchases("o", "A", "2025-01", 3)))
    before = snapshot(db)
    held = purchases_csv(tmp_path / "held.csv", many_purchases("h", "A", "2025-02", 3))
    with ingest_cli(db, held, pause="inserted") as holder:
        holder.wait_paused("inserted")
        code = main(["demo", "--db", str(db), "--wait", "0.5"])
        holder.kill()
    assert code == 1
    out, err = capsys.readouterr()
    assert "database busy (used by another process)" in err and "nothing was loaded" in err
    assert "ready" not in out
    assert snapshot(db) == before


HOSTILE_NAMES = [
    "x\naccepted: forged.csv",  # a line break forging an "accepted" line
    "\x1b[31mred\x1b[0m.csv",  # ANSI colour
    "evil\u202ecsv.exe.csv",  # right-to-left override (bidi)
    "c1\x85next.csv",  # NEL, a C1 control
    "zero\u200bwidth.csv",  # zero-width space (Unicode Cf)
]


def test_file_names_are_printed_escaped(tmp_path, capsys):
    db = tmp_path / "service.duckdb"
    files = []
    for i, name in enumerate(HOSTILE_NAMES):
        path = tmp_path / name
        if i % 2:
            path.write_text("no,such,columns\n1,2,3\n", encoding="utf-8")  # rejected
        else:
            purchases_csv(path, many_purchases(f"p{i}", "A", f"2025-0{i + 1}", 1))
        files.append(str(path))
    missing = str(tmp_path / "gone\r\naccepted: ghost.csv")
    assert main(["ingest", "--db", str(db), *files]) == 1
    out = capsys.readouterr().out
    assert main(["ingest", "--db", str(db), missing]) == 2
    out += capsys.readouterr().err  # error lines go to stderr
    for bad in ("\x1b", "\u202e", "\x85", "\u200b", "\r"):
        assert bad not in out
    lines = out.splitlines()
    assert not any(line.startswith(("accepted: forged", "accepted: ghost")) for line in lines)
    assert any(line.startswith("accepted: x\\naccepted: forged.csv → purchases, 1 row,")
               for line in lines)
    assert any(line.startswith("rejected: \\x1b[31mred\\x1b[0m.csv") for line in lines)
    assert any(line.startswith("accepted: evil\\u202ecsv.exe.csv → purchases, 1 row,")
               for line in lines)
    assert any(line.startswith("rejected: c1\\x85next.csv") for line in lines)
    assert f"[1/5] {tmp_path}/x\\naccepted: forged.csv …" in lines
    assert f"error: no such file: {tmp_path}/gone\\r\\naccepted: ghost.csv" in lines
