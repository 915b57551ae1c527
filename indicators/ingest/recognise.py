"""Recognising the dataset a file holds from its header (SPEC §1: the dataset whose required
columns are all present, exactly one).
"""

from __future__ import annotations

from indicators.ingest.problems import Problem, Rejected, reject_one
from indicators.ingest.source import Source
from indicators.schema import (
    DATASETS,
    Dataset,
    closest,
    normalise_header,
)

# --- recognising the header --------------------------------------------------------------


def recognise(source: Source) -> tuple[Dataset, dict[str, int], list[str]]:
    """The dataset, each contract column's position in the file, and the ignored columns."""
    name = source.name
    names = [normalise_header(h) for h in source.header]
    if not any(names):
        raise reject_one(name, "file is empty")
    seen: dict[str, int] = {}
    problems = []
    for i, col in enumerate(names):
        if col and col in seen:
            problems.append(
                Problem(
                    name,
                    1,
                    col,
                    source.header[i],
                    f"duplicate column name (columns {seen[col] + 1} and {i + 1})",
                )
            )
        seen.setdefault(col, i)
    if problems:
        raise Rejected(problems)
    matches = [d for d in DATASETS.values() if set(d.required) <= set(names)]
    if len(matches) > 1:
        raise reject_one(
            name,
            "the columns fit several datasets ("
            + ", ".join(d.name for d in matches)
            + "); upload one dataset per file",
            row=1,
        )
    if not matches:
        best, missing = closest(names)
        raise Rejected(
            [
                Problem(
                    name,
                    1,
                    col,
                    None,
                    f"unknown file shape: closest dataset is {best.name}, which requires "
                    f"this column (missing: {', '.join(missing)})",
                )
                for col in missing
            ]
        )
    dataset = matches[0]
    positions = {c: seen[c] for c in dataset.column_names if c in seen}
    ignored = [
        source.header[i].strip() or f"(column {i + 1} without a name)"
        for i, col in enumerate(names)
        if col not in positions
    ]
    return dataset, positions, ignored
