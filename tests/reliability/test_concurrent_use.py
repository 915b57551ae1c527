"""Concurrent use: command-line loads while the app serves, two loads at once, readers mid-load.

DuckDB lets one process hold the file; while it does no other process can open it at all.  The
guarantees: a second load waits and retries (saying so on stderr) and both land, or it gives up
after ``--wait`` with a clear message and exit 1; the app's writes are refused with "try again"
and change nothing; every page of the app shows "a load is in progress" instead of an exception,
and the new data once the load ends; readers only ever see the state before or after a load.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from indicators import store
from tests.reliability.procs import (
    WAIT,
    count,
    ingest_cli,
    ingest_now,
    many_purchases,
    purchases_csv,
    snapshot,
)

ROOT = Path(__file__).resolve().parents[2]
PAGES = (
    "app_pages/overview.py", "app_pages/route.py", "app_pages/quality.py",
    "app_pages/quantity.py", "app_pages/opportunity.py", "app_pages/price.py",
    "app_pages/upload.py", "app_pages/targets.py",
)


@pytest.fixture(autouse=True)
def no_secrets_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sign-in off (the local analyst), whatever a developer's secrets file says."""
    from streamlit.runtime.secrets import secrets_singleton

    monkeypatch.setattr(secrets_singleton, "_secrets", {})


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two months of purchases for North and South; the app (``SERVICE_DB``) points here."""
    path = tmp_path / "service.duckdb"
    ingest_now(
        path,
        purchases_csv(
            tmp_path / "base.csv",
            many_purchases("jan-n", "North", "2025-01", 30)
            + many_purchases("jan-s", "South", "2025-01", 20)
            + many_purchases("feb-n", "North", "2025-02", 10),
        ),
    )
    monkeypatch.setenv(store.DB_ENV, str(path))
    data.clear_caches()
    return path


def slices(db: Path) -> dict[tuple[str, str], int]:
    con = store.connect(db, read_only=True)
    try:
        rows = con.execute(
            "SELECT strftime(month, '%Y-%m'), department, count(*) FROM purchases GROUP BY ALL"
        ).fetchall()
    finally:
        con.close()
    return {(m, d): n for m, d, n in rows}


# --- two command-line loads ------------------------------------------------------------------


def test_a_second_load_waits_says_so_and_both_land(db, tmp_path):
    first = purchases_csv(tmp_path / "east.csv", many_purchases("e", "East", "2025-03", 7))
    second = purchases_csv(tmp_path / "west.csv", many_purchases("w", "West", "2025-03", 5))
    with ingest_cli(db, first, pause="inserted") as a:
        a.wait_paused("inserted")
        # b starts only once a holds the file: started together, b could win the lock
        with ingest_cli(db, second) as b:
            b.wait_for(store.BUSY_MESSAGE)
            a.resume()
            assert a.finish() == 0, "".join(a.stdout + a.stderr)
            assert b.finish() == 0, "".join(b.stdout + b.stderr)
    assert "Traceback" not in "".join(b.stderr)
    got = slices(db)
    assert got[("2025-03", "East")] == 7 and got[("2025-03", "West")] == 5
    assert got[("2025-01", "North")] == 30


def test_a_load_that_cannot_get_the_file_gives_up_clearly_and_changes_nothing(db, tmp_path):
    holder_file = purchases_csv(tmp_path / "east.csv", many_purchases("e", "East", "2025-03", 7))
    waiting_file = purchases_csv(tmp_path / "west.csv", many_purchases("w", "West", "2025-03", 5))
    before = snapshot(db)
    with ingest_cli(db, holder_file, pause="inserted") as holder:
        holder.wait_paused("inserted")
        with ingest_cli(db, waiting_file, wait=1) as waiting:
            assert waiting.finish() == 1
        holder.kill()
    said = "".join(waiting.stderr)
    assert store.BUSY_MESSAGE in said
    assert "database busy (used by another process)" in said and "nothing was loaded" in said
    assert "Traceback" not in said + "".join(waiting.stdout)
    assert snapshot(db) == before


# --- the app while a command-line load holds the file ----------------------------------------


def run_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, (page, [e.value for e in at.exception])
    return at


def shown_text(at: AppTest) -> str:
    parts = [*at.info, *at.warning, *at.error, *at.sidebar.warning]
    return "\n".join(str(p.value) for p in parts)


def test_every_page_says_a_load_is_in_progress_then_shows_the_new_data(db, tmp_path):
    # Warm the caches first, as a running app would have them.
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for page in PAGES:
        run_page(at, page)
    east = purchases_csv(tmp_path / "east.csv", many_purchases("e", "East", "2025-03", 7))
    with ingest_cli(db, east, pause="inserted") as cli:
        cli.wait_paused("inserted")
        # The warm app: what it read before is served from its cache (the file has not changed
        # yet), but a month it has not read yet needs the database, deep inside a page.
        run_page(at, "app_pages/opportunity.py")
        at.sidebar.selectbox(key="month").set_value("2025-01").run()
        assert not at.exception, [e.value for e in at.exception]
        assert data.LOAD_IN_PROGRESS in shown_text(at)
        # A cold start (caches cleared, a new session): every page meets the lock.
        data.clear_caches()
        cold = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        for page in PAGES:
            run_page(cold, page)
            assert data.LOAD_IN_PROGRESS in shown_text(cold), page
        cli.resume()
        assert cli.finish() == 0, "".join(cli.stdout + cli.stderr)
    # The cache key follows the file: the next run shows the new department.
    run_page(at, "app_pages/overview.py")
    assert data.LOAD_IN_PROGRESS not in shown_text(at)
    assert "East" in at.sidebar.selectbox(key="department").options


def test_an_app_upload_is_refused_with_try_again_while_a_load_holds_the_file(db, tmp_path):
    east = purchases_csv(tmp_path / "east.csv", many_purchases("e", "East", "2025-03", 7))
    before = snapshot(db)
    with ingest_cli(db, east, pause="inserted") as cli:
        cli.wait_paused("inserted")
        with pytest.raises(data.DatabaseBusy) as refused:
            data.ingest_uploads(
                [data.Upload("west.csv", (tmp_path / "east.csv").read_bytes())],
                encoding="utf-8", date_format="ISO",
            )
        assert "nothing was changed" in str(refused.value) and "Try again" in str(refused.value)
        with pytest.raises(data.DatabaseBusy):
            data.save_setting("iceberg_factor", 12)
        cli.kill()
    assert snapshot(db) == before


# --- two app sessions at once, and readers during an app upload ------------------------------


def upload_of(name: str, rows: list[tuple]) -> data.Upload:
    buffer = io.StringIO()
    import csv

    buffer.write("purchase_id,purchased_at,customer_id,department,amount\n")
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return data.Upload(name, buffer.getvalue().encode("utf-8"))


def test_two_sessions_uploading_at_once_both_land(db):
    uploads = {
        "east.csv": upload_of("east.csv", many_purchases("e", "East", "2025-03", 3000)),
        "west.csv": upload_of("west.csv", many_purchases("w", "West", "2025-03", 2000)),
    }
    start = threading.Barrier(2, timeout=WAIT)
    results: dict[str, object] = {}

    def session(name: str) -> None:
        start.wait()
        try:
            results[name] = data.ingest_uploads([uploads[name]], encoding="utf-8", date_format="ISO")
        except Exception as exc:  # the assertion below shows what went wrong
            results[name] = exc

    threads = [threading.Thread(target=session, args=(n,)) for n in uploads]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT)
        assert not t.is_alive(), "an upload did not end"
    for name in uploads:
        outcome = results[name]
        assert isinstance(outcome, list) and outcome[0].accepted, (name, outcome)
    got = slices(db)
    assert got[("2025-03", "East")] == 3000 and got[("2025-03", "West")] == 2000


def test_a_reader_during_an_app_upload_sees_the_before_or_the_after_count(
    db, monkeypatch: pytest.MonkeyPatch
):
    """An upload stopped after its INSERT (not yet committed): a reader in another session of
    the same process opens the file (same configuration, no error) and sees the old count.

    The app passes its loads no checkpoint; here the upload's load is given one that holds it
    at ``inserted`` until the reader has looked.
    """
    import functools

    import indicators.ingest

    reached, go_on = threading.Event(), threading.Event()

    def hold(point: str) -> None:
        if point == "inserted":
            reached.set()
            go_on.wait(WAIT)

    monkeypatch.setattr(
        indicators.ingest, "ingest_file",
        functools.partial(indicators.ingest.ingest_file, checkpoint=hold),
    )
    before = count(db)
    upload = upload_of("big.csv", many_purchases("b", "Big", "2025-04", 20_000))
    outcome: list[object] = []
    writer = threading.Thread(
        target=lambda: outcome.append(
            data.ingest_uploads([upload], encoding="utf-8", date_format="ISO")
        )
    )
    writer.start()
    try:
        assert reached.wait(WAIT), "the upload never reached its checkpoint"
        with data._read(str(db)) as con:
            assert con.execute("SELECT count(*) FROM purchases").fetchone()[0] == before
    finally:
        go_on.set()
        writer.join(timeout=WAIT)
    assert not writer.is_alive() and outcome and outcome[0][0].accepted, outcome
    assert count(db) == before + 20_000


def test_readers_polling_during_a_big_upload_see_only_before_or_after(db):
    before = count(db)
    upload = upload_of("big.csv", many_purchases("b", "Big", "2025-04", 100_000))
    seen: set[int] = set()
    done = threading.Event()

    def upload_it() -> None:
        try:
            data.ingest_uploads([upload], encoding="utf-8", date_format="ISO")
        finally:
            done.set()

    writer = threading.Thread(target=upload_it)
    writer.start()
    while not done.is_set():
        with data._read(str(db)) as con:
            seen.add(con.execute("SELECT count(*) FROM purchases").fetchone()[0])
    writer.join(timeout=WAIT)
    with data._read(str(db)) as con:
        seen.add(con.execute("SELECT count(*) FROM purchases").fetchone()[0])
    assert seen <= {before, before + 100_000}, sorted(seen)
    assert before + 100_000 in seen

