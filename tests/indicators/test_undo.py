"""Undo an upload (issue 15, item 2): exactly the rows it replaced come back, in order, or not at all.

Each test builds its database from small files whose rows are listed in the test, so what an
undo must leave is written down by hand: the state before the upload, compared table by table
(every dataset, the settings and what undo keeps), and the ``report`` output.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from indicators import ingest, store, undo
from indicators.__main__ import main
from indicators.report import run_report_cli
from indicators.schema import DATASETS
from tests.reliability.procs import Cli, snapshot

PURCHASES = ("purchase_id", "purchased_at", "customer_id", "department", "amount")
COMPLAINTS = ("complaint_id", "opened_at", "department", "component")
TARGETS = ("indicator", "department", "baseline_month", "target_month", "target")


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def buy(pid: str, day: str, department: str, amount: float) -> tuple:
    return (pid, f"{day}T10:00:00", f"c-{pid}", department, amount)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "service.duckdb"
    store.connect(path).close()
    return path


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "files"
    folder.mkdir()
    return folder


def connected(db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = store.connect(db)
    try:
        yield con
    finally:
        con.close()


def load(db: Path, path: Path, *, user: str = "ana") -> ingest.IngestResult:
    for con in connected(db):
        return ingest.ingest_file(con, path, user=user)
    raise AssertionError("unreachable")


def save_targets(db: Path, rows: Sequence[Sequence[object]], *, replace_all: bool = True,
                 name: str = "targets editor") -> ingest.IngestResult:
    frame = pd.DataFrame([list(r) for r in rows], columns=list(TARGETS))
    for con in connected(db):
        return ingest.ingest_frame(con, frame, file_name=name, user="ana", replace_all=replace_all)
    raise AssertionError("unreachable")


def undo_now(db: Path, load_id: int, *, user: str = "ana") -> undo.UndoResult:
    for con in connected(db):
        return undo.undo_load(con, load_id, user=user)
    raise AssertionError("unreachable")


def refused(db: Path, load_id: int) -> str:
    for con in connected(db):
        with pytest.raises(undo.UndoRefused) as caught:
            undo.undo_load(con, load_id, user="ana")
        assert caught.value.load_id == load_id
        return str(caught.value)
    raise AssertionError("unreachable")


def tables(db: Path) -> dict[str, list[tuple]]:
    """Every table but the log (datasets, settings, what undo keeps), rows sorted."""
    return {k: v for k, v in snapshot(db).items() if k != "upload_log"}


def log(db: Path) -> list[tuple]:
    """The log's ``id, file_name, outcome, rows, undoes, message`` in order."""
    for con in connected(db):
        return con.execute(
            'SELECT id, file_name, outcome, "rows", undoes, message FROM upload_log ORDER BY id'
        ).fetchall()
    raise AssertionError("unreachable")


def report(db: Path) -> str:
    out, err = io.StringIO(), io.StringIO()
    assert run_report_cli(db, month=None, department=None, fmt="csv", out=out, err=err) == 0, err
    return out.getvalue()


def rows_of(db: Path, dataset: str) -> list[tuple]:
    return tables(db)[dataset]


# --- what a load keeps --------------------------------------------------------------------------


def test_a_first_load_keeps_no_row_and_lists_its_slices(db, files):
    result = load(db, write_csv(files / "a.csv", PURCHASES, [
        buy("p1", "2025-01-05", "North", 10), buy("p2", "2025-01-06", "South", 20),
    ]))
    assert result.accepted and result.load_id == 1
    kept = tables(db)
    assert kept["removed_purchases"] == []
    assert kept["upload_slices"] == [
        (1, "purchases", "2025-01-01", "North"), (1, "purchases", "2025-01-01", "South"),
    ]


