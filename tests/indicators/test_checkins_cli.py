"""``python -m indicators checkin add|list`` and ``note add|list``: what they print, their exit
codes (0 done, 1 a rejected write or no database, 2 a usage error) and that nothing is written on
an error.  The database is :mod:`tests.indicators.test_checkins`'s (csat North, All; nps South)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from indicators import store
from indicators.__main__ import main
from tests.indicators.engine_rows import make_db
from tests.indicators.test_checkins import DATA

ROOT = Path(__file__).resolve().parents[2]
STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
CHECKIN_HEADER = "id,indicator,department,month,status,note,author,written_at"
NOTE_HEADER = "id,month,indicator,department,note,author,written_at"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_db(tmp_path / "c.duckdb", DATA)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(db: Path) -> dict[str, list[tuple]]:
    con = store.connect(db, read_only=True)
    try:
        return {
            name: con.execute(f'SELECT * FROM "{name}" ORDER BY ALL').fetchall()
            for name in store.table_names()
        }
    finally:
        con.close()


def add_checkin(db: Path, *extra: str) -> list[str]:
    return ["checkin", "add", "--db", str(db), "--indicator", "csat", "--department", "North",
            "--month", "2025-03", "--status", "off track", *extra]


def without_stamps(text: str) -> str:
    return STAMP.sub("<time>", text)


def test_checkin_add_then_list_as_csv_and_json(db, capsys):
    code, out, err = run(capsys, *add_checkin(db, "--note", "=1+1\nsecond line", "--user", "ana"))
    assert (code, out, err) == (
        0, "stored check-in #1: check-in for csat in North, 2025-03: off track\n", ""
    )
    code, out, _ = run(capsys, "checkin", "add", "--db", str(db), "--indicator", "csat",
                       "--department", "All", "--month", "2025-04", "--status", "on track",
                       "--note", "fine")
    assert code == 0 and out == "stored check-in #2: check-in for csat in All, 2025-04: on track\n"

    code, out, err = run(capsys, "checkin", "list", "--db", str(db))
    assert code == 0 and err == ""
    assert without_stamps(out) == (
        f"{CHECKIN_HEADER}\r\n"
        "2,csat,All,2025-04,on track,fine,,<time>\r\n"
        "1,csat,North,2025-03,off track,\"'=1+1\nsecond line\",ana,<time>\r\n"
    )

    code, out, _ = run(capsys, "checkin", "list", "--db", str(db), "--department", "North",
                       "--format", "json")
    assert code == 0
    (record,) = json.loads(out)
    assert STAMP.fullmatch(record.pop("written_at"))
    assert record == {"id": 1, "indicator": "csat", "department": "North", "month": "2025-03",
                      "status": "off track", "note": "=1+1\nsecond line", "author": "ana"}


def test_note_add_then_list_the_notes_that_apply(db, capsys):
    assert run(capsys, "note", "add", "--db", str(db), "--month", "2025-02",
               "--note", "@SUM(A1)")[:2] == (
        0, "stored note #1: event note for 2025-02 (every indicator in every department)\n"
    )
    assert run(capsys, "note", "add", "--db", str(db), "--month", "2025-03", "--note",
               "<script>alert(1)</script>", "--indicator", "csat", "--department", "North",
               "--user", "bo")[:2] == (
        0, "stored note #2: event note for 2025-03 (csat in North)\n"
    )
    assert run(capsys, "note", "add", "--db", str(db), "--month", "2025-03", "--note", "x",
               "--indicator", "nps", "--department", "South")[0] == 0

    code, out, _ = run(capsys, "note", "list", "--db", str(db), "--indicator", "csat",
                       "--department", "North")
    assert code == 0
    assert without_stamps(out) == (
        f"{NOTE_HEADER}\r\n"
        "1,2025-02,,All,'@SUM(A1),,<time>\r\n"
        "2,2025-03,csat,North,<script>alert(1)</script>,bo,<time>\r\n"
    )
    code, out, _ = run(capsys, "note", "list", "--db", str(db), "--department", "All",
                       "--format", "json")
    assert code == 0
    assert [(r["id"], r["indicator"], r["department"], r["note"]) for r in json.loads(out)] == [
        (1, None, "All", "@SUM(A1)"),
    ]


def test_list_on_a_database_without_any_gives_the_header_or_an_empty_list(db, capsys):
    assert run(capsys, "checkin", "list", "--db", str(db)) == (0, CHECKIN_HEADER + "\r\n", "")
    assert run(capsys, "note", "list", "--db", str(db), "--format", "json") == (0, "[]\n", "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--month", "2025-13"],
         "month '2025-13': must be written YYYY-MM (0001-01 to 9999-12)"),
        (["--status", "great"],
         "status 'great': must be one of achieved, on track, at risk, off track, missed"),
        (["--department", "South"],
         "department 'South': must name a stored target of csat; csat has targets for All, North"),
        (["--note", "   "], "note '   ': must not be empty"),
    ],
)
def test_a_rejected_checkin_exits_1_naming_the_rule_and_writes_nothing(db, capsys, argv, message):
    before = snapshot(db)
    args = add_checkin(db, "--note", "n")
    for option, value in zip(argv[::2], argv[1::2], strict=True):
        args[args.index(option) + 1] = value
    code, out, err = run(capsys, *args)
    assert (code, out, err) == (1, "", f"error: {message}; nothing was written\n")
    assert snapshot(db) == before


def test_a_rejected_note_exits_1_and_writes_nothing(db, capsys):
    before = snapshot(db)
    code, out, err = run(capsys, "note", "add", "--db", str(db), "--month", "2025-02",
                         "--note", "x", "--department", "Atlantis")
    assert (code, out) == (1, "")
    assert err == ("error: department 'Atlantis': must be All (every department) or a "
                   "department that occurs in the data; nothing was written\n")
    assert snapshot(db) == before


def test_usage_errors_exit_2(db, capsys, tmp_path):
    with pytest.raises(SystemExit) as stopped:
        main(add_checkin(db))  # no --note
    assert stopped.value.code == 2
    with pytest.raises(SystemExit) as stopped:
        main(["checkin", "--db", str(db)])  # no action
    assert stopped.value.code == 2
    capsys.readouterr()
    code, _, err = run(capsys, "note", "list", "--db", str(db), "--indicator", "nope")
    assert code == 2 and err.startswith("error: unknown indicator 'nope'; known: purchases, ")
    data = tmp_path / "march.csv"
    data.write_text("a,b\n1,2\n", encoding="utf-8")
    code, _, err = run(capsys, *add_checkin(data, "--note", "n"))
    assert code == 2 and "is not a DuckDB database file" in err
    assert data.read_text(encoding="utf-8") == "a,b\n1,2\n"


def test_a_missing_database_is_not_created(tmp_path, capsys):
    missing = tmp_path / "none.duckdb"
    code, out, err = run(capsys, *add_checkin(missing, "--note", "n"))
    assert (code, out) == (1, "")
    assert err == (f"error: no database at {missing}; nothing was written (create one with "
                   "`python -m indicators ingest` or `demo`)\n")
    code, _, err = run(capsys, "note", "list", "--db", str(missing))
    assert (code, err) == (1, f"error: no database at {missing}\n")
    assert not missing.exists()


def test_the_command_line_end_to_end_and_undo_leaves_the_entry_alone(db):
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "indicators", *args], cwd=ROOT,
                              capture_output=True, text=True, check=False)

    done = cli(*add_checkin(db, "--note", "two agents out", "--user", "ana"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "stored check-in #1: check-in for csat in North, 2025-03: off track\n"
    listed = cli("checkin", "list", "--db", str(db), "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert [(r["id"], r["note"], r["author"]) for r in json.loads(listed.stdout)] == [
        (1, "two agents out", "ana"),
    ]
    con = store.connect(db, read_only=True)
    try:
        (entry,) = con.execute("SELECT max(id) FROM upload_log").fetchone()
    finally:
        con.close()
    before = snapshot(db)
    undone = cli("undo", "--db", str(db), str(entry))
    assert undone.returncode == 1
    assert "it is a check-in, not a load; check-ins and notes stay as written" in undone.stderr
    assert snapshot(db) == before
    assert cli("check", "--db", str(db)).returncode == 0
