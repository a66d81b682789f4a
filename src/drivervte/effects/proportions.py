r"""Single-group proportions (``xi`` events of ``ni``), exactly as ``metafor::escalc`` (3.8).

With ``mi = ni - xi`` and ``p = xi/ni`` after the zero-cell rule (``to="only0"`` adds
``add`` to ``xi`` and ``mi`` when either is 0; ``add`` defaults to 1/2 for PR, PLN and PLO
and to 0 for PAS and PFT, as metafor):

.. math::

    \text{PR}:\; y = p,\; v = p(1-p)/n \qquad
    \text{PLO}:\; y = \log\frac{p}{1-p},\; v = \frac1{x} + \frac1{m} \qquad
    \text{PLN}:\; y = \log p,\; v = \frac1x - \frac1n

    \text{PAS}:\; y = \arcsin\sqrt{p},\; v = \frac1{4n} \qquad
    \text{PFT}:\; y = \tfrac12\Bigl[\arcsin\sqrt{\tfrac{x}{n+1}}
        + \arcsin\sqrt{\tfrac{x+1}{n+1}}\Bigr],\; v = \frac1{4n+2}

Freeman-Tukey: Freeman MF, Tukey JW (1950). *Ann Math Stat* 21:607-611; back-transform in
:mod:`drivervte.effects.transforms` (Miller 1978).

Note that metafor's PR with ``p = 0`` or ``1`` and no correction (``to="none"``) gives
``vi = 0``; such rows are reported by :func:`drivervte.effects.from_table`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from drivervte.effects.binary import zero_cell_correct

PROPORTION_MEASURES = ("PR", "PLO", "PLN", "PAS", "PFT")


def default_add(measure: str) -> float:
    """metafor's default ``add``: 0 for PAS and PFT, 1/2 otherwise."""
    return 0.0 if measure.upper() in ("PAS", "PFT") else 0.5


def escalc_prop(
    xi: ArrayLike,
    ni: ArrayLike,
    measure: str = "PLO",
    *,
    add: float | None = None,
    to: str = "only0",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Proportion effect sizes; returns ``yi, vi, ni`` (``ni`` unadjusted). No validation."""
    measure = measure.upper()
    if measure not in PROPORTION_MEASURES:
        raise ValueError(f"measure must be one of {PROPORTION_MEASURES}, got {measure!r}")
    if add is None:
        add = default_add(measure)
    x = np.asarray(xi, dtype=float)
    n_u = np.asarray(ni, dtype=float)
    m = n_u - x
    (x, m), _ = zero_cell_correct([x, m], add, to)
    n = x + m
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        if measure == "PR":
            yi = p
            vi = p * (1 - p) / n
        elif measure == "PLO":
            yi = np.log(p / (1 - p))
            vi = 1 / x + 1 / m
        elif measure == "PLN":
            yi = np.log(p)
            vi = 1 / x - 1 / n
        elif measure == "PAS":
            yi = np.arcsin(np.sqrt(p))
            vi = 1 / (4 * n)
        else:  # PFT
            yi = 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))
            vi = 1 / (4 * n + 2)
    return yi, vi, n_u.copy()
