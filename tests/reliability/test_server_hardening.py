"""Server hardening: the Streamlit settings, and what DuckDB may do on the app's connections.

Every connection the app opens has one configuration (read and write alike, so DuckDB never
refuses a second connection in the process), a memory limit and a spill folder next to the
database, and no access to files outside the database's folder (which holds the upload folder),
locked so no SQL can switch it back on.  Excel and legacy-encoding uploads still load: ingest's
scratch copies are made inside the sandbox.
"""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import duckdb
import openpyxl
import pytest

from dashboard import data
from indicators import store
from indicators.ingest import MAX_UPLOAD_BYTES
from tests.reliability.procs import ingest_now, many_purchases, purchases_csv

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def no_secrets_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.runtime.secrets import secrets_singleton

    monkeypatch.setattr(secrets_singleton, "_secrets", {})


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data" / "service.duckdb"
    ingest_now(path, purchases_csv(tmp_path / "base.csv", many_purchases("p", "North", "2025-01", 5)))
    monkeypatch.setenv(store.DB_ENV, str(path))
    monkeypatch.setenv(store.MEMORY_ENV, "2GiB")
    data.clear_caches()
    return path


# --- Streamlit -------------------------------------------------------------------------------


def test_upload_size_is_capped_in_streamlit_and_in_ingest():
    assert CONFIG["server"]["maxUploadSize"] * 1024 * 1024 == MAX_UPLOAD_BYTES


def test_xsrf_protection_is_on_explicitly():
    assert CONFIG["server"]["enableXsrfProtection"] is True


def test_error_details_are_hidden_from_users():
    from streamlit import config

    assert CONFIG["client"]["showErrorDetails"] == "none"
    # A value Streamlit 1.67 knows (its option's documentation lists the allowed ones).
    assert '"none"' in config._config_options_template["client.showErrorDetails"].description


# --- DuckDB on the app's connections ---------------------------------------------------------


def test_the_app_connection_reads_its_upload_folder_but_no_other_file(db):
    allowed = data.upload_root(db) / "probe.csv"
    allowed.parent.mkdir(parents=True, exist_ok=True)
    allowed.write_text("a,b\n1,2\n", encoding="utf-8")
    with data._read(str(db)) as con:
        assert con.execute("SELECT count(*) FROM read_csv(?)", [str(allowed)]).fetchone() == (1,)
        for hostile in (
            "SELECT * FROM read_csv('/etc/passwd')",
            f"SELECT * FROM read_csv('{db.parent}/../../../../etc/passwd')",
            "SELECT * FROM glob('/etc/*')",
            "COPY (SELECT 1) TO '/tmp/escaped-from-the-app.csv'",
            "ATTACH '/tmp/another.duckdb' AS other",
        ):
            with pytest.raises(duckdb.PermissionException):
                con.execute(hostile)
        with pytest.raises(duckdb.InvalidInputException, match="locked"):
            con.execute("SET enable_external_access = true")
        with pytest.raises(duckdb.InvalidInputException, match="locked"):
            con.execute("SET memory_limit = '100GB'")


def test_app_and_command_line_connections_have_a_memory_limit_and_a_spill_folder(db):
    spill = str(db.absolute().with_name(db.name + ".tmp"))
    settings = "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
    with data._read(str(db)) as con:
        assert con.execute(settings).fetchone() == ("2.0 GiB", spill)
    con = store.connect(db)  # as the command line opens it
    try:
        assert con.execute(settings).fetchone() == ("2.0 GiB", spill)
    finally:
        con.close()


def test_reads_and_writes_share_one_configuration_in_the_process(db):
    """A session reading while another writes: DuckDB would refuse a second configuration."""
    with data._read(str(db)) as reader:
        data.save_setting("iceberg_factor", 12)
        assert reader.execute("SELECT value FROM settings WHERE key = 'iceberg_factor'").fetchone() == ("12",)
        with data._write() as writer:
            writer.execute("SELECT 1")


def test_excel_and_legacy_encoding_uploads_load_inside_the_sandbox(db):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["purchase_id", "purchased_at", "customer_id", "department", "amount"])
    sheet.append(["x1", "2025-02-03T10:00:00", "c1", "Almacén", 4.0])
    xlsx = io.BytesIO()
    book.save(xlsx)
    legacy = (
        "purchase_id,purchased_at,customer_id,department,amount\n"
        "k1,2025-03-03T10:00:00,c1,Отдел продаж,5\n"
    ).encode("cp1251")
    results = data.ingest_uploads(
        [data.Upload("sheet.xlsx", xlsx.getvalue())], encoding="utf-8", date_format="ISO"
    ) + data.ingest_uploads(
        [data.Upload("legacy.csv", legacy)], encoding="cp1251", date_format="ISO"
    )
    assert [r.accepted for r in results] == [True, True], [r.message for r in results]
    # Nothing of the uploads is left behind in the upload folder.
    assert list(data.upload_root(db).rglob("*")) == []


def test_a_damaged_database_file_is_a_message_not_a_traceback(tmp_path, monkeypatch):
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"not a database" * 100)
    monkeypatch.setenv(store.DB_ENV, str(bad))
    data.clear_caches()
    status = data.state()
    assert status.error and "python -m indicators check" in status.error and not status.busy
