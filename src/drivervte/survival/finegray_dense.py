"""Fine-Gray kernels for time-varying covariates ``cov2 * tf(t)``: one pass per failure time.

With ``cov2`` the linear predictor :math:`x_j(t_k)'\\beta = x_{1j}'\\beta_1 +
(x_{2j}\\circ tf(t_k))'\\beta_2` changes with the failure time, so the cumulative sums of
:mod:`.finegray_scan` no longer apply. Here every distinct cause-1 failure time :math:`t_k`
is visited once and the risk-set sums are formed over all :math:`n` subjects with vector
operations: :math:`O(n\\,d\\,p^2)` time, :math:`O(n p)` memory. ``crr`` evaluates
``tf`` at the distinct failure times (``tfs <- tf(uft)``) and so do we; a competing-risk
subject carries its covariates at the current failure time, as in ``crr``'s ``covt``.

The same formulas as the fast path (Fine and Gray 1999; R ``cmprsk::crr``, Fortran
``crrfsv``, ``crrf``, ``crrvv``); with no ``cov2`` the results equal the fast path's, which
the tests check.
"""

from __future__ import annotations

import numpy as np

from drivervte.survival.finegray_scan import FGData, add_psi

__all__ = ["dense_eval"]


def _weights(D: FGData, k: int) -> np.ndarray:
    w = (D.m > k).astype(float)
    for g, idx in enumerate(D.comp):
        if idx.size:
            past = D.m[idx] <= k
            w[idx[past]] = D.Gk[g, k] / D.Gown[idx[past]]
    return w


def _cens_times(D: FGData, g: int) -> np.ndarray:
    sel = D.group == g
    tg = D.time[sel]
    return np.unique(tg[D.ici[sel] == 0])


def dense_eval(D: FGData, beta: np.ndarray, what: str = "kernel"):
    """Evaluate at ``beta``. ``what``: 'loglik', 'kernel' (ll, score, info, S0) or 'variance'.

    'variance' returns (eta + psi residuals (n, p), information, loglik, score, S0).
    """
    p1 = D.X.shape[1]
    p = D.p
    n = D.time.size
    b1, b2 = beta[:p1], beta[p1:]
    base = D.X @ b1
    ll = 0.0
    score = np.zeros(p)
    info = np.zeros((p, p))
    d = D.uft.size
    S0s = np.empty(d)
    res = np.zeros((n, p)) if what == "variance" else None
    if what == "variance":
        cens_u = [_cens_times(D, g) for g in range(D.ncg)]
        qarr = [np.zeros((u.size, p)) for u in cens_u]
    for k in range(d):
        Z = np.hstack((D.X, D.X2 * D.tfs[k])) if D.X2.shape[1] else D.X
        eta = base + (D.X2 @ (D.tfs[k] * b2) if D.X2.shape[1] else 0.0)
        w = _weights(D, k)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            ew = w * np.exp(eta)
            S0 = ew.sum()
            S0s[k] = S0
            evk = np.flatnonzero(D.event & (D.m == k + 1))
            ll += eta[evk].sum() - D.dk[k] * np.log(S0)
        if what == "loglik":
            continue
        S1 = Z.T @ ew
        xbar = S1 / S0
        score += Z[evk].sum(axis=0) - D.dk[k] * xbar
        Zc = Z - xbar
        info += D.dk[k] * ((Zc * ew[:, None]).T @ Zc) / S0
        if what != "variance":
            continue
        res -= (D.dk[k] / S0) * ew[:, None] * Zc
        res[evk] += Zc[evk]
        for g, idx in enumerate(D.comp):
            u = cens_u[g]
            if idx.size == 0 or u.size == 0 or D.dkg[g, k] == 0:
                continue
            c = ew[idx, None] * Zc[idx]  # competing failures before u <= t_k enter q
            cs = np.vstack((np.zeros((1, p)), np.cumsum(c, axis=0)))
            jj = np.searchsorted(D.time[idx], u, side="left")
            upto = u <= D.uft[k]
            qarr[g][upto] += (D.dkg[g, k] / S0) * cs[jj[upto]]
    if what == "loglik":
        return float(ll) if np.isfinite(ll) else -np.inf
    if what == "kernel":
        return float(ll), score, info, S0s
    add_psi(D, [lambda u, q=q: q for q in qarr], res)
    return res, info, float(ll), score, S0s
