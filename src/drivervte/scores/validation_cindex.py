"""Wolbers' concordance index for competing risks, truncated at a horizon.

Wolbers M, Koller MT, Witteman JCM, Steyerberg EW. Prognostic models with competing risks:
methods and application to coronary risk prediction. Epidemiology 2009;20:555-561 (the
definition); Wolbers M, Blanche P, Koller MT, Witteman JCM, Gerds TA. Concordance for
prognostic models with competing risks. Biostatistics 2014;15:526-539 (the IPCW estimator,
``pec::cindex(..., cause = 1)``).

Definition. A pair (i, j) is comparable when i had the event of interest (cause 1) at
:math:`T_i \\le \\tau` and j was still event-free after :math:`T_i` (:math:`T_j > T_i`,
type A) or had a competing event first or at the same time (:math:`T_j \\le T_i`,
:math:`\\delta_j \\notin \\{0, 1\\}`, type B): subjects with a competing event stay in the
comparison set "for ever", because they can never have the event of interest. The pair is
concordant when :math:`M_i > M_j` (the case has the higher predicted risk). Marker ties
count 1/2 by default (Harrell's convention, ``pec``'s default ``tiedPredictionsIn = TRUE``);
``marker_ties="zero"`` gives the literal :math:`Q_{ij} = I(M_i > M_j)` of Wolbers 2014
(``tiedPredictionsIn = FALSE``), tied pairs then staying in the denominator only. Tied
times follow Wolbers 2014 (:math:`A_{ij} = I(T_i < T_j)`, :math:`B_{ij} = I(T_i \\ge T_j,
\\delta_j \\notin \\{0, 1\\})`) and ``pec``'s C routine ``ccr``: j censored at
:math:`T_j = T_i` counts as type A (censoring after events: known event-free at
:math:`T_i`); j with a competing event at :math:`T_j = T_i` counts as type B; j with
cause 1 at the same time is not comparable.

.. math:: \\hat C(\\tau) = \\frac{\\sum_{i,j} (A_{ij} W^A_{ij} + B_{ij} W^B_{ij}) Q_{ij}}
          {\\sum_{i,j} (A_{ij} W^A_{ij} + B_{ij} W^B_{ij})}, \\qquad
          W^A_{ij} = \\frac{1}{\\hat G(T_i-) \\hat G(T_i)}, \\quad
          W^B_{ij} = \\frac{1}{\\hat G(T_i-) \\hat G(T_j-)}

with :math:`\\hat G` the reverse Kaplan-Meier estimate of the censoring distribution
(``weights="km"``, as Wolbers 2014 and ``pec::cindex(cens.model = "marginal")``) or
:math:`\\hat G \\equiv 1` (``weights="none"``: Wolbers 2009's Harrell-type estimator).

Reference: ``pec::cindex(list(matrix_of_risks), formula = Hist(time, status) ~ 1, data,
eval.times = tau, pred.times = tau, cause = 1, cens.model = "marginal" | "none",
tiedPredictionsIn = TRUE | FALSE)`` (pec 2022.5.4; a numeric N x 1 matrix of predicted
cumulative incidences is accepted as the model via ``predictEventProb.matrix``). pec's
weights are ``ipcw(..., subjectTimesLag = 1)`` = :math:`\\hat G(T_i-)` for i and
:math:`\\hat G` at :math:`T_i` (lag 0) for type-A j, i.e. exactly :math:`W^A, W^B` above.
The tests reproduce the estimate and the numbers of type A + B pairs of pec on continuous
and tied times/markers to ~5e-14 relative (fixture ``pec_cindex.json``). Differences
from pec: pec's ``ipcw.limit`` weight truncation, covariate-dependent censoring models
(``cens.model = "cox"``/``"aalen"``) and resampling (``splitMethod``) are not offered, and
no standard error is reported (pec reports none either). When :math:`\\hat G(T_i) = 0` for a case
(the last rows at risk are the case and a censoring), pec returns NaN (Inf/Inf); so does
this function, with a ``reason`` (checked in R with pec 2022.5.4, not in the fixture).

Complexity O(n log n): pairs are counted with Fenwick trees over marker ranks while sweeping
the rows in time order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from drivervte.scores.validation_auc import CensoringKM

__all__ = ["CIndexEstimate", "cindex_competing"]


@dataclass
class CIndexEstimate:
    """Wolbers' C at ``time``: estimate, weighted numbers of comparable pairs, reason if NaN."""

    time: float
    estimate: float
    comparable_pairs: int
    weights: str
    reason: str | None = None

    def as_dict(self) -> dict:
        return {"time": self.time, "estimate": self.estimate,
                "comparable_pairs": self.comparable_pairs, "weights": self.weights,
                "reason": self.reason}


class _Fenwick:
    """Prefix sums of weights over ranks 0..m-1 (O(log m) add and query)."""

    def __init__(self, m: int) -> None:
        self.tree = np.zeros(m + 1)
        self.m = m

    def add(self, i: int, w: float) -> None:
        i += 1
        while i <= self.m:
            self.tree[i] += w
            i += i & -i

    def prefix(self, i: int) -> float:
        """Sum over ranks < i."""
        s = 0.0
        while i > 0:
            s += self.tree[i]
            i -= i & -i
        return s