def test_a_replacing_load_keeps_exactly_the_rows_it_removed(db, files):
    load(db, write_csv(files / "a.csv", PURCHASES, [
        buy("p1", "2025-01-05", "North", 10), buy("p2", "2025-01-06", "South", 20),
    ]))
    second = load(db, write_csv(files / "b.csv", PURCHASES, [buy("p3", "2025-01-07", "North", 30)]))
    assert second.load_id == 2
    (kept,) = rows_of(db, "removed_purchases")
    # load 2 removed p1 (January North), not South's p2
    assert kept[0] == 2 and kept[1] == "p1" and kept[4] == "North" and kept[5] == 10.0


# --- undo restores exactly ----------------------------------------------------------------------


@pytest.fixture(params=["fast", "full"])
def load_path(request, monkeypatch) -> str:
    """Both ways a clean file is loaded: the direct INSERT, and the staged one (taken when a file
    holds more departments than MAX_NEW_DEPARTMENTS, here lowered to 1: b.csv's two)."""
    if request.param == "full":
        monkeypatch.setattr(ingest.load, "MAX_NEW_DEPARTMENTS", 1)
    return request.param


def test_undo_restores_every_table_and_the_report(db, files, load_path):
    load(db, write_csv(files / "a.csv", PURCHASES, [
        buy("p1", "2025-01-05", "North", 10), buy("p2", "2025-01-20", "North", 20.5),
        buy("p3", "2025-01-07", "South", 5),
    ]))
    load(db, write_csv(files / "k.csv", COMPLAINTS, [("k1", "2025-01-10T08:00:00", "North", "product")]))
    save_targets(db, [("revenue", "North", "2025-01", "2025-06", 100.0)])
    for con in connected(db):
        store.write_setting(con, "iceberg_factor", 7)
    before, before_report = tables(db), report(db)

    upload = load(db, write_csv(files / "b.csv", PURCHASES, [
        buy("p4", "2025-01-08", "North", 99), buy("p5", "2025-02-03", "North", 1),
        buy("p6", "2025-02-04", "North", 2), buy("p7", "2025-02-05", "East", 3),
    ]))
    assert upload.load_id == 4
    assert tables(db) != before and report(db) != before_report

    result = undo_now(db, 4)
    # North January's two rows come back; b.csv's four go (1 in January, 3 in February)
    assert (result.load_id, result.undoes, result.restored, result.removed) == (5, 4, 2, 1 + 3)
    assert result.message == "undid upload #4 (b.csv): restored 2 rows, removed 4"
    assert tables(db) == before
    assert report(db) == before_report
    assert log(db)[-2:] == [
        (4, "b.csv", "accepted", 4, None,
         "4 rows of purchases loaded; replaced 2025-01 North; 2025-02 East; 2025-02 North"),
        (5, "b.csv", "undo", 2, 4, "undid upload #4 (b.csv): restored 2 rows, removed 4"),
    ]
    for con in connected(db):
        shown = store.read_upload_log(con)
    assert shown.loc[shown["id"] == 4, "undone_by"].tolist() == [5]
    assert shown.loc[shown["id"] == 5, "undoes"].tolist() == [4]


def test_undo_after_undo_goes_back_to_before_the_first(db, files):
    empty = tables(db)
    load(db, write_csv(files / "a.csv", PURCHASES, [
        buy("p1", "2025-01-05", "North", 10), buy("p2", "2025-01-06", "South", 20),
    ]))
    after_first, first_report = tables(db), report(db)
    load(db, write_csv(files / "b.csv", PURCHASES, [buy("p3", "2025-01-07", "North", 30)]))

    assert undo_now(db, 2).message == "undid upload #2 (b.csv): restored 1 row, removed 1"
    assert tables(db) == after_first and report(db) == first_report
    assert undo_now(db, 1).message == "undid upload #1 (a.csv): restored 0 rows, removed 2"
    assert tables(db) == empty
    assert [(i, o, u) for i, _, o, _, u, _ in log(db)] == [
        (1, "accepted", None), (2, "accepted", None), (3, "undo", 2), (4, "undo", 1),
    ]


# --- undo in order --------------------------------------------------------------------------------


