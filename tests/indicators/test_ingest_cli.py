"""The ``ingest`` command: one report per file, exit 0 / 1 / 2, and the upload log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from indicators import store
from indicators.__main__ import main
from tests.indicators.test_ingest import PURCHASE_HEADER, PURCHASES, write

ROOT = Path(__file__).resolve().parents[2]


def _log(db: Path) -> list[tuple]:
    con = store.connect(db, read_only=True)
    try:
        return con.execute(
            'SELECT file_name, dataset, slices, "rows", outcome, "user" FROM upload_log ORDER BY id'
        ).fetchall()
    finally:
        con.close()


def test_all_accepted_exits_0(tmp_path, capsys):
    db = tmp_path / "s.duckdb"
    good = write(tmp_path, "march.csv", PURCHASES)
    assert main(["ingest", "--db", str(db), "--user", "ana", str(good)]) == 0
    out = capsys.readouterr().out
    assert f"[1/1] {good}" in out
    assert "accepted: march.csv → purchases, 3 rows, slices 2025-03 Sales; 2025-03 Support" in out
    assert _log(db) == [
        ("march.csv", "purchases", "2025-03 Sales; 2025-03 Support", 3, "accepted", "ana"),
    ]


def test_any_rejected_exits_1_and_processes_every_file(tmp_path, capsys):
    db = tmp_path / "s.duckdb"
    bad = write(tmp_path, "bad.csv", PURCHASE_HEADER + "p1,2025-03-01,c,Sales,-2,\n")
    good = write(tmp_path, "good.csv", PURCHASES)
    assert main(["ingest", "--db", str(db), str(bad), str(good)]) == 1
    out = capsys.readouterr().out
    # "rejected" once: the message after the dash does not repeat the outcome.
    assert "rejected: bad.csv (purchases) — must be ≥ 0; nothing was stored\n" in out
    assert "  bad.csv row 2 column amount value '-2': must be ≥ 0" in out
    assert "accepted: good.csv" in out
    assert "1 accepted, 1 rejected" in out
    assert [(r[0], r[4]) for r in _log(db)] == [("bad.csv", "rejected"), ("good.csv", "accepted")]


def test_missing_file_is_a_usage_error(tmp_path, capsys):
    db = tmp_path / "s.duckdb"
    good = write(tmp_path, "good.csv", PURCHASES)
    assert main(["ingest", "--db", str(db), str(good), str(tmp_path / "nope.csv")]) == 2
    out, err = capsys.readouterr()
    assert f"error: no such file: {tmp_path / 'nope.csv'}" in err and out == ""
    assert not db.exists()


def test_options_reach_the_reader(tmp_path, capsys):
    db = tmp_path / "s.duckdb"
    text = "complaint_id;opened_at;department;compensation\nk1;07.03.2025;Продажи;2,5\n"
    path = write(tmp_path, "c.csv", text, encoding="cp1251")
    args = [
        "ingest",
        "--db",
        str(db),
        "--encoding",
        "cp1251",
        "--date-format",
        "DD.MM.YYYY",
        "--delimiter",
        ";",
        str(path),
    ]
    assert main(args) == 0
    assert "accepted: c.csv → complaints, 1 row, slices 2025-03 Продажи" in capsys.readouterr().out


def test_subprocess_exit_codes(tmp_path):
    db = tmp_path / "s.duckdb"
    good = write(tmp_path, "good.csv", PURCHASES)
    bad = write(tmp_path, "bad.csv", "foo,bar\n1,2\n")

    def run(*files: Path | str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "indicators", "ingest", "--db", str(db), *map(str, files)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=False,
        )

    ok = run(good)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    rejected = run(bad)
    assert rejected.returncode == 1
    assert "rejected: bad.csv" in rejected.stdout
    assert "row 1 column purchase_id: unknown file shape" in rejected.stdout
    missing = run(tmp_path / "missing.csv")
    assert missing.returncode == 2
    assert "no such file" in missing.stderr and missing.stdout == ""


def test_many_slices_are_summarised_not_listed():
    from indicators.ingest.problems import slices_summary

    slices = [(f"2025-{m:02d}", d) for m in range(1, 13) for d in ("A", "B", "C", "D")]
    assert slices_summary(slices) == "48 slices (12 × 2025-01…2025-12, 4 × A, B, C…)"
    assert slices_summary(slices[:2]) == "slices 2025-01 A; 2025-01 B"
