"""Back-transformations from the model scale to the scale readers understand.

A meta-analysis pools effects on a scale where they are roughly normal (log odds ratio,
logit proportion, Freeman-Tukey double arcsine, ...). :func:`back_transform` returns
pooled values to the natural scale exactly as metafor's ``transf.*`` functions do:

================  ===========================  =====================================
measure           model scale                  back-transformation (metafor)
================  ===========================  =====================================
OR RR HR SHR IRR  log ratio                    :math:`e^{x}` (``exp``)
ROM PLN IRLN
PLO               logit proportion             :math:`1/(1+e^{-x})` (``transf.ilogit``)
PAS               arcsine sqrt proportion      :math:`\\sin^2 x` (``transf.iarcsin``),
                                               clipped to [0, 1]
PFT               Freeman-Tukey double arcsine inverse of Miller (1978), harmonic mean
                                               of the study sizes (``transf.ipft.hm``)
PR RD GEN ...     natural                      identity
================  ===========================  =====================================

Inverse Freeman-Tukey (Miller 1978), for :math:`t` on the double-arcsine scale and a
sample size :math:`n`:

.. math::

    p = \\tfrac12\\Bigl[1 - \\operatorname{sgn}(\\cos 2t)
        \\sqrt{1 - \\bigl(\\sin 2t + (\\sin 2t - 1/\\sin 2t)/n\\bigr)^2}\\Bigr]

with :math:`n` the harmonic mean :math:`\\bar n_h = 1/\\operatorname{mean}(1/n_i)` of the
studies' sizes. As in ``metafor::transf.ipft.hm``: values above the transform of
:math:`p = 1` (``t > pft(1, n)``) return 1, values below the transform of :math:`p = 0`
return 0, and an undefined square root inside that range gives NaN.

References
----------
Miller JJ (1978). The inverse of the Freeman-Tukey double arcsine transformation.
*The American Statistician* 32(4):138.
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
*Journal of Statistical Software* 36(3):1-48.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from drivervte.errors import InputError

#: Measures pooled on the log scale (back-transformed with ``exp``).
LOG_MEASURES = frozenset({"OR", "RR", "HR", "SHR", "IRR", "ROM", "PLN", "IRLN", "PETO"})
#: Measures whose natural scale is a proportion.
PROPORTION_MEASURES = frozenset({"PR", "PLO", "PFT", "PAS", "PLN"})
#: Measures analysed on their natural scale (identity back-transformation).
IDENTITY_MEASURES = frozenset({"PR", "RD", "GEN", "MD", "SMD", "ZCOR", "COR", "IR", "IRD"})


def _norm(measure: str) -> str:
    if not isinstance(measure, str):
        raise InputError(f"measure must be a string, got {measure!r}", column="measure")
    return measure.strip().upper()


def ftt(p: ArrayLike, n: ArrayLike) -> np.ndarray:
    """Freeman-Tukey double arcsine of a proportion ``p`` with sample size ``n``.

    ``x = p n``; ``t = 1/2 [asin(sqrt(x/(n+1))) + asin(sqrt((x+1)/(n+1)))]``
    (``metafor::transf.pft``).
    """
    p = np.asarray(p, dtype=float)
    n = np.asarray(n, dtype=float)
    x = p * n
    return 0.5 * (np.arcsin(np.sqrt(x / (n + 1.0))) + np.arcsin(np.sqrt((x + 1.0) / (n + 1.0))))


def ipft(t: ArrayLike, n: ArrayLike) -> np.ndarray:
    """Inverse Freeman-Tukey double arcsine (Miller 1978) for sample size ``n``.

    Same formula and boundary rule as ``metafor::transf.ipft``; see the module docstring.
    """
    t = np.asarray(t, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.sin(2.0 * t)
        inner = 1.0 - (s + (s - 1.0 / s) / n) ** 2
        z = 0.5 * (1.0 - np.sign(np.cos(2.0 * t)) * np.sqrt(inner))
    z = np.where(np.isnan(z), np.nan, z)
    hi = ftt(1.0, n)
    lo = ftt(0.0, n)
    with np.errstate(invalid="ignore"):
        z = np.where(t > hi, 1.0, z)
        z = np.where(t < lo, 0.0, z)
    return z


def harmonic_mean_n(ni: ArrayLike) -> float:
    """Harmonic mean of the sample sizes, ignoring NaN (``1/mean(1/ni, na.rm=TRUE)``)."""
    arr = np.asarray(ni, dtype=float).ravel()
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        raise InputError("PFT back-transformation needs the studies' sample sizes", column="ni")
    if np.any(arr <= 0):
        raise InputError("sample sizes must be positive for the PFT back-transformation",
                         column="ni")
    return float(1.0 / np.mean(1.0 / arr))


def back_transform(measure: str, values: ArrayLike, ni: ArrayLike | None = None) -> np.ndarray:
    """Back-transform ``values`` from the model scale of ``measure`` to its natural scale.

    Parameters
    ----------
    measure:
        Effect measure (``"OR"``, ``"RR"``, ``"HR"``, ``"PLO"``, ``"PFT"``, ``"PR"``, ...).
    values:
        Values on the model scale (log ratio, logit, double arcsine, ...). NaN passes through.
    ni:
        Study sample sizes; required for ``"PFT"``, where the harmonic mean of ``ni`` is the
        ``n`` of the inverse (as ``metafor::transf.ipft.hm``). Ignored otherwise.

    Returns
    -------
    numpy.ndarray
        Same shape as ``values``. See the module docstring for each formula.

    Examples
    --------
    >>> back_transform("OR", [0.0, np.log(2)]).round(12).tolist()
    [1.0, 2.0]
    """
    m = _norm(measure)
    x = np.asarray(values, dtype=float)
    if m in LOG_MEASURES:
        with np.errstate(over="ignore"):
            return np.exp(x)
    if m == "PLO":
        # Stable inverse logit for large |x|.
        with np.errstate(over="ignore"):
            return np.where(x >= 0, 1.0 / (1.0 + np.exp(-x)), np.exp(x) / (1.0 + np.exp(x)))
    if m == "PAS":
        z = np.sin(x) ** 2
        with np.errstate(invalid="ignore"):
            z = np.where(x < 0, 0.0, z)
            z = np.where(x > np.pi / 2, 1.0, z)
        return np.where(np.isnan(x), np.nan, z)
    if m == "PFT":
        if ni is None:
            raise InputError(
                "the PFT (Freeman-Tukey) back-transformation needs the study sample sizes; "
                "pass ni", column="ni")
        return ipft(x, harmonic_mean_n(ni))
    if m in IDENTITY_MEASURES:
        return x.copy()
    raise InputError(
        f"unknown measure '{measure}'; known: "
        + ", ".join(sorted(LOG_MEASURES | {"PLO", "PAS", "PFT"} | IDENTITY_MEASURES)),
        column="measure",
    )


def forward_transform(measure: str, values: ArrayLike, ni: ArrayLike | None = None) -> np.ndarray:
    """The inverse of :func:`back_transform`: natural scale -> model scale.

    ``log`` for ratio measures, ``logit`` for PLO, ``asin(sqrt(p))`` for PAS, the
    Freeman-Tukey transform with the harmonic-mean ``n`` for PFT, identity otherwise.
    """
    m = _norm(measure)
    p = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if m in LOG_MEASURES:
            return np.log(p)
        if m == "PLO":
            return np.log(p) - np.log1p(-p)
        if m == "PAS":
            return np.arcsin(np.sqrt(p))
    if m == "PFT":
        if ni is None:
            raise InputError("the PFT transformation needs the study sample sizes; pass ni",
                             column="ni")
        return ftt(p, harmonic_mean_n(ni))
    if m in IDENTITY_MEASURES:
        return p.copy()
    raise InputError(f"unknown measure '{measure}'", column="measure")


def scale_name(measure: str) -> str:
    """Name of the natural scale of ``measure``.

    The ratio's own name for ratio measures (``"OR"``, ``"RR"``, ``"HR"``, ``"SHR"``,
    ``"IRR"``, ``"ROM"``; ``"OR"`` for Peto's odds ratio), ``"proportion"`` for
    PR/PLO/PFT/PAS/PLN, ``"identity"`` for everything analysed on its own scale (RD, GEN, ...).
    """
    m = _norm(measure)
    if m == "PETO":
        return "OR"
    if m in PROPORTION_MEASURES:
        return "proportion"
    if m == "IRLN":
        return "rate"
    if m in LOG_MEASURES:
        return m
    return "identity"
