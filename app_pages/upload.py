"""Upload: analysts load the month's files; each is validated whole, accepted or rejected."""

import pandas as pd
import streamlit as st

from dashboard import data, months_panel, undo_panel, uploads, widgets
from dashboard.format import md_text
from indicators.ingest import DATE_FORMATS, ENCODINGS, MAX_UPLOAD_BYTES
from indicators.schema import DATASETS

st.title("Upload data")
widgets.freshness_line()
st.markdown(
    "Drop one or more CSV, Excel or Parquet files. The dataset is recognised from the columns. "
    "A file replaces the stored rows for exactly the months and departments it contains; a "
    "file with any problem is rejected whole and changes nothing."
)
with st.expander("Which columns each dataset needs"):
    st.dataframe(
        pd.DataFrame(
            {
                "dataset": list(DATASETS),
                "required columns": [", ".join(d.required) for d in DATASETS.values()],
                "optional columns": [
                    ", ".join(c.name for c in d.columns if not c.required)
                    for d in DATASETS.values()
                ],
            }
        ),
        hide_index=True,
    )

options = st.columns(2)
encoding = options[0].selectbox(
    "Text encoding (CSV)", ENCODINGS, help="UTF-8 with or without BOM; older exports may be cp1251 or latin-1."
)
date_format = options[1].selectbox(
    "Date format", list(DATE_FORMATS), help="ISO dates (2025-03-07) are always accepted."
)
max_mb = MAX_UPLOAD_BYTES // (1024 * 1024)
files = st.file_uploader(
    f"Files (CSV, XLSX or Parquet, up to {max_mb} MB each)",
    type=["csv", "xlsx", "parquet"],
    accept_multiple_files=True,
    max_upload_size=max_mb,
    key="upload_files",
)

if st.button("Validate and load", type="primary", disabled=not files):
    bar = st.progress(0.0, text="Starting…")

    def report(done: int, name: str) -> None:
        text = f"Loading {name} ({done + 1} of {len(files)})…" if name else "Done."
        bar.progress(done / len(files), text=text)

    try:
        st.session_state["upload_results"] = data.ingest_uploads(
            [data.Upload(f.name, f.getvalue()) for f in files],
            encoding=encoding,
            date_format=date_format,
            progress=report,
        )
    except data.DatabaseUnavailable as exc:
        st.error(str(exc))

for result in st.session_state.get("upload_results", []):
    with st.container(border=True):
        if result.accepted:
            st.success(
                f"**{md_text(result.file_name)}** accepted as *{result.dataset}*: "
                f"{result.rows:,} rows; {len(result.slices)} slice(s) replaced:",
                icon=":material/check_circle:",
            )
            st.dataframe(
                pd.DataFrame(result.slices, columns=list(DATASETS[result.dataset].slice_key)),
                hide_index=True,
            )
            for warning in result.warnings:
                st.warning(md_text(warning), icon=":material/warning:")
        else:
            st.error(
                f"**{md_text(result.file_name)}** rejected — {md_text(result.message)}",
                icon=":material/error:",
            )
            # Per (column, rule): the count over the whole file, then the rows listed.
            if lines := result.summary_lines():
                st.markdown("\n".join(f"- {md_text(line)}" for line in lines))
            widgets.table(result.problems_frame(), f"problems-{result.file_name}")
        if result.ignored_columns:
            st.caption("Ignored columns: " + md_text(", ".join(result.ignored_columns)))

st.subheader("Upload log")
status = data.state()
if status.error:
    widgets.unavailable(status.error, busy=status.busy)
elif status.exists:
    log = uploads.log_table(data.upload_log())
    widgets.table(
        log.assign(**{"Slices replaced": log["Slices replaced"].map(uploads.slices_summary)}),
        "upload-log",
        export_frame=log,
        column_config={
            "Outcome": st.column_config.TextColumn(width="medium"),
            "Warnings": st.column_config.TextColumn(width="large"),
            "Details": st.column_config.TextColumn(width="large"),
        },
    )
    undo_panel.panel()
else:
    st.caption("No uploads yet.")

if status.exists:
    with st.expander("Database status"):
        widgets.database_status()

months_panel.panel()
