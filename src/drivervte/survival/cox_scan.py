"""Linear-time kernels of the Cox partial likelihood (the numerical core of :mod:`.cox`).

:class:`CoxProblem` sorts the data once (by stratum, then time, events before censorings at
a tied time) and precomputes, for every distinct (stratum, event time) *tie group* ``g``,
where its risk set starts and ends in the sorted order. After that every quantity a Newton
step needs is a reverse cumulative sum, a gather, or one ``X' diag(q) X`` product: one
evaluation costs O(n p^2) time and O(n p) memory, never O(n^2) and never an n x p x p array.

Notation (weights ``w_i``, risk ``r_i = exp(x_i' beta)``, ``v_i = w_i r_i``). For tie group
``g`` with ``d_g`` events, event weight sum ``dw_g`` and risk set ``R_g`` (rows of the same
stratum with ``start_i < t_g <= stop_i``; ``start = -inf`` for right-censored data)::

    S0_g = sum_{R_g} v_i,   S1_g = sum_{R_g} v_i x_i,   E0_g, E1_g: the same over the events.

Each group contributes ``d_g`` terms ``e = 0..d_g-1`` (Efron 1977): with ``f_e = e/d_g`` (Efron)
or ``f_e = 0`` (Breslow), mean weight ``a_e = dw_g/d_g``::

    D_e = S0_g - f_e E0_g,     m_e = (S1_g - f_e E1_g) / D_e
    loglik = sum_events w_i x_i'beta - sum_e a_e log D_e
    U      = sum_events w_i x_i      - sum_e a_e m_e
    I      = sum_e a_e [(S2_g - f_e E2_g)/D_e - m_e m_e']

``S2`` is never formed: ``sum_e a_e S2_g/D_e = sum_i v_i c_i x_i x_i'`` with
``c_i = sum_{g: i in R_g} sum_{e in g} a_e/D_e`` (a cumulative sum over groups), and the
``E2`` part is a per-event correction. This is exactly what ``survival``'s C routines
``coxfit6.c`` (right-censored) and ``agfit4.c`` (counting process) accumulate in their
backward scans; the score residuals follow ``coxscore2.c`` (Efron weighting of tied
events), and for counting-process data agree with ``residuals.coxph`` through the robust
variance fixtures.

Numerics: the linear predictor is shifted by a constant before ``exp`` (the likelihood, score
and information are invariant to it), so large coefficients cannot overflow. Risk-set sums
are differences of reverse cumulative sums; their relative rounding error is bounded by
``n * eps * (total / risk-set sum)``, far below the 1e-7 agreement asked of the fits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CoxEvaluation", "CoxProblem"]


@dataclass
class CoxEvaluation:
    """Log partial likelihood, score vector and information matrix at one ``beta``."""

    loglik: float
    score: np.ndarray
    information: np.ndarray


def _take_rows(A: np.ndarray, idx: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``A[idx]`` as a column-major array, gathered column by column (fast for F-order A)."""
    if out is None:
        out = np.empty((idx.shape[0], A.shape[1]), order="F")
    for j in range(A.shape[1]):
        np.take(A[:, j], idx, out=out[:, j])
    return out