def test_a_later_overlapping_upload_blocks_until_it_is_undone(db, files):
    load(db, write_csv(files / "base.csv", PURCHASES, [buy("p0", "2025-06-01", "Call centre", 1)]))
    after_base = tables(db)
    load(db, write_csv(files / "a.csv", PURCHASES, [
        buy("p1", "2025-06-05", "Call centre", 10), buy("p2", "2025-06-06", "Shop", 20),
    ]))
    load(db, write_csv(files / "file.csv", PURCHASES, [buy("p3", "2025-06-07", "Call centre", 30)]))
    state, entries = snapshot(db), log(db)

    assert refused(db, 2) == (
        "cannot undo upload #2 (a.csv): upload #3 (file.csv) later replaced 2025-06 Call centre; "
        "undo #3 first"
    )
    assert snapshot(db) == state and log(db) == entries

    undo_now(db, 3)
    undo_now(db, 2)
    assert tables(db) == after_base
    assert rows_of(db, "purchases")[0][0] == "p0"


def test_every_later_overlapping_upload_is_named_newest_first(db, files):
    load(db, write_csv(files / "a.csv", PURCHASES, [
        buy("p1", "2025-06-05", "North", 1), buy("p2", "2025-07-05", "North", 1),
    ]))
    load(db, write_csv(files / "b.csv", PURCHASES, [buy("p3", "2025-06-06", "North", 1)]))
    load(db, write_csv(files / "c.csv", PURCHASES, [buy("p4", "2025-07-06", "North", 1)]))
    assert refused(db, 1) == (
        "cannot undo upload #1 (a.csv): upload #3 (c.csv) later replaced 2025-07 North; "
        "undo #3 first (later upload #2 overlap it too: undo newest first)"
    )


def test_a_later_upload_of_other_slices_or_another_dataset_does_not_block(db, files):
    load(db, write_csv(files / "base.csv", PURCHASES, [buy("p0", "2025-01-02", "North", 5)]))
    load(db, write_csv(files / "a.csv", PURCHASES, [buy("p1", "2025-01-05", "North", 10)]))
    load(db, write_csv(files / "c.csv", PURCHASES, [buy("p2", "2025-02-05", "North", 20),
                                                    buy("p3", "2025-01-05", "South", 30)]))
    load(db, write_csv(files / "k.csv", COMPLAINTS, [("k1", "2025-01-10T08:00:00", "North", "product")]))
    for con in connected(db):
        assert undo.undoable(con)["id"].tolist() == [4, 3, 2]  # #1 is overlapped by #2
    result = undo_now(db, 2)
    assert (result.restored, result.removed) == (1, 1)
    assert sorted(r[0] for r in rows_of(db, "purchases")) == ["p0", "p2", "p3"]
    assert [r[0] for r in rows_of(db, "complaints")] == ["k1"]


# --- refusals change nothing ----------------------------------------------------------------------


def test_refusals_name_the_upload_and_why_and_change_nothing(db, files):
    load(db, write_csv(files / "a.csv", PURCHASES, [buy("p1", "2025-01-05", "North", 10)]))
    bad = write_csv(files / "bad.csv", PURCHASES, [("p2", "2025-01-05T10:00:00", "c", "North", "lots")])
    assert not load(db, bad).accepted  # #2
    load(db, write_csv(files / "b.csv", PURCHASES, [buy("p3", "2025-03-05", "North", 10)]))  # #3
    undo_now(db, 3)  # #4
    state, entries = snapshot(db), log(db)

    expected = {
        2: "cannot undo upload #2 (bad.csv): it was rejected, so it changed nothing and there is "
           "nothing to undo",
        3: "cannot undo upload #3 (b.csv): it was already undone by #4",
        4: "cannot undo upload #4 (b.csv): it is itself an undo (of #3), and an undo cannot be "
           "undone; upload the file again to redo it",
        99: "cannot undo upload #99: there is no such upload in the log",
    }
    for load_id, message in expected.items():
        assert refused(db, load_id) == message
        assert snapshot(db) == state and log(db) == entries


