"""The engine never imports the UI, and nothing opens the database at import time."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_indicators_never_import_streamlit():
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "indicators").rglob("*.py")
        if "streamlit" in _imports(p)
    ]
    assert offenders == []


def test_importing_the_engine_loads_no_streamlit_and_opens_no_database(tmp_path):
    code = (
        "import sys, indicators.catalog, indicators.schema, indicators.store;"
        "assert 'streamlit' not in sys.modules;"
        "import os; assert not os.path.exists('data/service.duckdb')"
    )
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True,
                   env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_no_page_script_holds_a_bare_string_that_magic_would_draw():
    """Streamlit's magic writes a page script's bare expressions on the page: a string after a
    constant (an attribute docstring) would appear as text above the title."""
    drawn = []
    for path in [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py"))]:
        body = ast.parse(path.read_text(encoding="utf-8")).body
        for node in body[1:] if ast.get_docstring(ast.Module(body=body, type_ignores=[])) else body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                drawn.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert drawn == []
