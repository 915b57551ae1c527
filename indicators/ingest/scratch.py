"""Temporary folders for one run's copies, removed on every way out (also after SIGKILL, by
the next run), and SIGTERM turned into an orderly exit.
"""

from __future__ import annotations

import fcntl
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from indicators import store

# --- scratch folders: temporary files removed on every way out ----------------------------

SCRATCH_STALE_SECONDS: float = 60.0
"""A scratch folder this old whose owner is gone is removed by the next run."""


def scratch_root(database: str | Path) -> Path:
    """Where loads into ``database`` keep temporary files: ``uploads`` next to the file (the
    folder the app's sandboxed connections may read)."""
    return Path(database).absolute().parent / "uploads"


@contextmanager
def scratch_folder(root: Path) -> Iterator[Path]:
    """A private folder under ``root`` for one run's temporary files, removed when it ends.

    An exception, Ctrl-C and (in :func:`run_cli`) SIGTERM unwind through here, so the folder
    goes.  A process killed outright (SIGKILL, power cut) cannot clean up: its owner holds an
    exclusive ``flock`` on the folder's ``.lock`` for as long as it runs, the kernel drops it
    when the process dies, and every new run first removes the unlocked folders of such runs.
    """
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    _remove_stale(root)
    folder = Path(tempfile.mkdtemp(prefix="scratch-", dir=root))
    lock = (folder / ".lock").open("wb")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        lock.close()


def _remove_stale(root: Path) -> None:
    """Remove the scratch folders under ``root`` of runs that ended without cleaning up.

    A folder younger than :data:`SCRATCH_STALE_SECONDS` is left alone: its owner may not
    have taken its lock yet.
    """
    for folder in root.glob("scratch-*"):
        try:
            if time.time() - folder.stat().st_mtime < SCRATCH_STALE_SECONDS:
                continue
            with (folder / ".lock").open("rb") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(folder, ignore_errors=True)
        except (BlockingIOError, FileNotFoundError, NotADirectoryError):
            continue  # alive, gone already, or never locked (killed before its lock)


@contextmanager
def temporary(scratch: Path | None) -> Iterator[Path]:
    """A temporary folder inside ``scratch`` (else Python's temp folder), removed after."""
    with tempfile.TemporaryDirectory(prefix="ingest-", dir=scratch) as tmp:
        yield Path(tmp)


@contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """In this block SIGTERM raises ``SystemExit(143)``, so cleanup runs before the process
    ends: ``with`` blocks remove temporary files and a load's transaction rolls back (DuckDB
    checks for signals while a statement runs).  Only the main thread can handle signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        store.print_to_stderr("error: stopped by SIGTERM; the file in progress was not stored")
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
