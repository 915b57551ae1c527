"""A full disk during an app upload: a clear message naming the disk, not a traceback."""

from __future__ import annotations

import errno

import pytest

from dashboard import auth, data
from indicators import ingest


@pytest.mark.parametrize("fault", ["python", "duckdb"])
def test_a_full_disk_during_an_upload_says_so(tmp_path, monkeypatch, fault):
    db = tmp_path / "service.duckdb"
    monkeypatch.setenv("SERVICE_DB", str(db))
    monkeypatch.setattr(auth, "require_editor", lambda: auth.Access(user="local", role="analyst"))

    def full(*_args, **_kwargs):
        if fault == "python":
            raise OSError(errno.ENOSPC, "No space left on device")
        import duckdb

        raise duckdb.IOException("Could not write file: No space left on device")

    monkeypatch.setattr(ingest, "ingest_file", full)
    upload = data.Upload("march.csv", b"purchase_id,customer_id\n")
    with pytest.raises(data.DatabaseUnavailable) as caught:
        data.ingest_uploads([upload], encoding="utf-8", date_format="ISO")
    message = str(caught.value)
    assert message.startswith("no space left on the disk holding"), message
    assert "the file in progress was not loaded" in message
