"""Where an indicator is heading: a monthly forecast with an 80 % band, and the chance of a target.

Pure numpy/pandas, plus statsmodels (imported only when a series is long enough for it) and
scipy's distributions.  No database, no UI.

One of two methods, chosen by the history (:func:`project`):

* **seasonal** — with at least :data:`SEASONAL_MIN_MONTHS` consecutive months with data ending in
  the latest month, an exponential-smoothing state-space model with additive error, additive
  trend and additive 12-month seasonality (ETS(A,A,A), Holt-Winters' method with its likelihood:
  statsmodels' ``ETSModel``, initial states by its heuristic decomposition, smoothing parameters
  by maximum likelihood) over the last :data:`SEASONAL_MAX_MONTHS` of that run.  The band is
  the model's 80 % prediction interval; the forecast distribution is normal.
* **least squares** — otherwise, the least-squares line through the last
  :data:`LINE_WINDOW` months with data (at least :data:`LINE_MIN_POINTS`) as the route has always
  drawn it, with its prediction interval: at month index ``x₀``,
  ``se(x₀) = s × √(1 + 1/n + (x₀ − x̄)² ÷ Σ(x − x̄)²)`` with ``s² = Σ residual² ÷ (n − 2)``,
  the band ``mean ± t(0.9; n − 2) × se`` and the distribution Student's t with ``n − 2`` degrees
  of freedom.

Either way the mean and the band are clamped to the indicator's value bounds
(:func:`indicators.catalog.clamp`: a share stays within 0–100 %, NPS within ±100).  The
probability of a target (:meth:`Projection.probability`) is ``P(value ≥ target)`` for a
"higher is better" indicator and ``P(value ≤ target)`` for a "lower" one under that
distribution; with no spread at all (an exact line) it is 1 when the mean meets the target, else 0.

Examples
--------
>>> p = project("csat", pd.Series([50.0, 52.0, 54.0], index=["2025-01", "2025-02", "2025-03"]),
...             until="2025-06")
>>> p.method, p.mean_at("2025-06"), p.band_at("2025-06")
('least squares', 60.0, (60.0, 60.0))
>>> p.probability("2025-06", 60.0, "higher"), p.probability("2025-06", 61.0, "higher")
(1.0, 0.0)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from indicators import catalog, months

BAND = 0.8
"""The band's coverage: an 80 % prediction interval."""
SEASONAL_MIN_MONTHS = 24
"""At least this many consecutive months with data (two seasons) for the seasonal model."""
SEASONAL_MAX_MONTHS = 120
"""The seasonal model reads at most the last ten years."""
SEASON = 12
LINE_WINDOW = 6
"""The least-squares line goes through at most this many latest months with data."""
LINE_MIN_POINTS = 3
"""Fewer months with data than this: no forecast."""

SEASONAL = "seasonal"
LINE = "least squares"
METHODS: tuple[str, ...] = (SEASONAL, LINE)

_REL_SLACK = 1e-9


@dataclass(frozen=True)
class Projection:
    """The forecast from the latest month with data (``origin``) on, month by month.

    ``months[i]`` has the forecast ``mean[i]``, the band ``low[i]`` … ``high[i]`` (clamped) and
    the unclamped centre ``centre[i]`` and spread ``scale[i]`` of its distribution (normal for the
    seasonal model, Student's t with ``df`` degrees of freedom for the line).
    """

    indicator: str
    method: str
    origin: str
    months: tuple[str, ...]
    mean: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    centre: tuple[float, ...]
    scale: tuple[float, ...]
    df: float | None

    def _at(self, month: str) -> int | None:
        i = months.months_between(self.months[0], month) if self.months else -1
        return i if 0 <= i < len(self.months) else None

    def mean_at(self, month: str) -> float:
        """The forecast in ``month`` (NaN outside the projection)."""
        i = self._at(month)
        return math.nan if i is None else self.mean[i]

    def band_at(self, month: str) -> tuple[float, float]:
        """The 80 % band in ``month`` (NaNs outside the projection)."""
        i = self._at(month)
        return (math.nan, math.nan) if i is None else (self.low[i], self.high[i])

    def probability(self, month: str, target: float, direction: str) -> float:
        """The chance that the value in ``month`` is at or better than ``target``."""
        i = self._at(month)
        if i is None:
            return math.nan
        sign = 1 if direction == "higher" else -1
        gap = sign * (self.centre[i] - target)
        if self.scale[i] == 0:
            return 1.0 if gap >= -_REL_SLACK * max(1.0, abs(target)) else 0.0
        z = gap / self.scale[i]
        return float(_cdf(z, self.df))

    def first_met(self, target: float, direction: str) -> str | None:
        """The first month whose forecast meets ``target`` (at or better, within the slack)."""
        sign = 1 if direction == "higher" else -1
        for month, value in zip(self.months, self.mean, strict=True):
            if sign * (value - target) >= -_REL_SLACK * max(1.0, abs(value), abs(target)):
                return month
        return None


def _cdf(z: float, df: float | None) -> float:
    from scipy import stats

    return stats.norm.cdf(z) if df is None else stats.t.cdf(z, df)


