"""The engine of the service strategy dashboard: files → store → facts → indicators → route.

No Streamlit here, and nothing opens a database at import time: ``import indicators`` loads
this docstring only, and each module is imported by name when it is used.

Naming and units
================
These hold for every module of the package, its tables, its command line and its docs.

* An **indicator id** is the catalog's snake-case name of one indicator (``csat``,
  ``complaint_rate``, ``response_time_median``); :data:`indicators.catalog.INDICATORS` lists
  them with their label, family, unit, direction and formula, and nothing else names one.
* A **month** is text ``YYYY-MM`` (``2025-06``); in the database it is a ``DATE``, the first
  day of the month.  :mod:`indicators.months` parses, shifts and counts them.
* A **department** is the name stored in the data; ``All`` (:data:`catalog.ALL_DEPARTMENTS`)
  is every department together, computed from the rows, never averaged from departments.
* The **indicator long table** has exactly these columns, in this order:

  ==============  ===========  ========================================================
  column          dtype        meaning
  ==============  ===========  ========================================================
  ``month``       ``str``      ``YYYY-MM``
  ``department``  ``str``      a department, or ``All``
  ``indicator``   ``str``      an indicator id
  ``value``       ``float64``  the value in the indicator's unit; **NaN = missing**
  ==============  ===========  ========================================================

  sorted by month, then ``All`` first and departments by name, then catalog order.  A
  missing value (a ratio over no rows) is NaN, never 0; a count over no rows is 0.
* **Units** (the catalog's ``unit``, :data:`indicators.units.UNITS`):

  - ``%`` — percent values: ``12.5`` is 12.5 % (a change is in points, ``pp``);
  - ``per 100`` — per 100 purchases; ``points`` — a score (NPS, −100 to 100);
  - ``count`` — a whole number of things;
  - ``money`` — in the data's own currency (stored ``DECIMAL``; the currency is a setting
    and is only ever written beside a value, never converted);
  - ``minutes`` / ``hours`` — elapsed time between two stored instants (UTC), in that unit.

  Values keep every digit in tables, the JSON of ``--exact`` and exports; text for people is
  rounded by :mod:`indicators.units` (one :class:`~indicators.units.Unit` per unit, and
  :func:`~indicators.units.is_missing`, the one test for a missing value).

Public API
==========
===================================  ===========================================================
module                               what a user imports from it
===================================  ===========================================================
:mod:`indicators.stored_indicators`  ``read(con, scope, *, indicators=None)``: the long table,
                                     the one way pages, exports and commands read indicators
:mod:`indicators.scope`              ``Scope(months=(first, last), departments=(...))``: what a
                                     read or a computation covers
:mod:`indicators.catalog`            ``INDICATORS``, ``get(id)``, ``by_family``, ``bounds``,
                                     ``clamp``: every indicator's definition
:mod:`indicators.compute`            the engine: facts → the long table (``indicator_table``),
                                     the complaint mix, the promise summary
:mod:`indicators.facts`              the monthly facts, reduced in DuckDB
:mod:`indicators.months`             ``parse``, ``label``, ``shift``, ``span`` (``range``),
                                     ``cover``, ``between``, ``months_between``
:mod:`indicators.units`              ``Unit``, ``UNITS``, ``unit_of``, ``number_text``,
                                     ``change_text``, ``is_missing``, ``Currency``
:mod:`indicators.route`              ``route_table``, ``route_summary``: targets → the route
:mod:`indicators.forecast`           ``project``: the forecast with its 80 % band and the
                                     probability of a target
:mod:`indicators.checkins`           target check-ins and notes on events: rules, rights,
                                     stored rows
:mod:`indicators.explain`            what moved an indicator: its change split by
                                     department or component, mix and rate effects
:mod:`indicators.records`            ``records(con, *, indicator, month, ...)``: the stored
                                     rows behind a value, paged and sorted
:mod:`indicators.completeness`       which months are complete, per department
:mod:`indicators.charts`             ``make_*_figure(...)``: Plotly figures (pure)
:mod:`indicators.store`              ``connect``, ``init_db``, settings, targets, the upload log
:mod:`indicators.ingest`             ``ingest_file``, ``ingest_frame``: validating and loading
                                     files
:mod:`indicators.schema`             the dataset contracts (columns, types, rules)
:mod:`indicators.undo`               undoing an accepted upload
:mod:`indicators.report`             the ``report``, ``route`` and ``complete`` commands
:mod:`indicators.export`             CSV that a spreadsheet cannot turn into a formula
:mod:`indicators.demo`               the bundled demo dataset
``python -m indicators``             the command line: ``ingest``, ``demo``, ``report``,
                                     ``route``, ``rebuild``, ``check``, ``complete``, ``undo``,
                                     ``checkin``, ``note``, ``explain``, ``records``
===================================  ===========================================================

Examples
--------
>>> from indicators import catalog, months, units
>>> months.shift("2025-12", 1), units.unit_of("csat").text(74.94), catalog.get("csat").unit
('2026-01', '74.9 %', '%')
"""
