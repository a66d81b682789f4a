"""Linear-time risk-set kernels for Fine-Gray regression (the forward-backward scan).

Notation (data sorted by time, :math:`d` distinct cause-1 failure times :math:`t_1<\\dots<t_d`
with :math:`d_k` failures each, :math:`m_j = \\#\\{k: t_k \\le T_j\\}`, censoring group
:math:`g_j`, :math:`G_j = \\hat G_{g_j}(T_j-)` from :mod:`.finegray_weights`):

subject :math:`j` is in the risk set of :math:`t_k` with weight

.. math::

    w_j(t_k) = 1 \\ (k < m_j), \\qquad
    w_j(t_k) = \\hat G_{g_j}(t_k-)/G_j \\ (k \\ge m_j,\\ j \\text{ failed from another cause}),

and 0 otherwise. Then
:math:`S_r(t_k) = \\sum_j w_j(t_k) e^{x_j'\\beta} x_j^{\\otimes r}` is

* a **backward** cumulative sum over the sorted subjects (those still at risk), plus
* for each censoring group a **forward** cumulative sum of
  :math:`e^{x_j'\\beta} x_j / G_j` over competing failures before :math:`t_k`, multiplied by
  :math:`\\hat G_g(t_k-)`

(Kawaguchi, Shih, Suchard 2020, Biometrics 77: 1254-1265, the method of R ``fastcmprsk``).
One evaluation of the log pseudo-likelihood, score and information costs
:math:`O(n p^2 + d p^2)`; the information uses
:math:`\\sum_k d_k S_2(t_k)/S_0(t_k) = \\sum_j c_j e^{x_j'\\beta} x_j x_j'` with
:math:`c_j = \\sum_k d_k w_j(t_k)/S_0(t_k)`, itself a prefix/suffix sum, so no
:math:`n\\times p\\times p` array is ever formed.

The sandwich variance (``crr``'s ``var``, Fortran ``crrvv``) needs, per subject, the
score residual :math:`\\eta_i` and the censoring term :math:`\\psi_i`; both reduce to the same
prefix/suffix sums (see :func:`sandwich_terms`). Reference: Fine and Gray (1999), JASA 94:
496-509, Section 3; R ``cmprsk::crr``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drivervte.survival.finegray_weights import censoring_km, eval_censoring

__all__ = ["FGData", "fast_kernel", "fast_loglik", "prepare", "psi_terms", "sandwich_terms"]


@dataclass
class FGData:
    """Sorted, precomputed problem (internal). Covariates are column-centred."""

    time: np.ndarray  # (n,) sorted
    ici: np.ndarray  # (n,) 1 = cause of interest, 2 = other cause, 0 = censored
    X: np.ndarray  # (n, p) fixed covariates, centred
    X2: np.ndarray  # (n, p2) covariates multiplied by tf, centred
    tfs: np.ndarray  # (d, p2) tf evaluated at the distinct failure times
    xmean: np.ndarray  # (p + p2,) centring constants
    group: np.ndarray  # (n,) censoring group 0..ncg-1
    ncg: int
    uft: np.ndarray  # (d,) distinct cause-1 failure times
    dk: np.ndarray  # (d,) failures at each
    dkg: np.ndarray  # (ncg, d) failures at each, by censoring group
    start: np.ndarray  # (d,) first sorted index with time >= uft[k]
    m: np.ndarray  # (n,) number of failure times <= time
    Gown: np.ndarray  # (n,) G_{g_j}(T_j-)
    Gk: np.ndarray  # (ncg, d) G_g(t_k-)
    event: np.ndarray  # (n,) bool, ici == 1
    comp: list  # per group: sorted indices of competing failures
    order: np.ndarray  # sorted position -> input row

    @property
    def p(self) -> int:
        return self.X.shape[1] + self.X2.shape[1]


def prepare(time, ici, X, group, X2=None, tf=None) -> FGData:
    """Sort once, centre covariates, compute censoring weights and index arrays."""
    order = np.argsort(time, kind="stable")
    t = np.asarray(time, dtype=float)[order]
    ic = np.asarray(ici)[order]
    Xs = np.asarray(X, dtype=float)[order]
    grp_raw = np.asarray(group)[order]
    ug, grp = np.unique(grp_raw, return_inverse=True)
    ncg = ug.size
    n = t.size
    X2s = np.zeros((n, 0)) if X2 is None else np.asarray(X2, dtype=float)[order]
    xmean = np.concatenate((Xs.mean(axis=0), X2s.mean(axis=0))) if n else np.zeros(0)
    p1 = Xs.shape[1]
    Xs = Xs - xmean[:p1]
    X2s = X2s - xmean[p1:]
    event = ic == 1
    uft, dk = np.unique(t[event], return_counts=True)
    d = uft.size
    dkg = np.zeros((ncg, d))
    kev = np.searchsorted(uft, t[event])
    np.add.at(dkg, (grp[event], kev), 1.0)
    start = np.searchsorted(t, uft, side="left")
    m = np.searchsorted(uft, t, side="right")
    Gown = np.empty(n)
    Gk = np.empty((ncg, d))
    cens = ic == 0
    comp = []
    for g in range(ncg):
        sel = grp == g
        knots, vals = censoring_km(t[sel], cens[sel])
        Gown[sel] = eval_censoring(knots, vals, t[sel])
        Gk[g] = eval_censoring(knots, vals, uft)
        comp.append(np.flatnonzero(sel & (ic == 2)))
    if tf is None or X2s.shape[1] == 0:
        tfs = np.zeros((d, X2s.shape[1]))
    else:
        tfs = np.asarray(tf(uft), dtype=float).reshape(d, X2s.shape[1])
    return FGData(
        t,
        ic,
        Xs,
        X2s,
        tfs,
        xmean,
        grp,
        ncg,
        uft,
        dk.astype(float),
        dkg,
        start,
        m,
        Gown,
        Gk,
        event,
        comp,
        order,
    )


def _risk_sums(D: FGData, e: np.ndarray, need_x: bool = True):
    """S0 (d,) and S1 (d, p) at every failure time: backward + forward cumulative sums."""
    X = D.X
    cols = [e[:, None]]
    if need_x:
        cols.append(e[:, None] * X)
    W = np.hstack(cols) if len(cols) > 1 else cols[0]
    # backward: subjects with time >= t_k are the segments from start[k] on
    seg = np.add.reduceat(W, D.start, axis=0)
    S = np.cumsum(seg[::-1], axis=0)[::-1]
    # forward: competing failures before t_k, weighted G_g(t_k-)/G_j
    for g, idx in enumerate(D.comp):
        if idx.size == 0:
            continue
        Wc = W[idx] / D.Gown[idx, None]
        cs = np.cumsum(Wc, axis=0)
        pos = np.searchsorted(D.m[idx], np.arange(D.uft.size), side="right") - 1
        P = np.where(pos[:, None] >= 0, cs[np.maximum(pos, 0)], 0.0)
        S = S + D.Gk[g][:, None] * P
    return S


def fast_loglik(D: FGData, beta: np.ndarray) -> float:
    """Log pseudo-likelihood only (for step-halving); O(n p)."""
    eta = D.X @ beta
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(eta)
        S0 = _risk_sums(D, e, need_x=False)[:, 0]
        ll = eta[D.event].sum() - np.dot(D.dk, np.log(S0))
    return float(ll) if np.isfinite(ll) else -np.inf


def fast_kernel(D: FGData, beta: np.ndarray):
    """Log pseudo-likelihood, score and information at ``beta``; O(n p^2 + d p^2)."""
    X = D.X
    eta = X @ beta
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(eta)
        S = _risk_sums(D, e)
        S0 = S[:, 0]
        xbar = S[:, 1:] / S0[:, None]
        ll = eta[D.event].sum() - np.dot(D.dk, np.log(S0))
        score = X[D.event].sum(axis=0) - D.dk @ xbar
        c = _risk_coef(D, D.dk / S0)
        info = (X * (e * c)[:, None]).T @ X - (xbar * D.dk[:, None]).T @ xbar
    return float(ll), score, info, S0, xbar


def _risk_coef(D: FGData, a: np.ndarray) -> np.ndarray:
    """c_j = sum_k a_k w_j(t_k) for a per-failure-time vector ``a`` (prefix + suffix sums)."""
    A = np.concatenate(([0.0], np.cumsum(a)))
    c = A[D.m]
    for g, idx in enumerate(D.comp):
        if idx.size == 0:
            continue
        T = np.concatenate((np.cumsum((D.Gk[g] * a)[::-1])[::-1], [0.0]))
        c[idx] += T[D.m[idx]] / D.Gown[idx]
    return c


def _risk_coef_vec(D: FGData, a: np.ndarray) -> np.ndarray:
    """As :func:`_risk_coef` for a (d, p) matrix ``a``: returns (n, p)."""
    A = np.vstack((np.zeros((1, a.shape[1])), np.cumsum(a, axis=0)))
    c = A[D.m]
    for g, idx in enumerate(D.comp):
        if idx.size == 0:
            continue
        ga = D.Gk[g][:, None] * a
        T = np.vstack((np.cumsum(ga[::-1], axis=0)[::-1], np.zeros((1, a.shape[1]))))
        c[idx] += T[D.m[idx]] / D.Gown[idx, None]
    return c


def sandwich_terms(D: FGData, beta: np.ndarray):
    """Per-subject :math:`\\eta_i + \\psi_i` (n, p) and information, fixed covariates.

    .. math::

        \\eta_i = \\int (x_i - \\bar x(t))\\, dN_i(t)
                 - \\sum_k d_k w_i(t_k) e^{x_i'\\beta} (x_i - \\bar x_k)/S_0(t_k)

    computed as :math:`\\delta_i (x_i-\\bar x_{k(i)}) - e^{x_i'\\beta}(x_i c_i - b_i)` with
    :math:`c_i = \\sum_k d_k w_i(t_k)/S_{0k}`, :math:`b_i = \\sum_k d_k w_i(t_k)\\bar x_k/S_{0k}`
    (prefix/suffix sums). :math:`\\psi_i` is in :func:`psi_terms`.
    """
    ll, score, info, S0, xbar = fast_kernel(D, beta)
    X = D.X
    e = np.exp(X @ beta)
    a = D.dk / S0
    c = _risk_coef(D, a)
    b = _risk_coef_vec(D, a[:, None] * xbar)
    res = -(e[:, None] * (X * c[:, None] - b))
    ev = D.event
    res[ev] += X[ev] - xbar[D.m[ev] - 1]
    # q_g(u) = R1_g(u) a_g(u) - R0_g(u) b_g(u) at each censoring time u of group g
    qfun = []
    for g, idx in enumerate(D.comp):
        ag = D.dkg[g] * D.Gk[g] / S0  # (d,)
        A = np.concatenate((np.cumsum(ag[::-1])[::-1], [0.0]))
        B = np.vstack(
            (np.cumsum((ag[:, None] * xbar)[::-1], axis=0)[::-1], np.zeros((1, X.shape[1])))
        )
        if idx.size:
            w = e[idx] / D.Gown[idx]
            R0 = np.concatenate(([0.0], np.cumsum(w)))
            R1 = np.vstack((np.zeros((1, X.shape[1])), np.cumsum(w[:, None] * X[idx], axis=0)))
        else:
            R0 = np.zeros(1)
            R1 = np.zeros((1, X.shape[1]))
        comp_t = D.time[idx]

        def q(u, A=A, B=B, R0=R0, R1=R1, comp_t=comp_t):
            kk = np.searchsorted(D.uft, u, side="left")  # failure times >= u
            jj = np.searchsorted(comp_t, u, side="left")  # competing failures < u
            return R1[jj] * A[kk][:, None] - R0[jj][:, None] * B[kk]

        qfun.append(q)
    res += psi_terms(D, qfun)
    return res, info, ll, score, S0


def psi_terms(D: FGData, qfun) -> np.ndarray:
    """Censoring term :math:`\\psi_i` of ``crrvv`` given :math:`q_g(u)` per group.

    .. math::

        \\psi_i = \\int q_g(u)/Y_g(u)\\, dM^c_i(u)
                = \\delta^c_i\\, q_g(T_i)/Y_g(T_i) - \\sum_{u \\le T_i} c_g(u) q_g(u)/Y_g(u)^2

    over the distinct censoring times :math:`u` of subject i's group :math:`g`, with
    :math:`Y_g(u)` the number of the group with time :math:`\\ge u` and :math:`c_g(u)` the
    number censored at :math:`u`. ``qfun[g](u)`` returns :math:`q_g` at times ``u`` (n_u, p).
    """
    n, p = D.time.size, D.p
    psi = np.zeros((n, p))
    for g in range(D.ncg):
        sel = np.flatnonzero(D.group == g)
        tg = D.time[sel]
        cens = D.ici[sel] == 0
        if not cens.any():
            continue
        u, cu = np.unique(tg[cens], return_counts=True)
        Y = tg.size - np.searchsorted(tg, u, side="left")
        q = qfun[g](u)  # (nu, p)
        cum = np.cumsum(q * (cu / Y**2)[:, None], axis=0)
        pos = np.searchsorted(u, tg, side="right") - 1
        term = np.where(pos[:, None] >= 0, -cum[np.maximum(pos, 0)], 0.0)
        ci = np.flatnonzero(cens)
        ui = np.searchsorted(u, tg[ci])
        term[ci] += q[ui] / Y[ui][:, None]
        psi[sel] = term
    return psi
