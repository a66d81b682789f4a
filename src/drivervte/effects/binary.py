r"""Effect sizes from 2x2 tables, exactly as ``metafor::escalc`` (metafor 3.8).

Cells: ``ai``/``bi`` events/non-events in the exposed (e.g. driver-positive) group,
``ci``/``di`` events/non-events in the unexposed group; ``n1i = ai + bi``, ``n2i = ci + di``.

Zero cells (metafor's ``add``, ``to``, ``drop00``; defaults ``add = 1/2``, ``to = "only0"``,
``drop00 = FALSE``):

- ``to="only0"``: add ``add`` to every cell of tables that have a zero cell;
- ``to="all"``: add to every cell of every table;
- ``to="if0all"``: add to every table if any table has a zero cell;
- ``to="none"``: no correction (a zero cell then gives an infinite ``yi``/``vi`` for OR/RR).

``drop00=True`` sets ``yi``/``vi`` to NaN for tables with no events in both groups or no
non-events in both groups; with the default ``drop00=False`` such double-zero studies are
kept (corrected by ``add``), as metafor's ``escalc`` does, so inverse-variance models keep
them. (``rma_mh``/``rma_peto`` use ``drop00=True`` for their Q-test, as metafor does.)

Measures, with corrected counts (``p1 = ai/n1i``, ``p2 = ci/n2i``):

.. math::

    \text{OR}:\; y = \log\frac{p_1/(1-p_1)}{p_2/(1-p_2)},\quad
        v = \tfrac1{a}+\tfrac1{b}+\tfrac1{c}+\tfrac1{d}

    \text{RR}:\; y = \log p_1 - \log p_2,\quad v = \tfrac1a - \tfrac1{n_1} + \tfrac1c - \tfrac1{n_2}

    \text{RD}:\; y = p_1 - p_2,\quad v = \frac{p_1(1-p_1)}{n_1} + \frac{p_2(1-p_2)}{n_2}
        \;(\text{vtype "LS"})

    \text{PETO}:\; E = \frac{(a+c)\,n_1}{N},\; V = \frac{(a+c)(b+d)\,n_1 n_2}{N^2 (N-1)},\;
        y = \frac{a - E}{V},\; v = 1/V

References
----------
Viechtbauer W (2010). *J Stat Softw* 36(3). ``metafor::escalc`` (R reference).
Yusuf S, Peto R, et al. (1985). Beta blockade during and after myocardial infarction.
*Prog Cardiovasc Dis* 27:335-371.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

BINARY_MEASURES = ("OR", "RR", "RD", "PETO")
TO_OPTIONS = ("all", "only0", "if0all", "none")


def zero_cell_correct(
    cells: list[np.ndarray], add: float, to: str
) -> tuple[list[np.ndarray], np.ndarray]:
    """Apply metafor's ``add``/``to`` rule to a list of cell arrays.

    Returns the corrected cells and a boolean array marking the tables that were corrected.
    NaN cells never trigger a correction (as metafor: ``id0[is.na(id0)] <- FALSE``).
    """
    if to not in TO_OPTIONS:
        raise ValueError(f"to must be one of {TO_OPTIONS}, got {to!r}")
    k = cells[0].shape[0]
    with np.errstate(invalid="ignore"):
        has0 = np.zeros(k, dtype=bool)
        for c in cells:
            has0 |= c == 0
    if to == "all":
        hit = np.ones(k, dtype=bool)
    elif to == "only0":
        hit = has0
    elif to == "if0all":
        hit = np.full(k, bool(has0.any()))
    else:
        hit = np.zeros(k, dtype=bool)
    out = [np.where(hit, c + add, c) for c in cells]
    return out, hit


def double_zero(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray) -> np.ndarray:
    """Tables with no events in both groups or no non-events in both groups (NaN -> False)."""
    with np.errstate(invalid="ignore"):
        return ((ai == 0) & (ci == 0)) | ((bi == 0) & (di == 0))


def escalc_2x2(
    ai: ArrayLike,
    bi: ArrayLike,
    ci: ArrayLike,
    di: ArrayLike,
    measure: str = "OR",
    *,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log odds ratio, log risk ratio, risk difference or Peto log OR from 2x2 counts.

    Pure numerics (no validation); see the module docstring for the formulas.

    Returns
    -------
    yi, vi, ni:
        Effect sizes, sampling variances and total sizes ``ai+bi+ci+di`` (unadjusted).
        NaN in, NaN out; ``drop00=True`` gives NaN for double-zero tables.
    """
    measure = measure.upper()
    if measure not in BINARY_MEASURES:
        raise ValueError(f"measure must be one of {BINARY_MEASURES}, got {measure!r}")
    a, b, c, d = (np.asarray(x, dtype=float).copy() for x in (ai, bi, ci, di))
    ni = a + b + c + d
    if drop00:
        dz = double_zero(a, b, c, d)
        for arr in (a, b, c, d):
            arr[dz] = np.nan
    (a, b, c, d), _ = zero_cell_correct([a, b, c, d], add, to)
    n1 = a + b
    n2 = c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = a / n1
        p2 = c / n2
        if measure == "OR":
            yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
            vi = 1 / a + 1 / b + 1 / c + 1 / d
        elif measure == "RR":
            yi = np.log(p1) - np.log(p2)
            vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
        elif measure == "RD":
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
        else:  # PETO
            n = n1 + n2
            xt = a + c
            yt = b + d
            ei = xt * n1 / n
            v = xt * yt * (n1 / n) * (n2 / n) / (n - 1)
            yi = (a - ei) / v
            vi = 1 / v
    return yi, vi, ni
