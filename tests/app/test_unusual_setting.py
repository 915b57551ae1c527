"""The unusual-value threshold on the settings page (issue 19, part 3): saved as typed, a
refused value keeps the stored one."""

from __future__ import annotations

from indicators import store


def _threshold(db) -> float:
    con = store.connect(db, read_only=True)
    try:
        return store.read_settings(con).unusual_threshold
    finally:
        con.close()


def test_the_threshold_is_set_on_the_settings_page(fixture_db, app):
    app.run()
    app.switch_page("app_pages/targets.py").run()
    assert app.number_input(key="unusual_threshold").value == store.DEFAULT_UNUSUAL_THRESHOLD
    app.number_input(key="unusual_threshold").set_value(3.5)
    next(b for b in app.button if b.label == "Save unusual threshold").click().run()
    assert not app.exception
    assert _threshold(fixture_db) == 3.5


def test_a_threshold_of_zero_is_refused_and_the_stored_one_kept(fixture_db, app):
    app.run()
    app.switch_page("app_pages/targets.py").run()
    app.number_input(key="unusual_threshold").set_value(0.0)
    next(b for b in app.button if b.label == "Save unusual threshold").click().run()
    assert not app.exception
    assert any(e.value.startswith("Not saved") and "positive number" in e.value
               for e in app.error)
    assert _threshold(fixture_db) == store.DEFAULT_UNUSUAL_THRESHOLD
