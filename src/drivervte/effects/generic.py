r"""Effect sizes from what papers report: a ratio with its CI, or a ratio with a p-value.

Ratio with a confidence interval (OR, RR, HR, SHR, IRR), assuming the interval is a Wald
interval on the log scale (as nearly every regression output is):

.. math::

    y = \log \hat\theta, \qquad
    \mathrm{SE} = \frac{\log U - \log L}{2\, z_{1-(1-\text{level})/2}}, \qquad v = \mathrm{SE}^2

(Cochrane Handbook, section 6.3.2; Altman & Bland 2011). An interval that is not
symmetric about :math:`\log\hat\theta` on the log scale hints at a profile-likelihood or
exact interval, a typo, or heavy rounding; :func:`ci_asymmetry` measures
:math:`|\log\hat\theta - (\log L + \log U)/2| / ((\log U - \log L)/2)` and rows above
:data:`ASYMMETRY_THRESHOLD` get a note (the SE is still taken from the interval width).

Ratio with only a two-sided p-value (Altman & Bland 2011, *BMJ* 343:d2090):

.. math::

    z = \Phi^{-1}(1 - p/2), \qquad \mathrm{SE} = |\log\hat\theta| / z

flagged ``approximate=True``. A p-value reported as an upper bound (``"<0.001"``) is handled
by the **conservative rule**: the bound itself is used as ``p``. Since SE grows with ``p``,
this gives the largest SE compatible with the report (the study's weight is never
overstated). Lower bounds (``">0.05"``) are refused: they put no upper limit on the SE.
"""

from __future__ import annotations

import math
import re

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

RATIO_MEASURES = ("OR", "RR", "HR", "SHR", "IRR")

#: Relative offset (fraction of the log-scale half-width) above which a CI is noted as
#: asymmetric. Rounding a ratio and its bounds to two decimals moves the midpoint by far
#: less than this for intervals of ordinary width.
ASYMMETRY_THRESHOLD = 0.10

_P_RE = re.compile(r"^\s*(p\s*)?(?P<op><=|<|≤|=|>=|>|≥)?\s*(?P<num>[0-9.]+(e-?[0-9]+)?)\s*$",
                   re.IGNORECASE)


def z_crit(level: float) -> float:
    """Two-sided normal critical value for a CI of ``level`` percent (95 -> 1.959964)."""
    return float(norm.ppf(1 - (1 - level / 100.0) / 2))


def from_ratio_ci(
    estimate: ArrayLike, lower: ArrayLike, upper: ArrayLike, level: float = 95
) -> tuple[np.ndarray, np.ndarray]:
    """Log ratio and its sampling variance from a ratio and its CI (no validation)."""
    est = np.asarray(estimate, dtype=float)
    lo = np.asarray(lower, dtype=float)
    hi = np.asarray(upper, dtype=float)
    yi = np.log(est)
    sei = (np.log(hi) - np.log(lo)) / (2 * z_crit(level))
    return yi, sei**2


def ci_asymmetry(estimate: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> np.ndarray:
    """|log est - log-midpoint| relative to the log half-width (0 for a symmetric CI)."""
    y = np.log(np.asarray(estimate, dtype=float))
    lo = np.log(np.asarray(lower, dtype=float))
    hi = np.log(np.asarray(upper, dtype=float))
    half = (hi - lo) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(y - (lo + hi) / 2) / half


def from_pvalue(estimate: ArrayLike, pvalue: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Log ratio and an approximate variance from a ratio and its two-sided p-value."""
    est = np.asarray(estimate, dtype=float)
    p = np.asarray(pvalue, dtype=float)
    yi = np.log(est)
    z = norm.isf(p / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        sei = np.abs(yi) / z
    return yi, sei**2


def parse_pvalue(cell: object) -> tuple[float, str]:
    """Parse one p-value cell.

    Returns ``(p, kind)`` with kind ``"exact"``, ``"upper_bound"`` (``"<0.001"``: the bound
    is used, the conservative rule) or ``"lower_bound"`` (``">0.05"``: the caller refuses it),
    or ``(nan, "missing")`` for an empty cell. Raises ``ValueError`` for text that is not a
    p-value.
    """
    if cell is None:
        return math.nan, "missing"
    if isinstance(cell, (int, float, np.integer, np.floating)) and not isinstance(cell, bool):
        f = float(cell)
        return (f, "missing") if math.isnan(f) else (f, "exact")
    text = str(cell).strip()
    if text == "" or text.upper() in ("NA", "NAN", "NONE", "NULL"):
        return math.nan, "missing"
    m = _P_RE.match(text)
    if not m:
        raise ValueError(text)
    val = float(m.group("num"))
    op = m.group("op") or "="
    if op in ("<", "<=", "≤"):
        return val, "upper_bound"
    if op in (">", ">=", "≥"):
        return val, "lower_bound"
    return val, "exact"
