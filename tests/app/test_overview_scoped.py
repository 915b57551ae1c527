"""The overview's scorecard, read for one department and month alone (a scoped read of the
stored indicators), equals the one made from a full recomputation of the indicator table and
route: values, changes, trends, targets and statuses.

The demo holds targets with and without a given baseline, baselines up to two years before
the month shown, and ``*`` targets (All's), so the scoped route must read the baseline months
too.
"""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from dashboard import data, loaders
from dashboard.scorecard import scorecard
from indicators import compute, demo, ingest, store
from indicators.catalog import ALL_DEPARTMENTS
from indicators.route import route_summary, route_table


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory):
    logging.getLogger("streamlit").setLevel(logging.ERROR)  # bare mode: no runtime warnings
    folder = tmp_path_factory.mktemp("overview")
    path = folder / "demo.duckdb"
    con = store.connect(path)
    try:
        for file in demo.write_demo_files(folder / "files"):
            assert ingest.ingest_file(con, file).accepted
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def full(demo_path):
    con = store.connect(demo_path, read_only=True)
    try:
        table = compute.indicator_table(con)
        targets = store.read_targets(con)
    finally:
        con.close()
    return table, route_table(targets, table), route_summary(targets, table)


@pytest.mark.parametrize("month", ["2025-12", "2025-06", "2024-03"])
@pytest.mark.parametrize(
    "department", [ALL_DEPARTMENTS, demo.SLIPPING, demo.IMPROVING, demo.PROMISE_SLIPPING]
)
def test_the_scoped_scorecard_equals_the_full_one(demo_path, full, department, month):
    data.clear_caches()
    table, route, summary = loaders.overview(
        str(demo_path), data.data_version(demo_path), None, department, month
    )
    full_table, full_route, full_summary = full
    expected = scorecard(full_table, department, month, targets=full_summary, route=full_route)
    got = scorecard(table, department, month, targets=summary, route=route)
    pd.testing.assert_frame_equal(got, expected)
    assert table["department"].unique().tolist() == [department]


def test_a_team_lead_cannot_ask_for_another_department(demo_path):
    with pytest.raises(data.auth.Forbidden):
        loaders.overview(str(demo_path), data.data_version(demo_path), (demo.SLIPPING,),
                         demo.IMPROVING, "2025-12")


def test_the_filters_read_the_months_and_departments_without_the_table(demo_path, full):
    months, departments = loaders.grid(str(demo_path), data.data_version(demo_path), None)
    table = full[0]
    assert months == sorted(table["month"].unique().tolist(), reverse=True)
    assert departments == [ALL_DEPARTMENTS, *sorted(
        d for d in table["department"].unique().tolist() if d != ALL_DEPARTMENTS)]
    _, scoped = loaders.grid(str(demo_path), data.data_version(demo_path), (demo.SLIPPING,))
    assert scoped == [ALL_DEPARTMENTS, demo.SLIPPING]
