"""Numbers as the summary and the report show them."""

from __future__ import annotations

import math


def percent(ratio: float) -> str:
    """`ratio` as a percentage to 2 significant digits, without an exponent: 0.0018, 27,
    150; a nonzero ratio never shows as 0."""
    pct = ratio * 100
    if pct == 0 or not math.isfinite(pct):
        return f"{pct:g}"
    pct = float(f"{pct:.2g}")  # rounded first, so 0.0995 becomes 0.10, not 0.100
    decimals = max(0, 1 - math.floor(math.log10(abs(pct))))
    return f"{pct:.{decimals}f}"
