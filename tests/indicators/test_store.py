"""The store: tables, settings and their validation, the database path."""

from pathlib import Path

import pytest

from indicators import catalog, schema, store


@pytest.fixture
def con(tmp_path: Path):
    c = store.connect(tmp_path / "s.duckdb")
    yield c
    c.close()


def test_connect_creates_every_dataset_table_with_the_contract_columns(con):
    for name, dataset in schema.DATASETS.items():
        cols = [r[0] for r in con.execute(f'DESCRIBE "{name}"').fetchall()]
        expected = list(dataset.column_names) + (["month"] if dataset.event else [])
        assert cols == expected, name


def test_ids_are_stored_without_compression_and_the_rest_compressed(con):
    """Only identifiers skip compression (schema._storage says why)."""
    con.execute(
        "INSERT INTO purchases SELECT 'P' || i, TIMESTAMP '2025-01-01', 'C' || (i % 7), "
        "'Sales', 1.0, NULL, NULL, DATE '2025-01-01' FROM range(5000) AS r(i)"
    )
    con.execute("CHECKPOINT")
    methods = dict(con.execute(
        "SELECT column_name, string_agg(DISTINCT lower(compression), ',') "
        "FROM pragma_storage_info('purchases') WHERE segment_type = 'VARCHAR' GROUP BY ALL"
    ).fetchall())
    assert methods["purchase_id"] == "uncompressed"
    assert methods["customer_id"] == "uncompressed"
    assert "uncompressed" not in methods["department"]


def test_stored_rows_is_the_sum_of_the_row_counts_without_targets(con):
    assert store.stored_rows(con) == 0
    con.execute("INSERT INTO purchases (purchase_id, customer_id, department, amount, month) "
                "SELECT 'p' || i, 'c', 'North', 1, DATE '2025-01-01' FROM range(3) AS r(i)")
    con.execute("INSERT INTO complaints (complaint_id, department, month) "
                "VALUES ('k1', 'South', DATE '2025-02-01')")
    con.execute("INSERT INTO targets (indicator, department, baseline_month, target_month, "
                "target) VALUES ('csat', '*', DATE '2025-01-01', DATE '2025-06-01', 80)")
    assert store.stored_rows(con) == 3 + 1 == int(store.row_counts(con)["rows"].sum())


def test_connect_is_idempotent(tmp_path: Path):
    path = tmp_path / "s.duckdb"
    store.connect(path).close()
    con = store.connect(path)
    assert con.execute("SELECT count(*) FROM purchases").fetchone() == (0,)
    con.close()


def test_default_path_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("SERVICE_DB", raising=False)
    assert store.default_db_path() == Path("data") / "service.duckdb"
    monkeypatch.setenv("SERVICE_DB", "/tmp/other.duckdb")
    assert store.default_db_path() == Path("/tmp/other.duckdb")


def test_settings_defaults(con):
    s = store.read_settings(con)
    # a new database counts complaints at the front line: ×2
    assert (s.iceberg_counted_at, s.iceberg_factor, s.time_zone) == ("front_line", 2.0, "UTC")
    assert s.dissatisfied_leave_share == 30.0
    assert s.promise_for("Sales") == 60.0


def test_settings_round_trip_and_department_promise(con):
    store.write_setting(con, "iceberg_counted_at", "custom")
    store.write_setting(con, "iceberg_factor", "12.5")
    store.write_setting(con, "time_zone", "Europe/Madrid")
    store.write_setting(con, "promised_minutes", 30)
    store.write_setting(con, "promised_minutes", 15, department="Call centre")
    s = store.read_settings(con)
    assert s.iceberg_factor == 12.5
    assert s.time_zone == "Europe/Madrid"
    assert s.promise_for("Call centre") == 15.0
    assert s.promise_for("Shop") == 30.0
    store.write_setting(con, "promised_minutes", 20, department="Call centre")
    assert store.read_settings(con).promise_for("Call centre") == 20.0


@pytest.mark.parametrize(
    ("key", "value", "department", "message"),
    [
        ("iceberg_factor", "ten", "*", "must be a number"),
        ("iceberg_factor", "0", "*", "positive"),
        ("iceberg_factor", "nan", "*", "positive"),
        ("promised_minutes", "-5", "Shop", "positive"),
        ("time_zone", "Mars/Olympus", "*", "unknown time zone"),
        ("time_zone", "UTC", "Shop", "every department"),
        ("colour", "red", "*", "unknown setting"),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(con, key, value, department, message):
    before = con.execute("SELECT * FROM settings ORDER BY ALL").fetchall()
    with pytest.raises(store.SettingError, match=message):
        store.write_setting(con, key, value, department=department)
    assert con.execute("SELECT * FROM settings ORDER BY ALL").fetchall() == before


def test_header_recognition():
    header = [schema.normalise_header(h) for h in ["\ufeffPurchase_ID ", "purchased_at", " Customer_id",
                                                     "DEPARTMENT", "amount", "note"]]
    assert schema.recognise(header).name == "purchases"
    assert schema.recognise(["foo", "bar"]) is None
    best, missing = schema.closest(["complaint_id", "department"])
    assert (best.name, missing) == ("complaints", ("opened_at",))


def test_every_dataset_recognised_from_its_own_required_columns_only():
    for name, dataset in schema.DATASETS.items():
        assert schema.recognise(list(dataset.required)).name == name


def test_catalog_is_complete_and_consistent():
    ids = [i.id for i in catalog.INDICATORS]
    # the seeds' 24, revenue at risk and the service manager's 11 (issue 20)
    assert len(ids) == len(set(ids)) == 24 + 1 + 11
    assert {i.family for i in catalog.INDICATORS} == set(catalog.FAMILIES)
    assert {i.direction for i in catalog.INDICATORS} == {"higher", "lower"}
    for ind in catalog.INDICATORS:
        for source in ind.sources:
            dataset, column = source.split(".")
            schema.DATASETS[dataset].column(column)
    assert catalog.get("complaint_rate").direction == "lower"
    assert catalog.is_better("complaint_rate", 1.0, 2.0)
    assert catalog.is_better("csat", 80.0, 70.0)
    with pytest.raises(KeyError, match="unknown indicator 'nope'"):
        catalog.get("nope")


def test_targets_accept_exactly_the_catalog_ids():
    assert schema.DATASETS["targets"].column("indicator").choices == catalog.INDICATOR_IDS
