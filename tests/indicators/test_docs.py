"""docs/indicators.md is generated from the catalog; the committed file must be up to date."""

from __future__ import annotations

from indicators import docs
from indicators.catalog import INDICATORS


def test_committed_indicator_docs_match_the_catalog() -> None:
    committed = docs.DOCS_PATH.read_text(encoding="utf-8")
    assert committed == docs.render(), "run `python -m indicators.docs` and commit the result"


def test_docs_name_every_indicator_with_its_unit_and_direction() -> None:
    text = docs.render()
    for ind in INDICATORS:
        row = next(line for line in text.splitlines() if line.startswith(f"| `{ind.id}` |"))
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert cells[1] == ind.label and cells[3] == ind.unit and cells[4] == ind.direction
        assert all(f"`{s}`" in cells[5] for s in ind.sources)


def test_check_mode_reports_a_stale_file(tmp_path, monkeypatch) -> None:
    stale = tmp_path / "indicators.md"
    stale.write_text("old\n", encoding="utf-8")
    monkeypatch.setattr(docs, "DOCS_PATH", stale)
    assert docs.main(["--check"]) == 1
    assert docs.main([]) == 0 and docs.main(["--check"]) == 0
