"""The few writes the app makes: uploads, targets, settings, undo, complete-month marks.

Each checks the role here (:func:`dashboard.auth.require_editor`), whatever the pages draw, and
writes through :func:`dashboard.connection.write` (one write of the app at a time, refused with
"try again" while another process holds the file, caches cleared after).

Uploaded files are written to a scratch folder that is *passed* to loading (``scratch=`` of
:func:`indicators.ingest.prepare_file` and :func:`indicators.ingest.ingest_file`): by default a
private folder under :func:`dashboard.connection.upload_root`, the one folder the app's
sandboxed connections may read.  Nothing here changes a process-wide setting such as
``tempfile.tempdir``, which every thread of the server shares.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from dashboard import auth
from dashboard.connection import DatabaseUnavailable, db_path, upload_root, write
from dashboard.format import md_text
from indicators import store, undo

if TYPE_CHECKING:
    from indicators.ingest import IngestResult


@dataclass(frozen=True)
class Upload:
    """One file the user handed to the upload page."""

    name: str
    data: bytes


def ingest_uploads(
    uploads: Sequence[Upload],
    *,
    encoding: str,
    date_format: str,
    progress: Callable[[int, str], None] | None = None,
    scratch_root: Path | None = None,
) -> list[IngestResult]:
    """Validate and load each file in turn; one :class:`indicators.ingest.IngestResult` each.

    Analysts only (:class:`dashboard.auth.Forbidden` otherwise); the upload log records the
    signed-in user's email, or ``local`` when sign-in is off.

    Each file is written to a private scratch folder under ``scratch_root`` (default
    :func:`dashboard.connection.upload_root` of the database; a folder elsewhere is one the
    sandboxed connection cannot read) — its bytes only; the browser-supplied name is passed as
    ``file_name`` for the report and the log, never used as a path — and checked, a workbook
    converted to CSV in the same folder, before the database is opened; then each is handed to
    ``ingest_file`` with that folder as its scratch, which loads an accepted file in its own
    transaction and rejects a bad one whole.  The folder goes when the block ends (a killed
    server's, at the next upload: :func:`indicators.ingest.scratch_folder`).
    """
    user = auth.require_editor().user
    root = upload_root(db_path()) if scratch_root is None else scratch_root
    try:
        return _ingest_uploads(uploads, encoding, date_format, progress, user, root)
    except (OSError, duckdb.Error) as exc:
        if not store.is_disk_full(exc):
            raise
        what = "the file in progress was not loaded (earlier files of this upload are in the log)"
        raise DatabaseUnavailable(md_text(store.disk_full_message(db_path(), what=what))) from None


def _ingest_uploads(
    uploads: Sequence[Upload],
    encoding: str,
    date_format: str,
    progress: Callable[[int, str], None] | None,
    user: str,
    root: Path,
) -> list[IngestResult]:
    from indicators.ingest import ingest_file, prepare_file, scratch_folder

    results: list[IngestResult] = []
    with scratch_folder(root) as tmp:
        prepared = []
        for i, upload in enumerate(uploads):
            if progress is not None:
                progress(i, upload.name)
            target = tmp / f"upload-{i}{Path(upload.name).suffix.lower()[:8]}"
            target.write_bytes(upload.data)
            prepared.append(prepare_file(target, scratch=tmp, file_name=upload.name))
        with write() as con:
            for i, ready in enumerate(prepared):
                if progress is not None:
                    progress(i, ready.name)
                results.append(
                    ingest_file(
                        con, ready, encoding=encoding, date_format=date_format, user=user,
                        scratch=tmp,
                    )
                )
        if progress is not None:
            progress(len(uploads), "")
    return results


def save_targets(frame: pd.DataFrame) -> IngestResult:
    """Replace every stored target by ``frame`` (validated whole; nothing changes if rejected).

    Analysts only; the upload log records who saved.
    """
    from indicators.ingest import ingest_frame

    user = auth.require_editor().user
    with write() as con:
        return ingest_frame(con, frame, file_name="targets editor", user=user, replace_all=True)


def undo_upload(load_id: int) -> undo.UndoResult:
    """Undo accepted upload ``load_id``: its replaced rows back, in one transaction, logged.

    Analysts only (:class:`dashboard.auth.Forbidden` otherwise); the log records who undid.
    :class:`indicators.undo.UndoRefused` (nothing changed) names the upload and why not.
    """
    user = auth.require_editor().user
    try:
        with write() as con:
            return undo.undo_load(con, load_id, user=user)
    except (OSError, duckdb.Error) as exc:
        if not store.is_disk_full(exc):
            raise
        raise DatabaseUnavailable(
            md_text(store.disk_full_message(db_path(), what="nothing was undone"))
        ) from None


def save_setting(
    key: str, value: str | float, *, department: str = store.ANY_DEPARTMENT
) -> str | None:
    """Validate and store one setting; :class:`indicators.store.SettingError` if refused.

    Returns what else the write did, in words (a new time zone: months recomputed, undo history
    cleared), or None.  Analysts only (:class:`dashboard.auth.Forbidden` otherwise).
    """
    auth.require_editor()
    with write() as con:
        return store.write_setting(con, key, value, department=department)


def save_settings(values: Mapping[str, str | float]) -> None:
    """Validate and store several organisation-wide settings in one transaction: all or none.

    :class:`indicators.store.SettingError` (nothing stored) names the first refused value.
    Analysts only (:class:`dashboard.auth.Forbidden` otherwise).
    """
    auth.require_editor()
    with write() as con:
        con.begin()
        try:
            for key, value in values.items():
                store.write_setting(con, key, value)
        except BaseException:
            con.rollback()
            raise
        con.commit()


def mark_month_complete(month: str, department: str, complete: bool) -> None:
    """Mark ``month`` complete by hand for ``department`` (``*`` or All: every department), or
    remove the mark; :class:`indicators.completeness.MarkError` (nothing written) for an
    unknown month or department.  Analysts only (:class:`dashboard.auth.Forbidden` otherwise).
    """
    from indicators.completeness import mark_complete

    user = auth.require_editor().user
    with write() as con:
        mark_complete(con, month, department, complete=complete, user=user)


def clear_expected_datasets(department: str) -> None:
    """Remove ``department``'s ``expected_datasets`` setting (``*``: the default), so the
    datasets it delivered before (or the default) are expected again.  Analysts only."""
    auth.require_editor()
    with write() as con:
        store.delete_setting(con, "expected_datasets", department=department)


def _access() -> tuple[str, tuple[str, ...] | None, str]:
    who = auth.current()
    return who.role, who.departments, who.user


def add_checkin(*, indicator: str, department: str, month: str, status: str, note: str) -> int:
    """Store a check-in on a target; the role rule is :func:`indicators.checkins.
    may_write_checkin` (analysts; team leads for their departments; a target's owner), checked
    where it is written.  :class:`indicators.checkins.CheckinError` (nothing written) names a
    bad field; :class:`indicators.checkins.CheckinForbidden` a refused user."""
    from indicators import checkins

    role, departments, user = _access()
    with write() as con:
        return checkins.add_checkin(con, indicator=indicator, department=department, month=month,
                                    status=status, note=note, author=user,
                                    access=(role, departments, user))


def add_note(*, month: str, note: str, indicator: str | None, department: str) -> int:
    """Store a note on an event (``indicator`` None: every indicator; ``department`` ``*``:
    every department); analysts, and team leads for their own departments."""
    from indicators import checkins

    role, departments, user = _access()
    with write() as con:
        return checkins.add_note(con, month=month, note=note, indicator=indicator,
                                 department=department, author=user,
                                 access=(role, departments, user))