def test_only_the_last_20_accepted_uploads_can_be_undone(db, files):
    assert undo.UNDO_KEEP_LOADS == 20
    load(db, write_csv(files / "a.csv", PURCHASES, [buy("p1", "2025-01-05", "North", 10)]))
    load(db, write_csv(files / "b.csv", PURCHASES, [buy("p2", "2025-01-06", "North", 20)]))  # #2
    for i in range(19):  # #3 … #21: other departments; #2 is the 20th newest accepted load
        load(db, write_csv(files / f"d{i}.csv", PURCHASES, [buy(f"d{i}", "2025-01-07", f"D{i}", 1)]))
    rejected = write_csv(files / "bad.csv", PURCHASES, [("x", "2025-01-05T10:00:00", "c", "N", "x")])
    assert not load(db, rejected).accepted  # #22: a rejection does not count
    for con in connected(db):
        assert undo.refusal(con, 2) is None
    assert [r[:2] for r in rows_of(db, "removed_purchases")] == [(2, "p1")]

    load(db, write_csv(files / "last.csv", PURCHASES, [buy("z", "2025-01-08", "Z", 1)]))  # #23
    assert rows_of(db, "removed_purchases") == []  # pruned with the 21st accepted load after #1
    assert {r[0] for r in rows_of(db, "upload_slices")} == {*range(3, 22), 23}
    state, entries = snapshot(db), log(db)
    assert refused(db, 2) == (
        "cannot undo upload #2 (b.csv): it is older than the last 20 accepted uploads, whose "
        "replaced rows are the only ones kept"
    )
    assert snapshot(db) == state and log(db) == entries


def test_an_upload_from_before_undo_existed_is_refused_and_its_database_checks_ok(db, files):
    load(db, write_csv(files / "a.csv", PURCHASES, [buy("p1", "2025-01-05", "North", 10)]))
    raw = duckdb.connect(str(db))
    for table in store.ADDED_TABLES:
        raw.execute(f'DROP TABLE "{table}"')
    raw.execute("ALTER TABLE upload_log DROP COLUMN undoes")
    raw.close()
    health = store.health(db)  # read-only, as `check` opens it: the undo tables are not there yet
    assert health.ok and set(health.tables) == {"settings", "upload_log", *DATASETS}
    assert refused(db, 1) == (
        "cannot undo upload #1 (a.csv): it was loaded before undo existed, so the rows it "
        "replaced were not kept"
    )
    assert store.health(db).ok and set(store.health(db).tables) == set(store.table_names())


# --- the targets editor ---------------------------------------------------------------------------


def test_undo_of_a_targets_editor_save_restores_every_target(db):
    save_targets(db, [("revenue", "North", "2025-01", "2025-06", 100.0),
                      ("csat", "*", "2025-01", "2025-12", 80.0)])
    before = tables(db)
    save_targets(db, [("revenue", "North", "2025-01", "2025-06", 120.0)])
    save_targets(db, [])  # #3 clears every target
    assert rows_of(db, "targets") == []

    assert undo_now(db, 3).message == "undid upload #3 (targets editor): restored 1 row, removed 0"
    assert [r[4] for r in rows_of(db, "targets")] == [120.0]
    assert undo_now(db, 2).message == "undid upload #2 (targets editor): restored 2 rows, removed 1"
    assert tables(db) == before


def test_a_targets_file_after_an_editor_save_blocks_it_and_the_other_way_round(db):
    save_targets(db, [("revenue", "North", "2025-01", "2025-06", 100.0)])
    save_targets(db, [("csat", "North", "2025-01", "2025-06", 90.0)], replace_all=False,
                 name="targets.csv")
    assert refused(db, 1) == (
        "cannot undo upload #1 (targets editor): upload #2 (targets.csv) later replaced csat "
        "North; undo #2 first"
    )
    save_targets(db, [("nps", "*", "2025-01", "2025-06", 40.0)])  # #3
    assert refused(db, 2) == (
        "cannot undo upload #2 (targets.csv): upload #3 (targets editor) later replaced the whole "
        "targets table; undo #3 first"
    )
    for con in connected(db):
        frame = undo.undoable(con)
    assert frame[["id", "replaced_rows", "whole_table"]].values.tolist() == [[3, 2, True]]


