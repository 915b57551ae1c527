"""The dashboard's glue split by job: a registry of cached loaders that clearing walks, one read
path for indicators, and uploads through a scratch folder passed to loading.

The fixture database is ``conftest.py``'s: purchases of North (2025-01: 10.0, 20.5; 2025-02:
30.0, 12.0, 8.0) and South (2025-01: 5.0), one CSAT target for North with baseline 2025-01.
"""

from __future__ import annotations

import ast
import doctest
import io
import logging
import tempfile
from pathlib import Path

import openpyxl
import pytest

from dashboard import cache, connection, data, loaders, writes
from indicators import ingest, store, stored_indicators
from indicators.scope import Scope

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"


@pytest.fixture(autouse=True)
def quiet_bare_mode() -> None:
    logging.getLogger("streamlit").setLevel(logging.ERROR)  # no runtime: one warning per call


def modules() -> dict[str, ast.Module]:
    return {p.name: ast.parse(p.read_text(encoding="utf-8")) for p in DASHBOARD.glob("*.py")}


# --- the registry --------------------------------------------------------------------------


def test_clear_caches_clears_a_loader_registered_later(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(cache, "_REGISTRY", list(cache._REGISTRY))  # the test's loader goes after
    calls: list[int] = []

    @cache.loader(max_entries=2)
    def doubled(n: int) -> int:
        calls.append(n)
        return 2 * n

    assert doubled in cache.registered()
    assert (doubled(21), doubled(21)) == (2 * 21, 2 * 21)
    assert calls == [21]  # the second call was served from the cache
    data.clear_caches()
    assert doubled(21) == 2 * 21
    assert calls == [21, 21]  # computed again: clearing reached it


def test_clear_caches_makes_every_real_loader_read_again(fixture_db, monkeypatch):
    opened: list[str] = []
    real = store.connect

    def counting(path, **kwargs):
        opened.append(str(path))
        return real(path, **kwargs)

    monkeypatch.setattr(store, "connect", counting)
    data.clear_caches()
    path, version = str(fixture_db), data.data_version(fixture_db)
    assert loaders.total_rows(path, version) == 6 + 2 + 3  # purchases, complaints, surveys
    assert loaders.total_rows(path, version) == 6 + 2 + 3
    assert len(opened) == 1
    data.clear_caches()
    loaders.total_rows(path, version)
    assert len(opened) == 2


def test_every_cached_function_of_the_dashboard_is_registered():
    import importlib

    registered = {id(fn) for fn in cache.registered()}
    cached = []
    for name in sorted(modules()):
        module = importlib.import_module(f"dashboard.{name.removesuffix('.py')}")
        for attr, value in vars(module).items():
            if callable(getattr(value, "clear", None)) and hasattr(value, "__wrapped__"):
                cached.append((name, attr, id(value) in registered))
    assert ("loaders.py", "total_rows", True) in cached
    assert [c for c in cached if not c[2]] == []


def test_only_the_registry_calls_streamlits_cache_decorators():
    callers = sorted(
        name
        for name, tree in modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in ("cache_data", "cache_resource")
    )
    assert callers == ["cache.py"]


# --- one read path for indicators -----------------------------------------------------------


def test_no_dashboard_module_computes_the_indicator_table():
    uses = sorted(
        name
        for name, tree in modules().items()
        for node in ast.walk(tree)
        if (isinstance(node, ast.Name) and node.id == "indicator_table")
        or (isinstance(node, ast.Attribute) and node.attr == "indicator_table")
        or (isinstance(node, ast.alias) and node.name == "indicator_table")
    )
    assert uses == []


@pytest.fixture
def scopes_read(monkeypatch: pytest.MonkeyPatch) -> list[Scope]:
    """Every scope the loaders hand to :func:`indicators.stored_indicators.read`."""
    seen: list[Scope] = []
    real = stored_indicators.read

    def spy(con, scope, **kwargs):  # the loaders always pass a scope
        seen.append(scope)
        return real(con, scope, **kwargs)

    monkeypatch.setattr(stored_indicators, "read", spy)
    return seen


def test_a_team_leads_indicators_are_read_for_all_and_their_departments(fixture_db, scopes_read):
    data.clear_caches()
    path, version = str(fixture_db), data.data_version(fixture_db)
    table = loaders.indicators(path, version, ("North",))
    assert scopes_read == [Scope(departments=("All", "North"))]
    assert set(table["department"]) == {"All", "North"}
    revenue = table[table["indicator"] == "revenue"].set_index(["month", "department"])["value"]
    assert revenue[("2025-01", "All")] == 10.0 + 20.5 + 5.0  # All holds South's purchase
    assert revenue[("2025-02", "North")] == 30.0 + 12.0 + 8.0
    loaders.indicators(path, version, None)
    assert scopes_read[-1] == Scope()


def test_the_scorecard_reads_its_department_from_its_first_trend_or_baseline_month(
    fixture_db, scopes_read
):
    data.clear_caches()
    path, version = str(fixture_db), data.data_version(fixture_db)
    # 12 trend months to 2025-02 start in 2024-03; the CSAT target's baseline 2025-01 is later.
    table, route, summary = loaders.overview(path, version, None, "North", "2025-02")
    assert scopes_read == [Scope(months=("2024-03", "2025-02"), departments=("North",))]
    assert set(table["department"]) == {"North"}
    csat = table[table["indicator"] == "csat"].set_index("month")["value"]
    # answers 5, 4, 2 in 2025-01: CSAT is the share of 4s and 5s
    assert csat["2025-01"] == pytest.approx(2 / 3 * 100)
    assert summary["indicator"].tolist() == ["csat"]


def test_the_compare_reads_every_department_of_the_one_month(fixture_db, scopes_read):
    data.clear_caches()
    path, version = str(fixture_db), data.data_version(fixture_db)
    frame = loaders.compare(path, version, ("North",), "North", "2025-01")
    assert scopes_read == [Scope(months=("2025-01", "2025-01"))]
    assert not frame.empty
    with pytest.raises(data.auth.Forbidden):
        loaders.compare(path, version, ("North",), "South", "2025-01")


# --- scratch folders, never a process-wide temp folder --------------------------------------


def _rebinds_temp(node: ast.AST) -> bool:
    """``tempfile.tempdir = …``, ``setattr(tempfile, …)``, ``os.environ['TMPDIR'] = …``."""
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for t in targets:
            if isinstance(t, ast.Attribute) and t.attr == "tempdir":
                return True
            if isinstance(t, ast.Subscript) and "TMP" in ast.unparse(t.slice).upper():
                return True
    if isinstance(node, ast.Call):
        called = ast.unparse(node.func)
        args = [ast.unparse(a) for a in node.args]
        if called == "setattr" and args and args[0] == "tempfile":
            return True
        if called in ("os.putenv", "os.environ.setdefault", "os.environ.update") and any(
            "TMP" in a.upper() for a in args
        ):
            return True
    return False


def test_no_module_in_the_dashboard_rebinds_the_process_temp_folder():
    offenders = sorted(
        f"{name}:{node.lineno}"
        for name, tree in modules().items()
        for node in ast.walk(tree)
        if _rebinds_temp(node)
    )
    assert offenders == []


def test_the_check_itself_finds_a_rebinding():
    tree = ast.parse("import tempfile, os\ntempfile.tempdir = '/x'\nos.environ['TMPDIR'] = '/y'\n")
    assert sum(_rebinds_temp(n) for n in ast.walk(tree)) == 2


def _workbook() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["purchase_id", "purchased_at", "customer_id", "department", "amount"])
    sheet.append(["x1", "2025-03-03T10:00:00", "c9", "North", 4.0])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_uploads_go_to_the_scratch_folder_given_and_leave_tempfile_alone(
    fixture_db, monkeypatch: pytest.MonkeyPatch
):
    given = connection.upload_root(fixture_db) / "given"
    before = tempfile.tempdir
    seen: list[tuple[str, Path, Path, object]] = []
    real_prepare, real_ingest = ingest.prepare_file, ingest.ingest_file

    def prepare(path, *, scratch, **kwargs):
        seen.append(("prepare", Path(path), scratch, tempfile.tempdir))
        return real_prepare(path, scratch=scratch, **kwargs)

    def load(con, ready, *, scratch, **kwargs):
        seen.append(("ingest", ready.sheet or ready.path, scratch, tempfile.tempdir))
        return real_ingest(con, ready, scratch=scratch, **kwargs)

    monkeypatch.setattr(ingest, "prepare_file", prepare)
    monkeypatch.setattr(ingest, "ingest_file", load)
    data.clear_caches()
    csv = b"purchase_id,purchased_at,customer_id,department,amount\nx2,2025-04-04T10:00:00,c9,North,6\n"
    results = writes.ingest_uploads(
        [data.Upload("book.xlsx", _workbook()), data.Upload("more.csv", csv)],
        encoding="utf-8", date_format="ISO", scratch_root=given,
    )
    assert [r.accepted for r in results] == [True, True], [r.message for r in results]
    assert [s[0] for s in seen] == ["prepare", "prepare", "ingest", "ingest"]
    folder = seen[0][2]
    assert folder.parent == given  # one private folder under the root given, for every step
    assert all(s[2] == folder for s in seen)
    assert all(s[1].is_relative_to(folder) for s in seen)  # the bytes and the sheet's CSV
    assert all(s[3] == before for s in seen) and tempfile.tempdir == before
    assert not folder.exists()  # removed when the upload ended
    con = store.connect(fixture_db, read_only=True)
    try:
        loaded = con.execute(
            "SELECT strftime(month, '%Y-%m'), sum(amount) FROM purchases"
            " WHERE month >= DATE '2025-03-01' GROUP BY ALL ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    # each file replaced its own slice: the workbook's March, the CSV's April
    assert [(m, float(v)) for m, v in loaded] == [("2025-03", 4.0), ("2025-04", 6.0)]


# --- docstring examples --------------------------------------------------------------------


@pytest.mark.parametrize("module", [cache, connection, loaders, writes, data])
def test_the_docstring_examples_hold(module):
    result = doctest.testmod(module)
    assert result.failed == 0, module.__name__