class CoxProblem:
    """Sorted, indexed data of one Cox model; evaluates the partial likelihood linearly in n.

    Parameters
    ----------
    stop, event:
        Exit (event or censoring) times and event indicators (bool), shape (n,).
    X:
        Covariates, shape (n, p) (not modified).
    weights:
        Positive case weights, shape (n,).
    strata:
        Integer stratum codes, shape (n,), or None (one stratum).
    start:
        Entry times for counting-process data ``(start, stop]``, or None (right-censored).
    ties:
        ``"efron"`` or ``"breslow"``.
    center:
        Subtracted from every row of ``X`` (numerical stability; results do not depend on it).
        Default: the weighted column means.
    """

    def __init__(
        self,
        stop: np.ndarray,
        event: np.ndarray,
        X: np.ndarray,
        weights: np.ndarray,
        strata: np.ndarray | None = None,
        start: np.ndarray | None = None,
        ties: str = "efron",
        center: np.ndarray | None = None,
    ) -> None:
        n = stop.shape[0]
        self.n, self.p = X.shape
        event = event.astype(bool)
        # one sort: stratum, then time, events before censorings at a tied time
        if strata is None:
            order = np.argsort(stop)  # without tied times the order within ties is moot
            ss = stop[order]
            if np.any(ss[1:] == ss[:-1]):
                order = np.lexsort((~event, stop))
            strata = np.zeros(n, dtype=np.int64)
        else:
            strata = strata.astype(np.int64)
            order = np.lexsort((~event, stop, strata))
            strata = strata[order]
        self.order = order
        if center is None:
            center = (weights @ X) / weights.sum()
        # sorted, centred copy, column-major: every pass below runs down contiguous columns
        # row gather first (one cache line per row), then a sequential transposing copy
        self.X = np.asfortranarray(np.asarray(X, dtype=float)[order])
        self.X -= center
        self.w = weights[order].astype(float)
        self.event = event[order]
        stop = stop[order]
        self.counting = start is not None

        # integer keys: stratum * M + rank(time); rank 0 means "-inf" (no entry time)
        times = stop if start is None else np.concatenate([stop, start[order]])
        uniq = np.unique(times)
        M = np.int64(uniq.size + 2)
        key_stop = strata * M + np.searchsorted(uniq, stop) + 1
        if start is None:
            key_start = strata * M
        else:
            key_start = strata * M + np.searchsorted(uniq, start[order]) + 1

        ev = np.flatnonzero(self.event)
        self.ev = ev
        key_ev = key_stop[ev]
        new_group = np.ones(ev.size, dtype=bool)
        new_group[1:] = key_ev[1:] != key_ev[:-1]
        gstart = np.flatnonzero(new_group)
        self.gstart = gstart
        gkey = key_ev[gstart]
        self.n_groups = gstart.size
        d = np.diff(np.append(gstart, ev.size))
        self.d = d
        self.g_of_ev = np.cumsum(new_group) - 1
        d_e = d[self.g_of_ev]
        self.ties_present = bool(np.any(d > 1))
        k_in_group = np.arange(ev.size) - gstart[self.g_of_ev]
        efron = ties == "efron" and self.ties_present
        self.frac = k_in_group / d_e if efron else np.zeros(ev.size)
        self.efron = efron
        dw = np.add.reduceat(self.w[ev], gstart)
        self.wt = dw[self.g_of_ev] / d_e  # Efron's mean weight a_e
        # sum over events of w_i x_i: does not depend on beta
        self.wx_events = self.w[ev] @ self.X[ev]

        # risk-set boundaries in the stop-sorted order: rows lo..hi-1 have stop >= t_g.
        # Events come first within a tied time, so rows lo..lo+d-1 are the group's events.
        next_stratum = (gkey // M + 1) * M
        self.lo = ev[gstart]
        self.lo_end = self.lo + d
        self.hi = np.searchsorted(key_stop, next_stratum, side="left")
        self.one_stratum = bool(np.all(self.hi == n))
        if self.counting:
            # rows that entered at or after t_g are not at risk: subtract them
            self.start_order = np.argsort(key_start, kind="stable")
            ks = key_start[self.start_order]
            self.lo_s = np.searchsorted(ks, gkey, side="left")
            self.hi_s = np.searchsorted(ks, next_stratum, side="left")
        # groups g with key_start_i < gkey_g <= key_stop_i: the groups row i is at risk in
        self.idx_hi = np.searchsorted(gkey, key_stop, side="right")
        self.idx_lo = np.searchsorted(gkey, key_start, side="right")
        # work buffers (allocating 100 MB arrays anew each iteration costs page faults)
        self._Z = np.zeros((n + 1, self.p + 1), order="F")
        self._B = np.empty((n, self.p), order="F")
        G, D, k = self.n_groups, ev.size, self.p + 1
        self._S = np.empty((G, k), order="F")
        self._E = np.empty((G, k), order="F") if self.efron else None
        self._T = np.empty((G, k), order="F")
        self._N = np.empty((D, k), order="F") if self.ties_present else None
        self._M = np.empty((D, self.p), order="F")

    # ------------------------------------------------------------------ internals
    def _risk(self, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        eta = self.X @ beta
        top = float(np.max(eta)) if eta.size else 0.0
        shift = max(float(np.mean(eta)), top - 700.0) if eta.size else 0.0
        r = np.exp(eta - shift)
        return eta, r, shift

    def _reverse_cumsum(self, v: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Buffer holding ``[v, v x]`` (rows permuted by ``rows``) summed from each row down.

        Row ``j`` of the result is the sum over rows ``>= j``; row ``n`` is zero.
        """
        Z = self._Z
        body = Z[:-1]
        if rows is None:
            body[:, 0] = v
            np.multiply(self.X, v[:, None], out=body[:, 1:])
        else:
            body[:, 0] = v[rows]
            for j in range(self.p):
                np.multiply(self.X[:, j][rows], body[:, 0], out=body[:, j + 1])
        rev = body[::-1]
        np.cumsum(rev, axis=0, out=rev)
        return Z

    def _group_terms(self, r: np.ndarray):
        """Per-event Efron terms: denominators D_e and means m_e (``mean`` is a buffer)."""
        v = self.w * r
        RS = self._reverse_cumsum(v)
        # gathers go column by column into preallocated column-major buffers: row gathers
        # from column-major arrays and fresh 50 MB allocations are what cost time here
        S = _take_rows(RS, self.lo, self._S)
        if self.efron:
            E = _take_rows(RS, self.lo_end, self._E)
            np.subtract(S, E, out=E)
        if not self.one_stratum:
            S -= _take_rows(RS, self.hi, self._T)
        if self.counting:
            # (reuses the buffer: RS is not needed any more)
            RSs = self._reverse_cumsum(v, self.start_order)
            S -= _take_rows(RSs, self.lo_s, self._T)
            S += _take_rows(RSs, self.hi_s, self._T)
        if self.efron:
            g = self.g_of_ev
            num = _take_rows(S, g, self._N)
            num -= self.frac[:, None] * _take_rows(E, g)
        elif self.ties_present:
            num = _take_rows(S, self.g_of_ev, self._N)
        else:
            num = S
        den = num[:, 0].copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            # den == 0 only when exp() underflowed for a whole risk set (absurd eta range):
            # the loglik is then -inf/NaN and Newton halves its step
            np.divide(num[:, 1:], den[:, None], out=self._M)
        return v, den, self._M

    def _by_group(self, per_event: np.ndarray) -> np.ndarray:
        if not self.ties_present:
            return per_event
        return np.add.reduceat(per_event, self.gstart, axis=0)

    def _at_risk_sum(self, per_group: np.ndarray) -> np.ndarray:
        """For each row, the sum of ``per_group`` over the groups whose risk set holds it."""
        cum = np.zeros((per_group.shape[0] + 1, *per_group.shape[1:]))
        np.cumsum(per_group, axis=0, out=cum[1:])
        return cum[self.idx_hi] - cum[self.idx_lo]

    # ------------------------------------------------------------------ public
    def evaluate(self, beta: np.ndarray) -> CoxEvaluation:
        """Log partial likelihood, score and information at ``beta`` (centred covariates)."""
        eta, r, shift = self._risk(beta)
        v, den, mean = self._group_terms(r)
        ev, wt = self.ev, self.wt
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            loglik = float(np.dot(self.w[ev], eta[ev] - shift) - np.dot(wt, np.log(den)))
            score = self.wx_events - wt @ mean
            h = wt / den
            q = v * self._at_risk_sum(self._by_group(h))
            if self.efron:
                q[ev] -= v[ev] * self._by_group(h * self.frac)[self.g_of_ev]
            np.multiply(self.X, q[:, None], out=self._B)
            info = self.X.T @ self._B
            mean *= np.sqrt(wt)[:, None]  # (a buffer; not needed unscaled any more)
            info -= mean.T @ mean
        info = 0.5 * (info + info.T)
        return CoxEvaluation(loglik=loglik, score=score, information=info)

    def score_residuals(self, beta: np.ndarray) -> np.ndarray:
        """Score residuals (``residuals.coxph(type="score")``, unweighted), input row order.

        Row ``i``'s residual is ``delta_i (x_i - xbar(t_i)) - sum_{g: i in R_g} r_i dLambda_g
        (x_i - xbar(t_g))`` with Efron's tied-event weighting as in ``coxscore2.c``.
        """
        _, r, _ = self._risk(beta)
        _, den, mean = self._group_terms(r)
        ev, g, gs, frac = self.ev, self.g_of_ev, self.gstart, self.frac
        h = self.wt / den
        H0 = np.add.reduceat(h, gs)
        H1 = np.add.reduceat(h[:, None] * mean, gs, axis=0)
        G0 = np.add.reduceat(h * frac, gs)
        G1 = np.add.reduceat((h * frac)[:, None] * mean, gs, axis=0)
        mbar = np.add.reduceat(mean, gs, axis=0) / self.d[:, None]
        C0 = self._at_risk_sum(H0)
        C1 = self._at_risk_sum(H1)
        res = -r[:, None] * (self.X * C0[:, None] - C1)
        res[ev] += (self.X[ev] - mbar[g]) + r[ev, None] * (self.X[ev] * G0[g, None] - G1[g])
        out = np.empty_like(res)
        out[self.order] = res
        return out
