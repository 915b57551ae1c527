"""The Streamlit glue: cached loaders, the shared filters and widgets, the family page.

Pages import from here; this package imports :mod:`indicators`; never the other way round.
:mod:`dashboard.format` and :mod:`dashboard.scorecard` are pure (no Streamlit) so the numbers a
page shows can be tested without a browser.
"""
