"""Intervals over seeds: Student's t for means, Wilson's score interval for k of n solved.

Standard library only. The t quantile inverts the t distribution's CDF, written through
the regularised incomplete beta function (a continued fraction), by bisection.
"""

from __future__ import annotations

import math
import statistics

CONFIDENCE = 0.95
MEAN_INTERVAL = (
    "95% t-interval over seeds (Student's t, n-1 degrees of freedom), "
    "cut to the range the value can take"
)
"""What `mean_interval` computes, as the report states it."""
SOLVED_INTERVAL = "95% Wilson score interval"
"""What `wilson_interval` computes, as the report states it."""


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b), 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    front = math.exp(log_front + a * math.log(x) + b * math.log1p(-x))
    if x > (a + 1) / (a + b + 2):  # the continued fraction converges fast on this side
        return 1.0 - _incomplete_beta(b, a, 1.0 - x)
    # Lentz's method for the continued fraction of I_x(a, b) * a / front.
    tiny = 1e-300
    f, c, d = 1.0, 1.0, 0.0
    for i in range(400):
        m = i // 2
        if i == 0:
            numerator = 1.0
        elif i % 2 == 0:
            numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        else:
            numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1.0 + numerator * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + numerator / (c if abs(c) > tiny else tiny)
        f *= c * d
        if abs(1.0 - c * d) < 1e-15:
            break
    return front * (f - 1.0) / a


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom."""
    tail = 0.5 * _incomplete_beta(df / 2, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = p, for 0 < p < 1 (t_quantile(0.975, 2) is 4.3027)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1) (got {p})")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        low, high = high, high * 2
    for _ in range(200):
        mid = (low + high) / 2
        if t_cdf(mid, df) < p:
            low = mid
        else:
            high = mid
        if high - low < 1e-12 * max(1.0, high):
            break
    return (low + high) / 2


def mean_interval(
    values: list[float], within: tuple[float, float] = (-math.inf, math.inf)
) -> tuple[float, float] | None:
    """The 95% t-interval of the mean of `values`, cut to `within`, the range the values
    (so their mean) can take; None for fewer than two values.

    The cut keeps the coverage: the true mean is always within, so it is in the cut
    interval whenever it is in the whole one. A loss near 0 over 3 seeds gets `[0, x]`,
    not a negative lower end. Values outside `within` (a wrong declaration) cut nothing."""
    n = len(values)
    if n < 2:
        return None
    mean = statistics.fmean(values)
    half = t_quantile(0.5 + CONFIDENCE / 2, n - 1) * statistics.stdev(values) / math.sqrt(n)
    low, high = within
    if not all(low <= v <= high for v in values):  # a wrong declaration: cut nothing
        return mean - half, mean + half
    return max(mean - half, low), min(mean + half, high)


def wilson_interval(k: int, n: int) -> tuple[float, float]:
    """Wilson's 95% score interval for a proportion of k successes in n trials."""
    if not 0 <= k <= n or n < 1:
        raise ValueError(f"need 0 <= k <= n and n >= 1 (got k={k}, n={n})")
    z = statistics.NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if k == 0 else centre - half  # exact ends, free of rounding
    high = 1.0 if k == n else centre + half
    return low, high


def overlap(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool:
    """Whether two intervals share a point; a missing interval overlaps everything."""
    if a is None or b is None:
        return True
    return a[0] <= b[1] and b[0] <= a[1]
