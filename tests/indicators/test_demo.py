"""The demo dataset: deterministic, faithful to the CSV contract, and telling its story.

Everything here is checked with plain pandas on the generated text cells, never through the
engine, so a bug in the engine cannot hide a bug in the demo (or the other way round).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from indicators import catalog, demo, schema, store
from indicators.ingest import IngestResult, Problem

MONTH_FROM = {
    "purchases": "purchased_at",
    "complaints": "opened_at",
    "responses": "received_at",
    "surveys": "answered_at",
}
ID_COLUMN = {
    "purchases": "purchase_id",
    "complaints": "complaint_id",
    "responses": "request_id",
    "surveys": "survey_id",
}


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return demo.generate()


def _month(frame: pd.DataFrame, dataset: str) -> pd.Series:
    return frame[MONTH_FROM[dataset]].str[:7]


def _ts(cells: pd.Series) -> pd.Series:
    """ISO text → timestamps; empty cells → NaT; anything else raises."""
    return pd.to_datetime(cells.replace("", None), format="ISO8601")


def _number(cells: pd.Series) -> pd.Series:
    return pd.to_numeric(cells.replace("", None), errors="raise")


def _first_last_quarter(series: pd.Series) -> tuple[float, float]:
    """Mean of the first three and of the last three months of a month-indexed series."""
    ordered = series.sort_index()
    return ordered.iloc[:3].mean(), ordered.iloc[-3:].mean()


def _complaint_rate(frames: dict[str, pd.DataFrame], department: str) -> tuple[float, float]:
    """Complaints per 100 purchases over the first three and the last three months."""
    purchases = frames["purchases"].query("department == @department")
    complaints = frames["complaints"].query("department == @department")
    bought = purchases.groupby(_month(purchases, "purchases")).size()
    complained = complaints.groupby(_month(complaints, "complaints")).size()
    complained = complained.reindex(bought.index, fill_value=0).sort_index()
    bought = bought.sort_index()
    first = complained.iloc[:3].sum() / bought.iloc[:3].sum() * 100
    last = complained.iloc[-3:].sum() / bought.iloc[-3:].sum() * 100
    return first, last


def _response_minutes(frames: dict[str, pd.DataFrame], department: str) -> pd.DataFrame:
    rows = frames["responses"].query("department == @department")
    minutes = (_ts(rows["responded_at"]) - _ts(rows["received_at"])).dt.total_seconds() / 60
    promise = _number(rows["promised_minutes"]).fillna(60.0)
    return pd.DataFrame(
        {
            "month": _month(rows, "responses"),
            "minutes": minutes,
            "kept": (minutes <= promise).fillna(False),
        }
    )


def _csat(frames: dict[str, pd.DataFrame], department: str) -> pd.Series:
    rows = frames["surveys"].query("department == @department and kind == 'csat'")
    good = rows["score"].astype(int) >= 4
    return good.groupby(_month(rows, "surveys")).mean() * 100


# --- determinism ----------------------------------------------------------------------------


def _digests(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_two_generations_write_identical_files(tmp_path: Path):
    first = demo.write_demo_files(tmp_path / "a")
    second = demo.write_demo_files(tmp_path / "b")
    assert [p.name for p in first] == [f"{name}.csv" for name in schema.DATASET_NAMES]
    assert _digests(first) == _digests(second)


def test_the_same_seed_gives_equal_frames_and_another_seed_other_data(frames):
    again = demo.generate(seed=demo.DEMO_SEED)
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(frame, again[name])
    other = demo.generate(seed=demo.DEMO_SEED + 1)
    assert not other["purchases"].equals(frames["purchases"])


# --- the CSV contract -----------------------------------------------------------------------


def test_frames_hold_text_cells_and_the_files_hold_exactly_those_cells(frames, tmp_path: Path):
    paths = demo.write_demo_files(tmp_path)
    for path in paths:
        frame = frames[path.stem]
        assert all(dtype == "str" for dtype in frame.dtypes), path.stem
        assert not frame.isna().any().any(), f"{path.stem}: a missing value must be ''"
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")
        assert raw.decode("utf-8").splitlines()[0] == ",".join(frame.columns)
        back = pd.read_csv(path, dtype="str", keep_default_na=False, encoding="utf-8")
        pd.testing.assert_frame_equal(back, frame, check_dtype=False)


@pytest.mark.parametrize("name", schema.DATASET_NAMES)
def test_columns_are_the_contract_columns(frames, name):
    dataset = schema.DATASETS[name]
    columns = list(frames[name].columns)
    assert set(dataset.required) <= set(columns)
    assert set(columns) <= set(dataset.column_names), "no extra columns in the demo"


@pytest.mark.parametrize("name", list(ID_COLUMN))
def test_event_ids_are_unique_and_dates_are_iso(frames, name):
    frame = frames[name]
    assert frame[ID_COLUMN[name]].is_unique
    assert frame[MONTH_FROM[name]].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d").all()
    assert _ts(frame[MONTH_FROM[name]]).notna().all()


@pytest.mark.parametrize("name", [*ID_COLUMN, "retention"])
def test_at_least_24_months_by_6_departments_with_rows_in_every_slice(frames, name):
    frame = frames[name]
    month = frame["month"] if name == "retention" else _month(frame, name)
    slices = frame.groupby([month, frame["department"]]).size()
    months = sorted(month.unique())
    assert len(months) >= 24 and len(frame["department"].unique()) >= 6
    assert months[0] == demo.FIRST_MONTH and months[-1] == "2025-12"
    # A small department may have a month without complaints; every other dataset has rows
    # in every slice.
    coverage = 0.9 if name == "complaints" else 1.0
    assert len(slices) >= coverage * len(months) * len(demo.DEPARTMENT_NAMES)


def test_department_names_include_a_non_ascii_one(frames):
    names = set(frames["purchases"]["department"])
    assert names == set(demo.DEPARTMENT_NAMES)
    assert any(not name.isascii() for name in names)


def test_purchases_follow_the_contract(frames):
    p = frames["purchases"]
    amount = _number(p["amount"])
    listed = p["list_amount"] != ""
    list_amount = _number(p.loc[listed, "list_amount"])
    assert (amount >= 0).all()
    assert (list_amount >= amount[listed]).all()
    assert p["customer_id"].ne("").all()
    assert 0.5 < listed.mean() < 1.0, "list_amount on many rows, not all"
    assert p["channel"].ne("").mean() > 0.9
    discount = 1 - amount[listed] / list_amount
    assert discount.round(2).nunique() >= 5, "discounts vary"
    assert 40_000 <= len(p) <= 80_000, "modest, so `make run` starts fast"


def test_complaints_follow_the_contract(frames):
    c = frames["complaints"]
    assert c["component"].isin([*catalog.SERVICE_COMPONENTS, ""]).all()
    assert 0 < c["component"].eq("").mean() < 0.15
    assert c["customer_id"].ne("").mean() > 0.8
    assert c["category"].ne("").mean() > 0.8
    resolved = c["resolved_at"] != ""
    assert 0.85 < resolved.mean() < 1.0
    assert (_ts(c.loc[resolved, "resolved_at"]) >= _ts(c.loc[resolved, "opened_at"])).all()
    paid = c["compensation"] != ""
    assert 0.05 < paid.mean() < 0.5
    assert (_number(c.loc[paid, "compensation"]) >= 0).all()
    assert c["channel"].ne("").mean() > 0.5


def test_responses_follow_the_contract(frames):
    r = frames["responses"]
    answered = r["responded_at"] != ""
    assert 0.005 < (~answered).mean() < 0.05, "a few requests are not yet answered"
    assert (_ts(r.loc[answered, "responded_at"]) >= _ts(r.loc[answered, "received_at"])).all()
    promised = r["promised_minutes"] != ""
    assert 0.1 < promised.mean() < 0.9, "promised_minutes on some rows only"
    assert (_number(r.loc[promised, "promised_minutes"]) > 0).all()


def test_retention_follows_the_contract_and_chains_month_to_month(frames):
    t = frames["retention"]
    counts = t[["customers_start", "customers_end", "new_customers"]]
    assert counts.apply(lambda col: col.str.fullmatch(r"\d+")).all().all()
    n = counts.astype(int)
    assert (n["new_customers"] <= n["customers_end"]).all()
    assert not t.duplicated(["month", "department"]).any()
    assert t["month"].str.fullmatch(r"\d{4}-\d\d").all()
    for _, rows in t.assign(**n).sort_values("month").groupby("department"):
        assert (
            rows["customers_start"].iloc[1:].to_numpy() == rows["customers_end"].iloc[:-1]
        ).all()


def test_surveys_follow_the_contract(frames):
    s = frames["surveys"]
    assert s["kind"].isin(["csat", "nps", "ces"]).all()
    assert s["score"].str.fullmatch(r"\d+").all()
    score = s["score"].astype(int)
    csat, nps, ces = (s["kind"] == kind for kind in ("csat", "nps", "ces"))
    assert score[csat].between(1, 5).all() and score[nps].between(0, 10).all()
    assert score[ces].between(1, 7).all()
    assert score[csat].nunique() >= 4 and score[nps].nunique() >= 9 and score[ces].nunique() >= 6


def test_targets_follow_the_contract_and_mix_their_forms(frames):
    t = frames["targets"]
    assert 8 <= len(t) <= 12
    assert t["indicator"].isin(catalog.INDICATOR_IDS).all()
    assert t["department"].isin([schema.ALL_DEPARTMENTS_TARGET, *demo.DEPARTMENT_NAMES]).all()
    assert not t.duplicated(["indicator", "department"]).any()
    assert t["baseline_month"].str.fullmatch(r"\d{4}-\d\d").all()
    assert (t["baseline_month"] < t["target_month"]).all()
    assert (t["baseline_month"] >= demo.FIRST_MONTH).all()
    assert (t["baseline_month"] <= "2025-12").all() and (t["target_month"] <= "2026-12").all()
    _number(t["target"])
    assert (_number(t["tolerance"]).dropna() >= 0).all()
    families = {catalog.get(i).family for i in t["indicator"]}
    assert families == set(catalog.FAMILIES)
    everywhere = t["department"] == schema.ALL_DEPARTMENTS_TARGET
    assert everywhere.any() and (~everywhere).any()
    given = (t["baseline"] != "") & (t["tolerance"] != "")
    assert given.any() and ((t["baseline"] == "") & (t["tolerance"] == "")).any()


# --- the story ------------------------------------------------------------------------------


def test_the_improving_department_complains_less_answers_faster_and_pleases_more(frames):
    first, last = _complaint_rate(frames, demo.IMPROVING)
    assert last < first * 0.7
    minutes = _response_minutes(frames, demo.IMPROVING).groupby("month")["minutes"].median()
    early, late = _first_last_quarter(minutes)
    assert late < early / 2
    early, late = _first_last_quarter(_csat(frames, demo.IMPROVING))
    assert late > early + 20


def test_the_slipping_department_complains_more_answers_slower_and_pleases_less(frames):
    first, last = _complaint_rate(frames, demo.SLIPPING)
    assert last > first * 1.3
    minutes = _response_minutes(frames, demo.SLIPPING).groupby("month")["minutes"].median()
    early, late = _first_last_quarter(minutes)
    assert late > early * 1.5
    early, late = _first_last_quarter(_csat(frames, demo.SLIPPING))
    assert late < early - 20


def test_the_promise_is_kept_less_and_less_often(frames):
    kept = _response_minutes(frames, demo.PROMISE_SLIPPING).groupby("month")["kept"].mean() * 100
    early, late = _first_last_quarter(kept)
    assert early > 85 and late < early - 20


def test_the_spike_component_peaks_in_the_spike_months(frames):
    c = frames["complaints"]
    share = (c["component"] == demo.SPIKE_COMPONENT).groupby(_month(c, "complaints")).mean()
    spike = share.index.isin(demo.SPIKE_MONTHS)
    assert share[spike].min() > share[~spike].max()
    assert share.idxmax() in demo.SPIKE_MONTHS


def test_december_revenue_beats_the_monthly_mean_of_its_year_and_summer_dips(frames):
    p = frames["purchases"]
    revenue = _number(p["amount"]).groupby(_month(p, "purchases")).sum()
    for year in ("2024", "2025"):
        months = revenue[revenue.index.str.startswith(year)]
        assert months[f"{year}-12"] > months.mean() * 1.2
        assert months[[f"{year}-07", f"{year}-08"]].max() < months.mean()


def test_complaints_repeat_within_90_days(frames):
    c = frames["complaints"].query("customer_id != ''")
    c = c.assign(at=_ts(c["opened_at"]))
    pairs = c.merge(c, on=["customer_id", "component"], suffixes=("", "_before"))
    gap = pairs["at"] - pairs["at_before"]
    repeats = pairs.loc[(gap > pd.Timedelta(0)) & (gap <= pd.Timedelta(days=90)), "complaint_id"]
    share = repeats.nunique() / len(c)
    assert 0.03 < share < 0.3
    by_department = c["complaint_id"].isin(repeats).groupby(c["department"]).mean()
    assert by_department[demo.SLIPPING] > by_department[demo.IMPROVING]


def test_customers_come_back_in_later_months(frames):
    p = frames["purchases"]
    months_per_customer = _month(p, "purchases").groupby(p["customer_id"]).nunique()
    assert (months_per_customer >= 2).mean() > 0.5
    assert (months_per_customer == 1).any()
    departments_per_customer = p.groupby("customer_id")["department"].nunique()
    assert (departments_per_customer >= 2).any(), "some customers shop in several departments"


# --- loading ------------------------------------------------------------------------------


def _stored_counts(db: Path) -> dict[str, int]:
    con = store.connect(db, read_only=True)
    try:
        return {
            name: con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for name in schema.DATASET_NAMES
        }
    finally:
        con.close()


def test_run_cli_loads_every_generated_row_and_is_idempotent(frames, tmp_path: Path, capsys):
    db = tmp_path / "demo.duckdb"
    expected = {name: len(frame) for name, frame in frames.items()}

    assert demo.run_cli(str(db)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [*schema.DATASET_NAMES,
                                                            "check-ins and notes"]
    assert _stored_counts(db) == expected

    assert demo.run_cli(str(db)) == 0
    assert _stored_counts(db) == expected
    # the check-ins and notes are written once: a second run adds none
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == list(schema.DATASET_NAMES)
    con = duckdb.connect(str(db), read_only=True)
    try:
        counts = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("target_checkins", "event_notes")]
    finally:
        con.close()
    assert counts == [len(demo.CHECKINS), len(demo.NOTES)] == [2, 2]


def test_run_cli_reports_a_rejected_file_and_returns_1(tmp_path: Path, capsys, monkeypatch):
    def reject(con, path, **_options) -> IngestResult:
        problem = Problem(path.name, 7, "amount", "-1", "must be ≥ 0")
        return IngestResult(
            path.name, path.stem, "rejected", problems=[problem], message="1 problem"
        )

    monkeypatch.setattr(demo, "ingest_file", reject)
    assert demo.run_cli(str(tmp_path / "demo.duckdb")) == 1
    err = capsys.readouterr().err
    assert "purchases: rejected: 1 problem" in err
    assert "row 7, column amount, value '-1': must be ≥ 0" in err