def _quantile(df: float | None) -> float:
    from scipy import stats

    upper = 1 - (1 - BAND) / 2
    return float(stats.norm.ppf(upper) if df is None else stats.t.ppf(upper, df))


def consecutive_run(series: pd.Series) -> pd.Series:
    """The values of the longest stretch of consecutive months ending in the latest month."""
    labels = list(series.index)
    start = len(labels) - 1
    while start > 0 and months.months_between(labels[start - 1], labels[start]) == 1:
        start -= 1
    return series.iloc[start:]


def project(indicator: str, series: pd.Series, *, until: str) -> Projection | None:
    """Forecast ``series`` (values with data indexed by ``YYYY-MM``, sorted) from its latest month
    to ``until`` inclusive, by the method its history allows (module docstring); ``None`` with
    fewer than :data:`LINE_MIN_POINTS` values.

    The projection starts at the latest month itself: the line's value there, or (seasonal) the
    latest value with no spread, so that a chart joins it to the actual path.
    """
    series = series.dropna()
    if len(series) < LINE_MIN_POINTS:
        return None
    origin = str(series.index[-1])
    horizon = max(months.months_between(origin, until), 0)
    run = consecutive_run(series).iloc[-SEASONAL_MAX_MONTHS:]
    seasonal = None
    if len(run) >= SEASONAL_MIN_MONTHS:
        try:
            seasonal = _seasonal(tuple(map(float, run.to_numpy())), horizon)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError):
            seasonal = None  # a series the model can't fit (e.g. constant): the line instead
    if seasonal is not None:
        centre, scale = seasonal
        centre, scale, df, method = [float(run.iloc[-1]), *centre], [0.0, *scale], None, SEASONAL
    else:
        window = series.iloc[-LINE_WINDOW:]
        xs = tuple(months.index(str(m)) for m in window.index)
        steps = [months.index(origin) + h for h in range(horizon + 1)]
        centre, scale, df = _line(xs, tuple(map(float, window.to_numpy())), steps)
        method = LINE
    z = _quantile(df)
    labels = tuple(months.shift(origin, h) for h in range(horizon + 1))

    def clamp(values: list[float]) -> tuple[float, ...]:
        return tuple(catalog.clamp(indicator, v) for v in values)

    return Projection(
        indicator=indicator, method=method, origin=origin, months=labels,
        mean=clamp(centre), low=clamp([c - z * s for c, s in zip(centre, scale, strict=True)]),
        high=clamp([c + z * s for c, s in zip(centre, scale, strict=True)]),
        centre=tuple(centre), scale=tuple(scale), df=df,
    )


def _line(
    xs: tuple[int, ...], ys: tuple[float, ...], steps: list[int]
) -> tuple[list[float], list[float], float]:
    """The least-squares line's values at ``steps`` with their prediction standard errors."""
    x, y = np.array(xs, dtype=float), np.array(ys, dtype=float)
    n = len(x)
    x_mean, y_mean = x.mean(), y.mean()
    sxx = float(((x - x_mean) ** 2).sum())
    if sxx == 0:
        raise ValueError("a forecast line needs distinct months")
    slope = float(((x - x_mean) * (y - y_mean)).sum()) / sxx
    fitted = y_mean + slope * (x - x_mean)
    s = math.sqrt(float(((y - fitted) ** 2).sum()) / (n - 2)) if n > 2 else 0.0
    if s <= 1e-12 * max(1.0, float(np.abs(y).max())):
        s = 0.0  # an exact line, up to rounding: no spread
    centre = [float(y_mean + slope * (step - x_mean)) for step in steps]
    scale = [s * math.sqrt(1 + 1 / n + (step - x_mean) ** 2 / sxx) for step in steps]
    return centre, scale, float(n - 2)


def _seasonal(values: tuple[float, ...], horizon: int) -> tuple[list[float], list[float]]:
    """ETS(A,A,A) forecasts 1 … ``horizon`` months ahead and their standard errors."""
    if horizon == 0:
        return [], []
    from scipy import stats
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    index = pd.period_range("2000-01", periods=len(values), freq="M")
    endog = pd.Series(values, index=index, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter: the fit is checked below
        model = ETSModel(endog, error="add", trend="add", seasonal="add",
                         seasonal_periods=SEASON, initialization_method="heuristic")
        fit = model.fit(disp=False)
        frame = fit.get_prediction(start=len(values), end=len(values) + horizon - 1) \
            .summary_frame(alpha=1 - BAND)
    mean = frame["mean"].to_numpy(dtype=float)
    upper = frame["pi_upper"].to_numpy(dtype=float)
    if not (np.isfinite(mean).all() and np.isfinite(upper).all()):
        raise ValueError("the seasonal model gave no finite forecast")
    z = float(stats.norm.ppf(1 - (1 - BAND) / 2))
    scale = np.maximum((upper - mean) / z, 0.0)
    tiny = 1e-9 * max(1.0, float(np.abs(values).max()))
    return [float(v) for v in mean], [0.0 if s <= tiny else float(s) for s in scale]