# --- the command line -----------------------------------------------------------------------------


def test_the_command_line_undoes_and_says_why_not(db, files, capsys):
    load(db, write_csv(files / "a.csv", PURCHASES, [buy("p1", "2025-01-05", "North", 10)]))
    load(db, write_csv(files / "b.csv", PURCHASES, [buy("p2", "2025-01-06", "North", 20)]))
    capsys.readouterr()

    assert main(["undo", "--db", str(db), "1"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "error: cannot undo upload #1 (a.csv): upload #2 (b.csv) later replaced 2025-01 North; "
        "undo #2 first; nothing was changed\n"
    )
    assert main(["undo", "--db", str(db), "--user", "cli", "2"]) == 0
    out, err = capsys.readouterr()
    assert out == "undid upload #2 (b.csv): restored 1 row, removed 1 (logged as #3)\n"
    for con in connected(db):
        assert con.execute('SELECT "user" FROM upload_log WHERE id = 3').fetchone() == ("cli",)

    with pytest.raises(SystemExit) as usage:
        main(["undo", "--db", str(db), "two"])
    assert usage.value.code == 2
    with pytest.raises(SystemExit) as usage:
        main(["undo", "--db", str(db)])
    assert usage.value.code == 2
    assert main(["undo", "--db", str(files / "a.csv"), "1"]) == 2
    missing = files / "none.duckdb"
    assert main(["undo", "--db", str(missing), "1"]) == 1
    assert not missing.exists()
    assert "does not exist; nothing to undo" in capsys.readouterr().err


def test_the_command_line_waits_for_a_busy_database_then_gives_up(db, files, capsys):
    load(db, write_csv(files / "a.csv", PURCHASES, [buy("p1", "2025-01-05", "North", 10)]))
    held = write_csv(files / "held.csv", PURCHASES, [buy("p2", "2025-02-06", "North", 20)])
    state = snapshot(db)
    with Cli(["ingest", "--db", str(db), str(held)], pause="inserted") as holder:
        holder.wait_paused("inserted")
        code = main(["undo", "--db", str(db), "--wait", "0.5", "1"])
        holder.kill()
    assert code == 1
    err = capsys.readouterr().err
    assert "database busy (used by another process)" in err and "nothing was undone" in err
    assert snapshot(db) == state


# --- crash safety ---------------------------------------------------------------------------------


@pytest.fixture
def two_loads(db: Path, files: Path) -> dict[str, object]:
    """#1 then #2 replacing January North; the states before and after undoing #2."""
    load(db, write_csv(files / "a.csv", PURCHASES, [
        buy(f"a{i}", "2025-01-05", "North", i) for i in range(50)
    ] + [buy("s1", "2025-01-05", "South", 1)]))
    load(db, write_csv(files / "b.csv", PURCHASES, [buy(f"b{i}", "2025-01-06", "North", i)
                                                    for i in range(30)]))
    return {"before": snapshot(db)}


@pytest.mark.parametrize("point", ["undo_deleted", "undo_restored", "undo_before_commit"])
def test_an_undo_killed_inside_its_transaction_leaves_the_database_as_before(
    db, two_loads, point
):
    with Cli(["undo", "--db", str(db), "2"], pause=point) as cli:
        cli.wait_paused(point)
        cli.kill()
    assert snapshot(db) == two_loads["before"]
    assert store.health(db).ok
    assert undo_now(db, 2).restored == 50  # and it can be undone afterwards


def test_an_undo_killed_after_its_commit_is_done(db, two_loads):
    with Cli(["undo", "--db", str(db), "2"], pause="undo_committed") as cli:
        cli.wait_paused("undo_committed")
        cli.kill()
    state = snapshot(db)
    assert sorted(r[0] for r in state["purchases"]) == sorted([f"a{i}" for i in range(50)] + ["s1"])
    assert [(r[5], r[7]) for r in state["upload_log"]] == [
        ("accepted", None), ("accepted", None), ("undo", 2),
    ]
