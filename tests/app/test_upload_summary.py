"""AppTest: the upload page shows a rejected file's summary — one line per rule with its count
and first rows — above the table of problems, and offers the 12-hour date formats."""

from __future__ import annotations

from dashboard.format import md_text

UPLOAD = "app_pages/upload.py"
HEADER = b"purchase_id,purchased_at,customer_id,department,amount\n"


def _two_kinds() -> bytes:
    """File rows 2…21: amounts -5 at rows 4, 9, 15, 20; customer ids empty at rows 6 and 11."""
    lines = []
    for row in range(2, 22):
        amount = "-5" if row in (4, 9, 15, 20) else "10"
        customer = "" if row in (6, 11) else f"c{row}"
        lines.append(f"p{row},2025-03-01,{customer},North,{amount}\n")
    return HEADER + "".join(lines).encode()


def test_a_rejected_file_shows_its_summary_above_the_problems(fixture_db, app):
    app.run()
    app.switch_page(UPLOAD).run()
    app.file_uploader(key="upload_files").upload("two.csv", _two_kinds(), "text/csv")
    app.run()
    next(b for b in app.button if b.label == "Validate and load").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert [e.value for e in app.error] == [
        f"**{md_text('two.csv')}** rejected — "
        f"{md_text('6 problems in 2 rules; nothing was stored')}"
    ]
    summary = "\n".join(
        f"- {md_text(line)}"
        for line in (
            "amount: must be ≥ 0 — 4 rows, first 4, 9, 15",
            "customer_id: required value is empty — 2 rows: 6, 11",
        )
    )
    assert summary in [m.value for m in app.markdown]
    problems = next(df.value for df in app.dataframe if "rule" in df.value.columns)
    assert problems["row"].tolist() == [4, 6, 9, 11, 15, 20]


def test_the_date_format_choice_offers_the_12_hour_formats(fixture_db, app):
    app.run()
    app.switch_page(UPLOAD).run()
    choice = next(s for s in app.selectbox if s.label == "Date format")
    assert choice.options == [
        "ISO", "DD.MM.YYYY", "DD/MM/YYYY", "M/D/YYYY", "M/D/YYYY h:mm AM/PM",
        "DD/MM/YYYY h:mm AM/PM",
    ]
