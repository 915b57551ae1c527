"""AppTest: the service chain page (issue 19, part 5) draws every node on the demo, each the
scorecard's own card, the links in words, and says the links are an argument, not a model.

Figures checked against the stored rows directly: the month's complaints counted in SQL, the
estimated dissatisfied customers that count times the iceberg factor (2 in the demo, a new
database: complaints counted at the front line).
"""

from __future__ import annotations

import pytest

from dashboard import chain
from dashboard.format import WORD_JOINER
from indicators import catalog, store
from tests.app.test_status_strip import demo_db, demo_env  # noqa: F401

PAGE = "app_pages/chain.py"


def plain(text: str) -> str:
    return text.replace(WORD_JOINER, "").replace(",", "")


@pytest.mark.usefixtures("demo_env")
def test_every_node_of_the_chain_is_drawn_on_the_demo(app, demo_db):  # noqa: F811
    app.query_params["month"] = "2025-12"
    app.run()
    at = app.switch_page(PAGE).run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert labels == [catalog.get(node).label for node in chain.every_node()]
    assert len(labels) == 9
    values = {m.label: plain(m.value) for m in at.metric}
    con = store.connect(demo_db, read_only=True)
    try:
        (complaints,) = con.execute(
            "SELECT count(*) FROM complaints WHERE month = DATE '2025-12-01'").fetchone()
    finally:
        con.close()
    assert values["Complaints"] == str(complaints)
    assert values["Estimated dissatisfied customers"] == str(complaints * 2)
    text = " ".join(c.value for c in at.caption)
    assert chain.NOT_A_MODEL in text
    assert "complains at the front line, about 2 are dissatisfied" in text
    # every node reaches what moved it
    links = [link.proto.query_string for link in at.get("page_link")
             if link.proto.page.endswith("explain")]
    assert links == [f"indicator={node}" for node in chain.every_node()]
