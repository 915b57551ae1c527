"""Reading, validating and loading analysts' files (SPEC §1), in stages — one module each:

=====================  =====================================================================
``reading``            a file's kind (CSV, Excel, Parquet) and size, checked before the
                       database is opened; :func:`prepare_file`, the source it becomes
``read_csv``           CSV text: header, delimiter, encodings (transcoding), DuckDB's reader,
                       the records it must account for, file row numbers
``bytescan``           one NumPy pass over a CSV's bytes: control characters, records, long lines
``read_excel``         a workbook's only sheet, bounded, written as CSV
``read_parquet``       a Parquet file's typed columns, rendered as text
``source``             what every reader yields: a header and a relation of text columns
``recognise``          the dataset a header belongs to, and each contract column's position
``dates``              the date formats a user may name
``cells``              the typed value of a cell's text, in SQL
``rules``              the contract's row rules, one small builder each
``load``               the one transaction that replaces the file's slices and logs it
``warnings``           what loads but looks wrong: dates at the Unix epoch or far from the
                       file's other dates (:func:`row_warnings`, over the load's new rows)
``explain``            a file that is not clean, staged again and every problem found
``problems``           what is wrong with a file, and the report that says so
``pipeline``           :func:`ingest_file` and :func:`ingest_frame`: the stages in order
``scratch``            temporary folders removed on every way out
``cli``                ``python -m indicators ingest``
=====================  =====================================================================

A file is recognised by its header, validated whole and, only if every row passes, loaded in
one transaction that replaces exactly the slices it contains (``Dataset.slice_key``: month and
department for event datasets and retention, indicator and department for targets). Every
upload, accepted or rejected, leaves one row in ``upload_log``; a rejected one leaves nothing
else.

Row numbers are as in the file: the header is row 1 and a quoted multi-line record is one row.
Excel rows are sheet rows; Parquet and DataFrame rows count as if preceded by a header row.

Text rules (see :mod:`indicators.schema`): cells are trimmed and an empty cell is a missing
value; dates are ISO unless the user names one of :data:`DATE_FORMATS` (ISO is then still
accepted); nothing is parsed loosely (no day/month guessing, no ``4.0`` for an integer).
"""

from indicators.ingest.bytescan import MAX_LINE_BYTES
from indicators.ingest.cli import run_cli
from indicators.ingest.dates import DATE_FORMATS, DateFormat
from indicators.ingest.load import MAX_NEW_DEPARTMENTS
from indicators.ingest.pipeline import ingest_file, ingest_frame
from indicators.ingest.problems import MAX_PROBLEMS, IngestResult, Problem, format_result
from indicators.ingest.read_excel import XLSX_MAX_BYTES, XLSX_MAX_ROWS, XlsxLimits, xlsx_limits
from indicators.ingest.reading import (
    DELIMITERS,
    ENCODINGS,
    MAX_UPLOAD_BYTES,
    PreparedFile,
    prepare_file,
)
from indicators.ingest.rules import (
    EARLIEST_DATE,
    MAX_FUTURE_DAYS,
    MAX_TARGET_YEARS,
    latest_date,
    latest_target_month,
)
from indicators.ingest.scratch import SCRATCH_STALE_SECONDS, scratch_folder, scratch_root

__all__ = [
    "DATE_FORMATS",
    "DELIMITERS",
    "EARLIEST_DATE",
    "ENCODINGS",
    "MAX_FUTURE_DAYS",
    "MAX_LINE_BYTES",
    "MAX_NEW_DEPARTMENTS",
    "MAX_PROBLEMS",
    "MAX_TARGET_YEARS",
    "MAX_UPLOAD_BYTES",
    "SCRATCH_STALE_SECONDS",
    "XLSX_MAX_BYTES",
    "XLSX_MAX_ROWS",
    "DateFormat",
    "IngestResult",
    "PreparedFile",
    "Problem",
    "XlsxLimits",
    "format_result",
    "ingest_file",
    "ingest_frame",
    "latest_date",
    "latest_target_month",
    "prepare_file",
    "run_cli",
    "scratch_folder",
    "scratch_root",
    "xlsx_limits",
]
