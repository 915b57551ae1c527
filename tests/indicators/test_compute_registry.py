"""Invariants every indicator must keep, run over the whole registry (like sklearn's test_common).

* the formulas cover the catalog, in its order, and the table covers every id;
* the pure functions never mutate their inputs and do not depend on row order;
* over no rows a count or a sum is 0 and a ratio is missing, never 0.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from indicators import store
from indicators.catalog import INDICATOR_IDS, get
from indicators.compute import (
    FORMULAS,
    indicators_from_facts,
    mix_from_counts,
    with_revenue_history,
)
from indicators.facts import COUNT_COLUMNS, QUANTILE_COLUMNS, SUM_COLUMNS, facts_table
from tests.indicators.engine_rows import make_db
from tests.indicators.test_compute import SCENARIOS

# Indicators that are a count or a sum themselves (0 over no rows); every other one divides.
TOTALS = {"purchases", "revenue", "active_customers", "new_customers", "complaints",
          "estimated_dissatisfied", "complaint_backlog"}
SETTINGS = store.Settings(iceberg_counted_at="custom", custom_iceberg_factor=10.0)


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    data, settings = SCENARIOS["shop"]
    path = make_db(tmp_path_factory.mktemp("registry") / "shop.duckdb", data, settings)
    con = store.connect(path, read_only=True)
    frame = facts_table(con)
    con.close()
    return frame


def test_formulas_follow_the_catalog() -> None:
    assert tuple(FORMULAS) == INDICATOR_IDS


def test_facts_columns_and_types(facts: pd.DataFrame) -> None:
    assert all(facts[c].dtype == "int64" for c in COUNT_COLUMNS)
    assert all(facts[c].dtype == "float64" for c in (*SUM_COLUMNS, *QUANTILE_COLUMNS))
    assert not facts[[*COUNT_COLUMNS, *SUM_COLUMNS]].isna().any().any()
    assert not facts.duplicated(["month", "department"]).any()


def test_table_covers_every_indicator_for_every_month_and_department(facts: pd.DataFrame) -> None:
    table = indicators_from_facts(facts, settings=SETTINGS)
    per_cell = table.groupby(["month", "department"])["indicator"].apply(tuple)
    assert (per_cell == INDICATOR_IDS).all()
    assert len(per_cell) == len(facts)


@pytest.mark.parametrize("indicator", INDICATOR_IDS)
def test_formula_does_not_mutate_and_returns_floats(facts: pd.DataFrame, indicator: str) -> None:
    history = with_revenue_history(facts)
    before = history.copy(deep=True)
    result = FORMULAS[indicator](history, SETTINGS)
    pd.testing.assert_frame_equal(history, before)
    assert result.dtype == "float64" and result.index.equals(history.index)


def test_pure_functions_do_not_mutate_their_inputs(facts: pd.DataFrame) -> None:
    before = facts.copy(deep=True)
    indicators_from_facts(facts, settings=SETTINGS)
    with_revenue_history(facts)
    pd.testing.assert_frame_equal(facts, before)
    counts = pd.DataFrame({"month": ["2025-01"], "department": ["A"], "component": ["product"],
                           "complaints": [2]})
    counts_before = counts.copy(deep=True)
    mix_from_counts(counts, months=["2025-01"], departments=["A"])
    pd.testing.assert_frame_equal(counts, counts_before)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_row_order_of_facts_does_not_matter(facts: pd.DataFrame, seed: int) -> None:
    expected = indicators_from_facts(facts, settings=SETTINGS)
    shuffled = facts.sample(frac=1.0, random_state=np.random.default_rng(seed))
    pd.testing.assert_frame_equal(indicators_from_facts(shuffled, settings=SETTINGS), expected)


def _empty_month_facts() -> pd.DataFrame:
    """Two months of facts over no rows at all (every count and sum 0, every median NaN)."""
    row: dict[str, object] = {c: 0 for c in COUNT_COLUMNS}
    row.update({c: 0.0 for c in SUM_COLUMNS})
    row.update({c: math.nan for c in QUANTILE_COLUMNS})
    return pd.DataFrame([{"month": m, "department": "A", **row} for m in ("2025-01", "2025-02")])


@pytest.mark.parametrize("indicator", INDICATOR_IDS)
def test_no_rows_give_zero_totals_and_missing_ratios(indicator: str) -> None:
    table = indicators_from_facts(_empty_month_facts(), settings=SETTINGS)
    values = table.loc[table["indicator"] == indicator, "value"]
    if indicator in TOTALS:
        assert (values == 0).all()
    else:
        assert values.isna().all(), f"{indicator} ({get(indicator).unit}) over no rows"
