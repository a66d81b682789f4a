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
no analytic standard error is reported (pec reports none either; ``validate_score(...,
bootstrap=B)`` gives a bootstrap SE and percentile interval,
:mod:`drivervte.scores.validation_bootstrap`). When :math:`\\hat G(T_i) = 0` for a case
(the last rows at risk are the case and a censoring), pec returns NaN (Inf/Inf); so does
this function, with a ``reason`` (checked in R with pec 2022.5.4, not in the fixture).

Complexity O(n log n), vectorized: the weighted pair counts are two-dimensional dominance
sums (time position x marker rank) computed level by level over dyadic blocks of the time
order (:func:`_prefix_dominance`), with no Python loop over rows (about 0.1 s for all horizons at
n = 1e5 on a shared 2-core machine; ``benchmarks/bench_validation_bootstrap.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from drivervte.scores.validation_auc import CensoringKM

__all__ = ["CIndexEstimate", "cindex_competing", "cindex_competing_times"]


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


def _prefix_dominance(rank_by_pos: np.ndarray, weights: np.ndarray | None, q: np.ndarray,
                      r: np.ndarray) -> np.ndarray:
    """2-D dominance sums: ``out[i] = sum_{p < q[i], rank[p] < r[i]} w[p]`` (counts when
    ``weights`` is None).

    Points are positions ``0..n-1`` (an order of the rows) with integer ranks
    ``rank_by_pos``. ``[0, q)`` is cut into the dyadic blocks of its binary digits (as a
    Fenwick tree does); at level b the points are kept sorted by (position >> b, rank), so
    that the weight of one block below a rank is one ``searchsorted`` into that order plus
    a difference of cumulative sums (of indices, for counts). The order at level b comes
    from the order at level b + 1 by a stable partition of each block on bit b of the
    position (cumulative sums, no sort), so the whole is O(n log n) in vectorized NumPy
    with no Python loop over rows: log2(n) levels of O(n) work plus O(log n) per query.
    """
    n = rank_by_pos.size
    out = np.zeros(q.size)
    if n == 0 or q.size == 0:
        return out
    # key stride: above every point rank and every query rank (queries use rank + 1)
    m = np.int64(max(int(rank_by_pos.max()), int(r.max())) + 2)
    top = n.bit_length()  # 2**top > n: one block at the top level
    arr = np.argsort(rank_by_pos, kind="stable").astype(np.int64)  # level `top`
    idx = np.arange(n, dtype=np.int64)
    q = q.astype(np.int64)
    r = r.astype(np.int64)
    for b in range(top - 1, -1, -1):
        # stable partition of each level-(b+1) block on bit b: level-b order
        bit = (arr >> b) & 1
        zeros_before = np.concatenate(([0], np.cumsum(1 - bit)))
        start = (arr >> (b + 1)) << (b + 1)
        z_in = zeros_before[idx] - zeros_before[start]
        n_zero = np.minimum(np.int64(1) << b, n - start)
        new = start + np.where(bit == 0, z_in, n_zero + (idx - start) - z_in)
        nxt = np.empty_like(arr)
        nxt[new] = arr
        arr = nxt
        sel = np.flatnonzero((q >> b) & 1)
        if sel.size == 0:
            continue
        key = (arr >> b) * m + rank_by_pos[arr]
        blk = (q[sel] >> b) - 1
        needle = blk * m + r[sel]
        srt = np.argsort(needle)  # sorted needles: searchsorted walks the array once
        lo = np.empty(sel.size, np.int64)
        lo[srt] = np.searchsorted(key, needle[srt], side="left")
        if weights is None:
            out[sel] += lo - (blk << b)
        else:
            cw = np.concatenate(([0.0], np.cumsum(weights[arr])))
            out[sel] += cw[lo] - cw[blk << b]
    return out


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
    return cindex_competing_times(time, status, marker, [tau], cause, weights, km,
                                  marker_ties)[0]


def cindex_competing_times(time: np.ndarray, status: np.ndarray, marker: np.ndarray,
                           taus: Sequence[float], cause: int = 1, weights: str = "km",
                           km: CensoringKM | None = None,
                           marker_ties: str = "half") -> list[CIndexEstimate]:
    """:func:`cindex_competing` at each horizon of ``taus``, with one pass over the data.

    A case's pairs, weights and concordance do not depend on the horizon (only whether the
    case counts does), so the per-case sums are computed once and the estimate at each
    ``tau`` sums the cases with :math:`T_i \\le \\tau`: the cost of several horizons is
    that of one. Arguments as :func:`cindex_competing`.
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
    taus = [float(t) for t in taus]
    if weights == "km":
        km = km if km is not None else CensoringKM.fit(time, status)
        g_minus = km.surv(time, left=True)
        g_at = km.surv(time)
    else:
        g_minus = g_at = np.ones(n)
    case_rows = np.flatnonzero((time <= max(taus, default=-np.inf)) & (status == cause))
    case_rows = case_rows[np.argsort(time[case_rows], kind="stable")]
    k = case_rows.size
    num_i = den_i = np.zeros(0)
    pairs_i = np.zeros(0, np.int64)
    if k:
        comp = (status != 0) & (status != cause)
        _, rank = np.unique(marker, return_inverse=True)
        # positions: time order, events before censorings at a tied time; for a case i,
        # q_i = #{rows before T_i or with an event at T_i}: type-A partners are the
        # positions >= q_i (later, or censored at T_i), type-B partners the competing
        # events at positions < q_i
        _, tid = np.unique(time, return_inverse=True)
        key = 2 * tid.astype(np.int64) + (status == 0)
        order = np.argsort(key, kind="stable")
        q = np.searchsorted(key[order], key[case_rows] | 1, side="left")
        r = rank[case_rows]
        r2 = np.concatenate((r, r + 1))
        both = _prefix_dominance(rank[order], None, np.concatenate((q, q)), r2)
        below, tied = both[:k], both[k:] - both[:k]
        # type B partners: the competing events, on their own (positions among them)
        comp_pos = np.flatnonzero(comp[order])
        cum_comp = np.concatenate(([0], np.cumsum(comp[order])))
        qb = cum_comp[q]
        with np.errstate(divide="ignore"):
            w_comp = 1.0 / g_minus[order][comp_pos]
        both = _prefix_dominance(rank[order][comp_pos], w_comp, np.concatenate((qb, qb)), r2)
        below_b, tied_b = both[:k], both[k:] - both[:k]
        # type A: all rows with a lower rank minus those at positions < q_i
        sorted_rank = np.sort(rank)
        all_below = np.searchsorted(sorted_rank, r, side="left")
        all_tied = np.searchsorted(sorted_rank, r, side="right") - all_below
        n_a = n - q
        a_num = (all_below - below) + tie * (all_tied - tied)
        # type B: competing events at positions < q_i, each weighted 1/G(T_j-)
        n_b = qb
        w_b_sum = np.concatenate(([0.0], np.cumsum(w_comp)))[qb]
        b_num = below_b + tie * tied_b
        gm, ga = g_minus[case_rows], g_at[case_rows]
        use_a, use_b = n_a > 0, n_b > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            w_a = 1.0 / (gm * ga)
            w_b = 1.0 / gm
            num_i = (np.where(use_a, w_a * a_num, 0.0) + np.where(use_b, w_b * b_num, 0.0))
            den_i = (np.where(use_a, w_a * n_a, 0.0) + np.where(use_b, w_b * w_b_sum, 0.0))
        pairs_i = n_a + n_b
    t_case = time[case_rows]
    with np.errstate(invalid="ignore"):
        cum_num = np.concatenate(([0.0], np.cumsum(num_i)))
        cum_den = np.concatenate(([0.0], np.cumsum(den_i)))
    cum_pairs = np.concatenate(([0], np.cumsum(pairs_i)))
    out = []
    for tau in taus:
        j = int(np.searchsorted(t_case, tau, side="right"))
        num, den, pairs = float(cum_num[j]), float(cum_den[j]), int(cum_pairs[j])
        if not np.isfinite(den):
            out.append(CIndexEstimate(
                tau, float("nan"), pairs, weights,
                "the censoring survival estimate is 0 at a case's time (everyone left then "
                "is censored at it): IPCW C undefined; use weights='none'"))
        elif den <= 0:
            out.append(CIndexEstimate(tau, float("nan"), pairs, weights,
                                      f"no comparable pair by time {tau:g}: C-index undefined"))
        else:
            out.append(CIndexEstimate(tau, num / den, pairs, weights))
    return out
