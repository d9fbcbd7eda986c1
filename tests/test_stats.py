"""The intervals `seqkit compare` reports, against published values and hand computation."""

from __future__ import annotations

import math

import pytest

from seqkit._core.stats import mean_interval, overlap, t_cdf, t_quantile, wilson_interval

# Two-sided 95% and 99% critical values of Student's t (any statistics table).
T_TABLE = {
    1: (12.7062, 63.6567),
    2: (4.3027, 9.9248),
    3: (3.1824, 5.8409),
    4: (2.7764, 4.6041),
    9: (2.2622, 3.2498),
    29: (2.0452, 2.7564),
}


@pytest.mark.parametrize("df", sorted(T_TABLE))
def test_t_quantile_matches_the_table(df):
    t95, t99 = T_TABLE[df]
    assert t_quantile(0.975, df) == pytest.approx(t95, abs=1e-4)
    assert t_quantile(0.995, df) == pytest.approx(t99, abs=1e-4)
    assert t_quantile(0.025, df) == pytest.approx(-t95, abs=1e-4)


def test_t_approaches_the_normal_and_inverts_its_cdf():
    assert t_quantile(0.975, 100_000) == pytest.approx(1.95996, abs=1e-4)
    assert t_cdf(0.0, 3) == pytest.approx(0.5)
    assert t_cdf(t_quantile(0.9, 7), 7) == pytest.approx(0.9, abs=1e-10)
    # df=1 is the Cauchy distribution: P(T <= t) = 1/2 + atan(t)/pi.
    assert t_cdf(2.0, 1) == pytest.approx(0.5 + math.atan(2.0) / math.pi, abs=1e-12)


def test_mean_interval_by_hand():
    # mean 2, s = 1, n = 3: 2 -/+ 4.302653 / sqrt(3)
    low, high = mean_interval([1.0, 2.0, 3.0])
    assert low == pytest.approx(2 - 4.302653 / math.sqrt(3), abs=1e-5)
    assert high == pytest.approx(2 + 4.302653 / math.sqrt(3), abs=1e-5)
    # n = 2: t = 12.7062, s = sqrt(2)/2 * |a - b|
    low, high = mean_interval([0.5, 1.5])
    assert (high - low) / 2 == pytest.approx(12.7062 * (math.sqrt(0.5) / math.sqrt(2)), abs=1e-3)
    assert mean_interval([4.0]) is None  # one seed has no interval
    assert mean_interval([3.0, 3.0, 3.0]) == (3.0, 3.0)


def test_mean_interval_is_cut_to_where_the_values_lie():
    losses = [0.0001, 0.0002, 0.0009]  # a loss near 0 over 3 seeds, as the GRU's on adding
    whole = mean_interval(losses)
    assert whole is not None and whole[0] < 0  # the plain t-interval reaches below 0
    assert mean_interval(losses, (0.0, math.inf)) == (0.0, whole[1])
    accuracies = [1.0, 1.0, 0.24]
    low, high = mean_interval(accuracies)  # type: ignore[misc]
    assert low < 0 and high > 1
    assert mean_interval(accuracies, (0.0, 1.0)) == (0.0, 1.0)
    # inside the range nothing changes
    assert mean_interval([10.0, 11.0, 12.0], (0.0, math.inf)) == mean_interval([10.0, 11.0, 12.0])
    # a value outside the declared range: the declaration is wrong, so nothing is cut
    assert mean_interval([-0.5, 0.1, 0.2], (0.0, math.inf)) == mean_interval([-0.5, 0.1, 0.2])


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [  # Wilson score intervals, z = 1.959964
        (0, 3, 0.0, 0.5615),
        (1, 3, 0.0615, 0.7923),
        (3, 3, 0.4385, 1.0),
        (5, 10, 0.2366, 0.7634),
        (0, 10, 0.0, 0.2775),
    ],
)
def test_wilson_interval_known_values(k, n, low, high):
    assert wilson_interval(k, n) == pytest.approx((low, high), abs=1e-4)


def test_wilson_interval_refuses_impossible_counts():
    with pytest.raises(ValueError):
        wilson_interval(4, 3)


def test_overlap():
    assert overlap((0.0, 1.0), (0.5, 2.0)) and overlap((0.0, 1.0), (1.0, 2.0))
    assert not overlap((0.0, 1.0), (1.1, 2.0)) and not overlap((1.1, 2.0), (0.0, 1.0))
    assert overlap(None, (0.0, 1.0))  # one seed: nothing can be told apart
