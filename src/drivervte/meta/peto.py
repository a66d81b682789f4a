r"""Peto's one-step odds ratio, as ``metafor::rma.peto``.

Per study (counts after the second ``add``/``to`` element, by default none), with
``N = a + b + c + d``, ``n1 = a + b``, ``n2 = c + d``, ``x = a + c``, ``y = b + d``:

.. math::

    E_i = x_i n_{1i} / N_i, \qquad
    V_i = \frac{x_i y_i \, (n_{1i}/N_i)(n_{2i}/N_i)}{N_i - 1}

    \log \widehat{OR}_{Peto} = \frac{\sum (a_i - E_i)}{\sum V_i}, \qquad
    \mathrm{SE} = 1/\sqrt{\textstyle\sum V_i}

    Q = \sum_{V_i > 0} \frac{(a_i - E_i)^2}{V_i} - \frac{(\sum (a_i - E_i))^2}{\sum V_i}

Q has ``k_yi - 1`` degrees of freedom, where ``k_yi`` counts studies with an ``escalc``
``yi`` (first ``add``/``to``/``drop00`` element; defaults 1/2, "only0", ``True``); I² and H²
follow from Q as in ``rma.peto`` (0 and 1 unless at least two studies have ``V_i > 0``).
Studies without events (or without non-events) in both groups have ``V_i = 0``: they add
nothing to the estimate, are left out of Q and of ``studies`` (warning). If every study
has ``V_i = 0`` there is nothing to pool and :class:`InputError` is raised (metafor stops).

Percent weights are ``V_i / sum V_i`` (``weights.rma.peto``).

References
----------
Yusuf S, Peto R, Lewis J, Collins R, Sleight P (1985). *Prog Cardiovasc Dis* 27:335-371.
R reference: ``metafor::rma.peto`` (metafor 3.8).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from drivervte.errors import InputError
from drivervte.meta.mantel_haenszel import MHResult, _finish, alpha_crit, prepare_counts


def rma_peto(
    ai: ArrayLike,
    bi: ArrayLike | None = None,
    ci: ArrayLike | None = None,
    di: ArrayLike | None = None,
    *,
    n1i: ArrayLike | None = None,
    n2i: ArrayLike | None = None,
    level: float = 95,
    add: float | tuple[float, float] = 0.5,
    to: str | tuple[str, str] = "only0",
    drop00: bool | tuple[bool, bool] = True,
    study: list[str] | None = None,
) -> MHResult:
    """Peto's fixed-effect odds ratio for 2x2 tables (``metafor::rma.peto``).

    Arguments as :func:`drivervte.meta.mantel_haenszel.rma_mh`. Returns a result with
    ``method="PETO"``, ``measure="PETO"`` (log odds ratio; ``transformed`` gives the OR) and
    empty ``mh_tests``. See the module docstring for the formulas.
    """
    if ci is None:
        raise InputError("give the events of the second group (ci)", column="ci")
    pct, z = alpha_crit(level)
    cd, adds, tos, drops = prepare_counts(ai, bi, ci, di, n1i=n1i, n2i=n2i, study=study,
                                          escalc_measure="PETO", add=add, to=to, drop00=drop00)
    a, b, c, d = cd.ai, cd.bi, cd.ci, cd.di
    n1, n2 = a + b, c + d
    N = n1 + n2
    xt, yt = a + c, b + d
    with np.errstate(divide="ignore", invalid="ignore"):
        E = xt * n1 / N
        V = xt * yt * (n1 / N) * (n2 / N) / (N - 1)
    V = np.where(N > 1, V, 0.0)
    sumV = float(V.sum())
    if sumV == 0:
        raise InputError("no study has both events and non-events; Peto's odds ratio is "
                         "undefined", column="ai")
    beta = float((a - E).sum() / sumV)
    se = float(np.sqrt(1 / sumV))
    pos = V > 0
    k_pos = int(pos.sum())
    q = max(0.0, float(((a - E)[pos] ** 2 / V[pos]).sum() - (a - E).sum() ** 2 / V[pos].sum()))
    warnings = list(cd.warnings)
    if (~pos).any():
        names = ", ".join(s for s, p in zip(cd.study, pos, strict=True) if not p)
        warnings.append(f"studies without events or without non-events in both groups "
                        f"contribute nothing to Peto's odds ratio: {names}")
    res = _finish(cd, "PETO", "PETO", pct, z, beta, se, V, warnings, adds, tos, drops,
                  extra={"k_pos": k_pos}, tests={}, q=q)
    if k_pos <= 1:
        # rma.peto: Q keeps its value, but p = 1, I2 = 0, H2 = 1 without two informative studies
        res.Q_pvalue, res.I2, res.H2 = 1.0, 0.0, 1.0
    return res
