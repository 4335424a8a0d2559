"""The forecasting models on series whose shape is known: the seasonal model finds the
season it was given and beats seasonal-naive when there is a trend; exponential decline
recovers the decline rate; too short a history is said, not guessed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ogcrm.reports import forecast as f

SEASON = [0.7, 0.75, 0.9, 1.0, 1.15, 1.3, 1.4, 1.35, 1.1, 0.95, 0.8, 0.7]


def seasonal(months: int, *, trend: float = 3.0, noise: float = 0.0, seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    return [(100 + trend * t) * SEASON[t % 12] * rng.normal(1, noise) if noise else
            (100 + trend * t) * SEASON[t % 12] for t in range(months)]  # fmt: skip


def test_the_seasonal_index_is_the_one_in_the_data():
    index = f.seasonal_indices(seasonal(48, trend=0))
    expected = np.array(SEASON) / np.mean(SEASON)
    assert np.allclose(index, expected, atol=1e-6)


def test_a_noiseless_trend_and_season_is_forecast_almost_exactly():
    history = seasonal(36)
    ahead = f.seasonal_trend(history, 12)
    truth = seasonal(48)[36:]
    assert f.mape(truth, ahead) < 0.02


@pytest.mark.parametrize("seed", range(5))
def test_the_model_beats_seasonal_naive_on_a_trending_season(seed):
    result = f.backtest(seasonal(48, noise=0.05, seed=seed), f.seasonal_trend, f.seasonal_naive, 12)
    assert result is not None and result.held_back == 12
    assert result.mape < result.baseline_mape


def test_seasonal_naive_repeats_last_year():
    history = list(range(24))
    assert f.seasonal_naive(history, 3) == [12.0, 13.0, 14.0]
    assert f.seasonal_naive([5.0], 2) == [5.0, 5.0]


def test_exponential_decline_recovers_its_rate():
    rate = 0.04  # 4% a month, a typical shale well's late life
    history = [1000 * math.exp(-rate * t) for t in range(30)]
    ahead = f.exponential_decline(history, 6)
    truth = [1000 * math.exp(-rate * t) for t in range(30, 36)]
    assert np.allclose(ahead, truth, rtol=1e-6)
    result = f.backtest(history, f.exponential_decline, f.last_value, 6)
    assert result.mape < 1e-6 < result.baseline_mape


def test_short_histories_are_told_not_guessed():
    assert f.seasonal_indices([1.0] * 23) is None
    assert f.backtest([1.0] * 15, f.seasonal_trend, f.seasonal_naive, 12) is None
    assert np.allclose(f.seasonal_trend([10.0, 12.0, 14.0], 2), [16.0, 18.0])  # a line, no season
    assert f.mape([0.0, 0.0], [1.0, 2.0]) is None  # nothing to be a percentage of