def _below_tie(fw: _Fenwick, r: int, tie: float) -> float:
    """Weight of inserted rows with a lower marker rank, plus ``tie`` times the tied ones."""
    lo = fw.prefix(r)
    return lo + tie * (fw.prefix(r + 1) - lo)


def _inverse(g: float) -> float:
    """1/g as a Python float, inf for g = 0 (Python floats: inf * 0 is nan, no warning; the
    caller reports an infinite denominator as an undefined C with its reason)."""
    return 1.0 / g if g > 0 else math.inf


def cindex_competing(time: np.ndarray, status: np.ndarray, marker: np.ndarray, tau: float,
                     cause: int = 1, weights: str = "km",
                     km: CensoringKM | None = None,
                     marker_ties: str = "half") -> CIndexEstimate:
    """Wolbers' C-index at horizon ``tau`` (see the module docstring).

    Parameters
    ----------
    time, status, marker : array_like
        Follow-up time, status (0 censored, ``cause`` the event of interest, any other
        value a competing event) and the predicted risk (higher = higher risk).
    tau : float
        Horizon: cases are rows with ``status == cause`` and ``time <= tau``.
    cause : int
        The event of interest.
    weights : {"km", "none"}
        Reverse Kaplan-Meier IPCW (``pec`` ``cens.model = "marginal"``) or none
        (``cens.model = "none"``).
    km : CensoringKM, optional
        A fitted censoring estimator to reuse (``weights="km"`` only).
    marker_ties : {"half", "zero"}
        A comparable pair with equal markers counts 1/2 (``"half"``, Harrell's convention
        and ``pec``'s default ``tiedPredictionsIn = TRUE``) or 0 (``"zero"``, the literal
        :math:`Q_{ij} = I(M_i > M_j)` of Wolbers 2014, ``tiedPredictionsIn = FALSE``);
        either way the pair stays in the denominator.
    """
    if weights not in ("km", "none"):
        raise ValueError("weights must be 'km' or 'none'")
    if marker_ties not in ("half", "zero"):
        raise ValueError("marker_ties must be 'half' or 'zero'")
    tie = 0.5 if marker_ties == "half" else 0.0
    time = np.asarray(time, float)
    status = np.asarray(status)
    marker = np.asarray(marker, float)
    n = time.size
    if weights == "km":
        km = km if km is not None else CensoringKM.fit(time, status)
        g_minus = km.surv(time, left=True)
        g_at = km.surv(time)
    else:
        g_minus = g_at = np.ones(n)
    _, rank = np.unique(marker, return_inverse=True)
    m = int(rank.max()) + 1 if n else 1
    case = (time <= tau) & (status == cause)
    comp = (status != 0) & (status != cause)
    num = den = 0.0
    pairs = 0
    # type A: j with T_j > T_i; sweep times from the largest down
    fw = _Fenwick(m)
    order = np.argsort(-time, kind="stable")
    inserted = 0
    k = 0
    while k < n:
        t = time[order[k]]
        block = [order[k]]
        k += 1
        while k < n and time[order[k]] == t:
            block.append(order[k])
            k += 1
        # rows censored at the case's own time are still comparable (pec's convention)
        censored = [i for i in block if status[i] == 0]
        for i in censored:
            fw.add(int(rank[i]), 1.0)
        inserted += len(censored)
        for i in block:
            if case[i] and inserted:
                w = _inverse(float(g_minus[i]) * float(g_at[i]))
                num += w * float(_below_tie(fw, int(rank[i]), tie))
                den += w * inserted
                pairs += inserted
        for i in block:
            if status[i] != 0:
                fw.add(int(rank[i]), 1.0)
                inserted += 1
    # type B: j with a competing event at T_j <= T_i; sweep from the smallest time up
    fw = _Fenwick(m)
    wsum = 0.0
    order = np.argsort(time, kind="stable")
    n_comp = 0
    k = 0
    while k < n:
        t = time[order[k]]
        block = [order[k]]
        k += 1
        while k < n and time[order[k]] == t:
            block.append(order[k])
            k += 1
        for j in block:
            if comp[j]:
                wj = _inverse(float(g_minus[j]))
                fw.add(int(rank[j]), wj)
                wsum += wj
                n_comp += 1
        for i in block:
            if case[i] and n_comp:
                wi = _inverse(float(g_minus[i]))
                num += wi * float(_below_tie(fw, int(rank[i]), tie))
                den += wi * wsum
                pairs += n_comp
    if not np.isfinite(den):
        return CIndexEstimate(float(tau), float("nan"), pairs, weights,
                              "the censoring survival estimate is 0 at a case's time (everyone "
                              "left then is censored at it): IPCW C undefined; use "
                              "weights='none'")
    if den <= 0:
        return CIndexEstimate(float(tau), float("nan"), pairs, weights,
                              f"no comparable pair by time {tau:g}: C-index undefined")
    return CIndexEstimate(float(tau), float(num / den), pairs, weights)
