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
    monkeypatch.setattr(docs, "DATASETS_PATH", tmp_path / "datasets.md")
    assert docs.main([]) == 0 and docs.main(["--check"]) == 0


def test_committed_dataset_docs_match_the_contracts() -> None:
    committed = docs.DATASETS_PATH.read_text(encoding="utf-8")
    assert committed == docs.render_datasets(), "run `python -m indicators.docs` and commit"


def test_dataset_docs_list_every_column_with_its_rules() -> None:
    from indicators.schema import DATASETS

    text = docs.render_datasets()
    for dataset in DATASETS.values():
        assert f"## `{dataset.name}`" in text
        for column in dataset.columns:
            assert f"| `{column.name}` | {'yes' if column.required else 'optional'} |" in text
    assert "| `score` | yes | whole number; 1–5 when kind is csat, 0–10 when kind is nps, 1–7 when kind is ces |" in text
    assert "| `list_amount` | optional | money (up to 4 decimal places); ≥ amount; may be empty |" in text
