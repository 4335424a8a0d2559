"""Forecasts with their method named and a backtest beside a naive baseline.

Pure functions over monthly series (no database here; :mod:`ogcrm.reports.forecasts`
reads the series):

* **Demand** — multiplicative decomposition: each calendar month's mean ratio to a
  least-squares trend line is its seasonal index, and the line refitted through the
  deseasonalized months is the trend; a forecast is the line times the month's index. Its baseline is the seasonal-naive forecast (the
  same month a year earlier), which any seasonal model has to beat to be worth using.
* **Production** — Arps exponential decline, the petroleum engineers' standard for a
  producing well or lease: a straight line through the logarithm of the positive
  months (the last two years at most), extended. Baseline: the last month carried on.

A backtest fits the model on all but the last ``holdout`` months, forecasts those, and
reports the mean absolute percentage error over the months that were not zero, next to
the baseline's on the same months.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

SEASON = 12

Model = Callable[[Sequence[float], int], list[float]]


@dataclass(frozen=True)
class Backtest:
    held_back: int
    mape: float | None
    baseline_mape: float | None


def _line(y: np.ndarray) -> tuple[float, float]:
    """Least-squares intercept and slope of ``y`` over 0..n-1."""
    t = np.arange(len(y), dtype=float)
    if len(y) < 2:
        return (float(y[0]) if len(y) else 0.0), 0.0
    slope, intercept = np.polyfit(t, y, 1)
    return float(intercept), float(slope)


def seasonal_indices(series: Sequence[float]) -> np.ndarray | None:
    """Each calendar position's (0..11, relative to the series' first month) mean ratio
    to the trend line, scaled to average 1, refined by refitting the line through the
    deseasonalized series (three passes); None with under two years of history or a
    non-positive trend (a multiplicative season needs a level).

    Ratios to a fitted line use every month; the textbook 2x12 centred moving average
    loses six months at each end, which on three years of history left two ratios per
    calendar month instead of three (measured: 4.7% against 5.0% error at 5% noise,
    14.6% against 15.2% at 15%, averaged over 40 generated series)."""
    y = np.asarray(series, dtype=float)
    if len(y) < 2 * SEASON:
        return None
    positions = np.arange(len(y)) % SEASON
    index = np.ones(SEASON)
    for _ in range(3):
        intercept, slope = _line(y / index[positions])
        trend = intercept + slope * np.arange(len(y))
        if np.any(trend <= 0):
            return None
        ratios = y / trend
        index = np.array([ratios[positions == k].mean() for k in range(SEASON)])
        index = index / index.mean()
    return index


def seasonal_trend(series: Sequence[float], horizon: int) -> list[float]:
    """The demand model (module docstring): trend line x seasonal index, never below 0;
    a plain trend line while there is under two years of history."""
    y = np.asarray(series, dtype=float)
    index = seasonal_indices(y)
    if index is None:
        intercept, slope = _line(y)
        return [max(0.0, intercept + slope * (len(y) + h)) for h in range(horizon)]
    positions = np.arange(len(y)) % SEASON
    intercept, slope = _line(y / index[positions])
    return [
        max(0.0, (intercept + slope * t) * float(index[t % SEASON]))
        for t in range(len(y), len(y) + horizon)
    ]


def seasonal_naive(series: Sequence[float], horizon: int) -> list[float]:
    """Each month as it was a season earlier (the last value while there is not one)."""
    y = list(series)
    if not y:
        return [0.0] * horizon
    if len(y) < SEASON:
        return [float(y[-1])] * horizon
    return [float(y[len(y) - SEASON + (h % SEASON)]) for h in range(horizon)]


def exponential_decline(series: Sequence[float], horizon: int) -> list[float]:
    """Arps exponential decline through the positive months of the last two years."""
    y = np.asarray(series, dtype=float)[-2 * SEASON :]
    t = np.arange(len(y), dtype=float)
    positive = y > 0
    if positive.sum() < 2:
        return [float(y[-1]) if len(y) else 0.0] * horizon
    slope, intercept = np.polyfit(t[positive], np.log(y[positive]), 1)
    return [float(np.exp(intercept + slope * (len(y) + h))) for h in range(horizon)]


def last_value(series: Sequence[float], horizon: int) -> list[float]:
    return [float(series[-1]) if len(series) else 0.0] * horizon


def mape(actual: Sequence[float], predicted: Sequence[float]) -> float | None:
    """Mean absolute percentage error over the months whose actual is not zero."""
    pairs = [(a, p) for a, p in zip(actual, predicted, strict=True) if a != 0]
    if not pairs:
        return None
    return float(np.mean([abs(a - p) / abs(a) for a, p in pairs]))


def backtest(
    series: Sequence[float], model: Model, baseline: Model, holdout: int
) -> Backtest | None:
    """Fit on all but the last ``holdout`` months, score the forecast of those; None
    when the history is too short to hold anything back (under a year beyond it)."""
    if holdout < 1 or len(series) < holdout + SEASON:
        return None
    train, actual = list(series[:-holdout]), list(series[-holdout:])
    return Backtest(
        holdout, mape(actual, model(train, holdout)), mape(actual, baseline(train, holdout))
    )
