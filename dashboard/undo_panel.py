"""The upload page's undo: choose an accepted upload, confirm, undo it (analysts only).

The choice lists :func:`dashboard.data.undoable_uploads` (newest first); *Undo this upload* asks
for a confirmation that says what the undo will do, and only *Yes, undo it* calls
:func:`dashboard.data.undo_upload`.  The result is shown after a rerun, so the log above it
already holds the undo's entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from dashboard import data, uploads
from dashboard.format import md_text
from indicators.undo import UNDO_KEEP_LOADS, UndoRefused


def panel() -> None:
    """The undo section under the upload log."""
    st.markdown("**Undo an upload**")
    st.caption(
        "Puts back exactly the rows an accepted upload replaced and removes the rows it loaded, "
        f"in one step, logged as its own entry. The last {UNDO_KEEP_LOADS} accepted uploads can "
        "be undone; where uploads replaced the same month and department, undo the newest first."
    )
    if done := st.session_state.pop("undo_done", None):
        st.success(md_text(done), icon=":material/undo:")
    undoable = {int(r["id"]): r for r in data.undoable_uploads().to_dict("records")}
    if not undoable:
        st.caption("No upload can be undone now.")
        return
    chosen = st.selectbox(
        "Upload to undo", list(undoable), key="undo_choice",
        format_func=lambda i: uploads.undo_label(undoable[i]),
    )
    if st.button("Undo this upload", icon=":material/undo:", key="undo_ask"):
        st.session_state["undo_asked"] = chosen
    if st.session_state.get("undo_asked") == chosen:
        _confirm(chosen, undoable[chosen])


def _confirm(load_id: int, row: Mapping[str, Any]) -> None:
    """Say what the undo will do; undo only on *Yes* (the result shows after the rerun)."""
    st.warning(
        f"Undo upload #{load_id} (**{md_text(row['file_name'])}**, {row['dataset']})? "
        + uploads.undo_effect(row),
        icon=":material/warning:",
    )
    buttons = st.container(horizontal=True)
    if buttons.button("Yes, undo it", type="primary", key="undo_yes"):
        try:
            result = data.undo_upload(load_id)
        except UndoRefused as exc:
            st.error(md_text(exc), icon=":material/error:")
        except data.DatabaseUnavailable as exc:
            st.error(str(exc))
        else:
            del st.session_state["undo_asked"]
            st.session_state["undo_done"] = f"{result.message} (logged as #{result.load_id})."
            st.rerun()
    if buttons.button("Cancel", key="undo_no"):
        del st.session_state["undo_asked"]
        st.rerun()
