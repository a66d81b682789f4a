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
backward scans; the score residuals follow ``coxscore2.c`` / ``agscore3.c``.

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


def _reverse_cumsum(a: np.ndarray) -> np.ndarray:
    """``out[j] = sum(a[j:])`` along axis 0, with one extra zero row at the end."""
    out = np.zeros((a.shape[0] + 1, *a.shape[1:]), dtype=float)
    out[:-1] = np.cumsum(a[::-1], axis=0)[::-1]
    return out


class CoxProblem:
    """Sorted, indexed data of one Cox model; evaluates the partial likelihood linearly in n.

    Parameters
    ----------
    stop, event:
        Exit (event or censoring) times and event indicators (bool), shape (n,).
    X:
        Covariates, shape (n, p). Centre them first (the caller does) for numerical stability.
    weights:
        Positive case weights, shape (n,).
    strata:
        Integer stratum codes, shape (n,), or None (one stratum).
    start:
        Entry times for counting-process data ``(start, stop]``, or None (right-censored).
    ties:
        ``"efron"`` or ``"breslow"``.
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
    ) -> None:
        n = stop.shape[0]
        strata = np.zeros(n, dtype=np.int64) if strata is None else strata.astype(np.int64)
        event = event.astype(bool)
        # one sort: stratum, then time, events before censorings at a tied time
        order = np.lexsort((~event, stop, strata))
        self.n, self.p = X.shape
        self.order = order
        self.X = np.ascontiguousarray(X[order], dtype=float)
        self.w = weights[order].astype(float)
        self.event = event[order]
        strata = strata[order]
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
        self.g_of_ev = np.cumsum(new_group) - 1
        k_in_group = np.arange(ev.size) - gstart[self.g_of_ev]
        d_e = d[self.g_of_ev]
        self.frac = k_in_group / d_e if ties == "efron" else np.zeros(ev.size)
        dw = np.add.reduceat(self.w[ev], gstart)
        self.wt = dw[self.g_of_ev] / d_e  # Efron's mean weight a_e
        self.d = d

        # risk-set boundaries in the stop-sorted order (rows lo..hi-1 have stop >= t_g)
        next_stratum = (gkey // M + 1) * M
        self.lo = np.searchsorted(key_stop, gkey, side="left")
        self.hi = np.searchsorted(key_stop, next_stratum, side="left")
        if self.counting:
            # rows that entered at or after t_g are not at risk: subtract them
            self.start_order = np.argsort(key_start, kind="stable")
            ks = key_start[self.start_order]
            self.lo_s = np.searchsorted(ks, gkey, side="left")
            self.hi_s = np.searchsorted(ks, next_stratum, side="left")
        # groups g with key_start_i < gkey_g <= key_stop_i: the groups row i is at risk in
        self.idx_hi = np.searchsorted(gkey, key_stop, side="right")
        self.idx_lo = np.searchsorted(gkey, key_start, side="right")

    # ------------------------------------------------------------------ internals
    def _risk(self, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        eta = self.X @ beta
        top = float(np.max(eta)) if eta.size else 0.0
        shift = max(float(np.mean(eta)), top - 700.0) if eta.size else 0.0
        r = np.exp(eta - shift)
        return eta, r, shift

    def _group_terms(self, r: np.ndarray):
        """Per-event Efron terms: denominators D_e and means m_e."""
        v = self.w * r
        Z = np.empty((self.n, self.p + 1))
        Z[:, 0] = v
        np.multiply(self.X, v[:, None], out=Z[:, 1:])
        RS = _reverse_cumsum(Z)
        S = RS[self.lo] - RS[self.hi]
        if self.counting:
            RSs = _reverse_cumsum(Z[self.start_order])
            S -= RSs[self.lo_s] - RSs[self.hi_s]
        E = np.add.reduceat(Z[self.ev], self.gstart, axis=0) if self.ev.size else S[:0]
        g = self.g_of_ev
        num = S[g] - self.frac[:, None] * E[g]
        den = num[:, 0]
        mean = num[:, 1:] / den[:, None]
        return v, den, mean

    def _at_risk_sum(self, per_group: np.ndarray) -> np.ndarray:
        """For each row, the sum of ``per_group`` over the groups whose risk set holds it."""
        shape = (1, *per_group.shape[1:])
        cum = np.concatenate([np.zeros(shape), np.cumsum(per_group, axis=0)])
        return cum[self.idx_hi] - cum[self.idx_lo]

    # ------------------------------------------------------------------ public
    def evaluate(self, beta: np.ndarray) -> CoxEvaluation:
        """Log partial likelihood, score and information at ``beta`` (centred covariates)."""
        eta, r, shift = self._risk(beta)
        v, den, mean = self._group_terms(r)
        ev, wt = self.ev, self.wt
        with np.errstate(divide="ignore", invalid="ignore"):
            loglik = float(np.dot(self.w[ev], eta[ev] - shift) - np.dot(wt, np.log(den)))
            score = self.w[ev] @ self.X[ev] - wt @ mean
            h = wt / den
            H0 = np.add.reduceat(h, self.gstart) if ev.size else h
            G0 = np.add.reduceat(h * self.frac, self.gstart) if ev.size else h
            q = v * self._at_risk_sum(H0)
            q[ev] -= v[ev] * G0[self.g_of_ev]
            info = self.X.T @ (self.X * q[:, None]) - mean.T @ (mean * wt[:, None])
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
