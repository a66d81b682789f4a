r"""Kendall's rank correlation test, as R's ``cor.test(x, y, method = "kendall")``.

- ``tau`` is Kendall's tau-b (R's ``cor(x, y, method = "kendall")``):
  :math:`\tau_b = S / \sqrt{(T_0 - T_1)(T_0 - T_2)}` with :math:`S` = concordant minus
  discordant pairs, :math:`T_0 = n(n-1)/2` and :math:`T_1, T_2` the tied pairs in x, y.
- Without ties and with ``exact=True``, the two-sided p-value is exact: the number of
  concordant pairs :math:`T` has, under independence, the distribution of the number of
  inversions of a random permutation (Mahonian numbers; R's ``ckendall``), and
  ``p = min(1, 2 P(T <= min(q, T_0 - q)))`` for the observed ``q`` (R computes the upper
  tail as ``1 - P(T <= q - 1)``; by the symmetry of the distribution this is the same
  number, computed here without cancellation).
- Otherwise (ties, or ``exact=False``): the normal approximation with the tie-corrected
  variance of :math:`S` and no continuity correction (R's default ``continuity = FALSE``).

R's exact branch overflows for n > 170 (``gamma(n + 1)`` is infinite; the p-value is
``NaN``); here the exact distribution is computed for any n: with integer arithmetic for
n <= 60 and with a normalised floating-point recursion (relative error ~1e-12) beyond.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy import stats

__all__ = ["KendallTest", "kendall_cdf", "kendall_test"]

_EXACT_INT_MAX_N = 60


@dataclass
class KendallTest:
    """Result of :func:`kendall_test`: tau-b, two-sided p-value and how it was computed."""

    tau: float
    pvalue: float
    statistic: float
    exact: bool
    ties: bool


def kendall_cdf(q: int, n: int) -> float:
    """``P(T <= q)`` for the number ``T`` of concordant pairs among ``n`` untied pairs
    under independence (R's ``pkendall`` / ``ckendall``)."""
    T0 = n * (n - 1) // 2
    if q < 0:
        return 0.0
    if q >= T0:
        return 1.0
    if n <= _EXACT_INT_MAX_N:
        counts = [1]  # n = 1: one permutation, zero inversions
        for j in range(2, n + 1):
            top = min(q, j * (j - 1) // 2)
            prefix = [0]
            for c in counts:
                prefix.append(prefix[-1] + c)
            last = len(counts) - 1
            new = []
            for t in range(top + 1):
                hi = min(t, last)
                lo = t - j + 1
                new.append(prefix[hi + 1] - (prefix[lo] if lo > 0 else 0))
            counts = new
        return float(Fraction(sum(counts[: q + 1]), math.factorial(n)))
    p = np.array([1.0])
    for j in range(2, n + 1):
        top = min(q, j * (j - 1) // 2)
        c = np.concatenate([[0.0], np.cumsum(p)])
        t = np.arange(top + 1)
        hi = np.minimum(t, p.size - 1) + 1
        lo = np.maximum(t - j + 1, 0)
        p = (c[hi] - c[lo]) / j
    return float(min(1.0, p[: q + 1].sum()))


def _tie_sizes(x: np.ndarray) -> np.ndarray:
    _, counts = np.unique(x, return_counts=True)
    return counts[counts > 1].astype(float)


def kendall_test(x, y, exact: bool = True) -> KendallTest:
    """Kendall's tau-b and its two-sided test, exactly as R's ``cor.test(x, y, method =
    "kendall", exact = exact)`` (see the module docstring).

    ``exact=True`` is what metafor's ``ranktest`` passes; R then uses the exact null
    distribution whenever there are no ties (for any n), else the normal approximation.
    A constant ``x`` or ``y`` gives ``tau = NaN`` and ``pvalue = NaN`` (R: ``NA``).
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    n = x.size
    T0 = n * (n - 1) / 2
    iu = np.triu_indices(n, 1)
    sx = np.sign(x[:, None] - x[None, :])[iu]
    sy = np.sign(y[:, None] - y[None, :])[iu]
    S = float(np.sum(sx * sy))
    xt, yt = _tie_sizes(x), _tie_sizes(y)
    T1 = float(np.sum(xt * (xt - 1)) / 2)
    T2 = float(np.sum(yt * (yt - 1)) / 2)
    ties = xt.size > 0 or yt.size > 0
    denom = math.sqrt((T0 - T1) * (T0 - T2))
    if denom == 0:
        return KendallTest(math.nan, math.nan, math.nan, exact=False, ties=ties)
    tau = S / denom
    if exact and not ties:
        q = round((S + T0) / 2)  # concordant pairs (R: round((r + 1) n (n - 1) / 4))
        p = min(1.0, 2 * kendall_cdf(min(q, int(T0) - q), n))
        return KendallTest(tau, p, float(q), exact=True, ties=False)
    v0 = n * (n - 1) * (2 * n + 5)
    vt = float(np.sum(xt * (xt - 1) * (2 * xt + 5)))
    vu = float(np.sum(yt * (yt - 1) * (2 * yt + 5)))
    v1 = float(np.sum(xt * (xt - 1)) * np.sum(yt * (yt - 1)))
    v2 = float(np.sum(xt * (xt - 1) * (xt - 2)) * np.sum(yt * (yt - 1) * (yt - 2)))
    var_S = (v0 - vt - vu) / 18 + v1 / (2 * n * (n - 1))
    if n > 2:
        var_S += v2 / (9 * n * (n - 1) * (n - 2))
    z = S / math.sqrt(var_S)
    p = float(2 * stats.norm.sf(abs(z)))
    return KendallTest(tau, min(1.0, p), z, exact=False, ties=ties)
