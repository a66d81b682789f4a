r"""Many random-effects meta-analyses at once: REML, DL and EE, vectorised over columns.

:func:`fit_batch` fits ``B`` intercept-only models ``y_ij ~ N(mu_j, v_ij + tau2_j)``
(``i`` = study, ``j`` = analysis) given ``k x B`` arrays of effect sizes and sampling
variances. Every column gets exactly what ``metafor::rma.uni(yi, vi, method=...)`` returns
with its default ``control``, because the same algorithm is run, column by column in
lock-step:

REML (Fisher scoring, as ``rma.uni``)
    Start at the Hedges (HE) estimate ``max(0, (sum (y - ybar)^2 - (1 - 1/k) sum v)/(k-1))``.
    With ``w = 1/(v + tau2)``, ``P = W - w w'/sum w`` the update is

    .. math::

        \Delta = \frac{y' P P y - \mathrm{tr}(P)}{\mathrm{tr}(PP)},\qquad
        \mathrm{tr}(P) = S_1 - S_2/S_1,\quad
        \mathrm{tr}(PP) = S_2 - 2 S_3/S_1 + (S_2/S_1)^2

    (``S_r = sum w^r``; ``y'PPy = sum w^2 (y - mu_w)^2``). A step that would make ``tau2``
    negative is halved until it does not (step-halving); iteration stops when
    ``|tau2_new - tau2_old| <= threshold`` (``1e-5``) and fails after ``maxiter`` (100)
    steps. After convergence metafor's ``ll0check`` is applied: if the restricted
    log-likelihood at ``tau2 = 0`` exceeds the one at the estimate by more than
    ``.Machine$double.eps^0.25`` (and ``tau2 > threshold``) the estimate is set to 0.
    ``se_tau2 = sqrt(2 / tr(PP))``.
DL (DerSimonian & Laird 1986)
    ``tau2 = max(0, (Q - (k-1)) / (S_1 - S_2/S_1))`` with fixed-effect weights ``1/v``.
EE
    ``tau2 = 0``.

Then ``mu = sum w y / sum w``, ``se = 1/sqrt(sum w)``, Wald z-test and CI; Cochran's Q with
weights ``1/v``; for REML/DL ``I2 = 100 tau2/(vt + tau2)``, ``H2 = tau2/vt + 1`` with the
typical variance ``vt = (k-1)/(S_1 - S_2/S_1)`` (Higgins & Thompson 2002), for EE
``I2 = max(0, 100 (Q - (k-1))/Q)``, ``H2 = Q/(k-1)``; with ``k = 1``: ``tau2 = 0``, ``Q = 0``,
``p = 1``, ``I2 = 0``, ``H2 = 1`` (metafor's ``k = 1`` rule).

**Unequal k.** A cell that is NaN in ``yi`` or ``vi`` is not a study of that column, so
columns may hold different numbers of studies (pad with NaN). ``k`` per column is returned.

**Failures never abort the batch.** A column with no study, a non-positive or infinite
``vi``, an infinite ``yi``, or Fisher scoring that does not converge gets
``converged=False``, NaN estimates and a ``reason``; one :class:`ConvergenceWarning`
summarises non-convergence.

References
----------
Viechtbauer W (2005). Bias and efficiency of meta-analytic variance estimators in the
random-effects model. *J Educ Behav Stat* 30:261-293.
DerSimonian R, Laird N (1986). *Control Clin Trials* 7:177-188.
R reference: ``metafor::rma.uni`` (metafor 3.8), one call per column.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import chi2, norm

from drivervte.errors import ConvergenceWarning, InputError
from drivervte.results import Result, fmt_num, format_table

METHODS = ("REML", "DL", "EE")
_LL0_TOL = np.finfo(float).eps ** 0.25  # R's .Machine$double.eps^0.25


@dataclass
class BatchResult(Result):
    """Per-column results of :func:`fit_batch`, each an array of length ``B``.

    ``to_dict()`` keys (stable): ``method, level, B, k, tau2, se_tau2, estimate, se,
    statistic, pvalue, ci_lower, ci_upper, Q, Q_pvalue, I2, H2, converged, iterations,
    reason`` (lists over columns; NaN -> null, with the column's ``reason``). ``I2`` in
    percent. ``iterations`` counts Fisher-scoring steps (0 for DL/EE and ``k = 1``).
    """

    method: str
    level: float
    k: np.ndarray
    tau2: np.ndarray
    se_tau2: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    Q: np.ndarray
    Q_pvalue: np.ndarray
    I2: np.ndarray
    H2: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    reason: list[str] = field(default_factory=list)

    @property
    def B(self) -> int:
        """Number of analyses (columns)."""
        return int(self.k.shape[0])

    def to_dict(self) -> dict[str, Any]:
        out = {"method": self.method, "level": self.level, "B": self.B}
        out.update(super().to_dict())
        return out

    def to_frame(self):
        """One row per analysis as a pandas DataFrame (same columns as ``to_dict``)."""
        import pandas as pd

        cols = ["k", "tau2", "se_tau2", "estimate", "se", "statistic", "pvalue", "ci_lower",
                "ci_upper", "Q", "Q_pvalue", "I2", "H2", "converged", "iterations", "reason"]
        return pd.DataFrame({c: getattr(self, c) for c in cols})

    def summary(self) -> str:
        n_fail = int((~self.converged).sum())
        head = (f"{self.method} batch: {self.B} analyses, k from {int(self.k.min())} to "
                f"{int(self.k.max())}; {self.B - n_fail} converged, {n_fail} failed")
        show = min(self.B, 10)
        rows = [[str(j), int(self.k[j]), self.tau2[j], self.estimate[j], self.se[j],
                 self.I2[j], "yes" if self.converged[j] else self.reason[j]]
                for j in range(show)]
        table = format_table(["column", "k", "tau2", "estimate", "se", "I2", "converged"], rows)
        more = f"\n... {self.B - show} more columns" if self.B > show else ""
        return head + "\n" + table + more + f"\nlevel = {fmt_num(self.level, 1)}%"


def _as_2d(x: ArrayLike, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise InputError("must be numeric (NaN marks an absent study)", column=name) from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InputError(f"must be a k x B array (studies x analyses), got {arr.ndim} dims",
                         column=name)
    return arr


def _halve(tau2: np.ndarray, adj: np.ndarray) -> np.ndarray:
    """metafor's step-halving ``while (tau2 + adj < 0) adj <- adj/2``, exactly.

    Halving is exact in binary floating point, so ``adj * 2**-n`` equals ``n`` halvings;
    the smallest ``n`` is found from ``log2(-adj/tau2)`` and checked in floating point.
    """
    bad = tau2 + adj < 0
    if not bad.any():
        return adj
    adj = adj.copy()
    zero = bad & (tau2 == 0)
    adj[zero] = 0.0  # halving until underflow to -0: tau2 stays 0
    pos = np.flatnonzero(bad & (tau2 > 0))
    if pos.size:
        t, a = tau2[pos], adj[pos]
        n = np.maximum(1, np.floor(np.log2(-a / t)).astype(int) - 1)
        cand = np.ldexp(a, -n)
        fail = t + cand < 0
        while fail.any():
            n[fail] += 1
            cand[fail] = np.ldexp(a[fail], -n[fail])
            fail = t + cand < 0
        adj[pos] = cand
    return adj


def _reml_ll(y, v, m, tau2):
    """Restricted log-likelihood (metafor's form) per column, intercept-only model."""
    w = m / (v + tau2)
    sw = w.sum(0)
    mu = (w * y).sum(0) / sw
    rss = (w * (y - mu) ** 2).sum(0)
    kk = m.sum(0)
    logv = np.where(m > 0, np.log(v + tau2), 0.0).sum(0)
    return -0.5 * (kk - 1) * np.log(2 * np.pi) - 0.5 * logv - 0.5 * np.log(sw) - 0.5 * rss


def _reml(y, v, m, kk, threshold, maxiter, stepadj):
    """Fisher scoring for all columns of (y, v, m); returns tau2, iterations, converged.

    Columns stop individually; the working arrays are compacted to the still-active
    columns only when fewer than half of them remain, so most steps do no gathering.
    Absent cells get ``v = inf`` (weight exactly 0), so no mask enters the loop.
    """
    B = y.shape[1]
    ybar = (y * m).sum(0) / kk
    rss = (m * (y - ybar) ** 2).sum(0)
    tr_pv = (1 - 1 / kk) * (v * m).sum(0)
    tau2 = np.maximum(0.0, (rss - tr_pv) / (kk - 1))
    it = np.zeros(B, dtype=int)
    conv = np.ones(B, dtype=bool)
    idx = np.arange(B)  # columns held in the working arrays
    yw = y
    vw = np.where(m > 0, v, np.inf)
    live = np.ones(B, dtype=bool)  # still iterating, over the working columns
    tw = tau2.copy()
    while live.any():
        if live.sum() < 0.5 * idx.size:
            tau2[idx] = tw
            keep = np.flatnonzero(live)
            idx, yw, vw, tw, live = idx[keep], yw[:, keep], vw[:, keep], tw[keep], live[keep]
        w = 1.0 / (vw + tw)
        s1 = w.sum(0)
        w2 = w * w
        s2 = w2.sum(0)
        s3 = (w2 * w).sum(0)
        mu = (w * yw).sum(0) / s1
        d = yw - mu
        ypy = (w2 * (d * d)).sum(0)
        r = s2 / s1
        tr_p = s1 - r
        tr_pp = s2 - 2 * s3 / s1 + r * r
        with np.errstate(invalid="ignore", divide="ignore"):
            adj = (ypy - tr_p) / tr_pp * stepadj
        adj = np.where(np.isnan(adj), 0.0, adj)
        adj = _halve(tw, adj)
        new = tw + adj
        change = np.abs(tw - new)
        tw = np.where(live, new, tw)
        li = idx[live]
        it[li] += 1
        over = live & (it[idx] > maxiter)
        conv[idx[over]] = False
        live = live & ~over & (change > threshold)
    tau2[idx] = tw
    return tau2, it, conv


def _score(y, v, m, t):
    """Twice the REML score in tau2 (up to a positive factor): y'PPy - tr(P)."""
    w = m / (v + t)
    s1 = w.sum(0)
    w2 = w * w
    mu = (w * y).sum(0) / s1
    return (w2 * (y - mu) ** 2).sum(0) - (s1 - w2.sum(0) / s1)


def _score_d(y, v, m, t):
    """REML score ``S = y'PPy - tr(P)`` and its derivative ``S' = tr(PP) - 2 y'PPPy``."""
    w = m / (v + t)
    s1 = w.sum(0)
    w2 = w * w
    s2 = w2.sum(0)
    r = s2 / s1
    e = w * (y - (w * y).sum(0) / s1)  # P y
    ee = (e * e).sum(0)  # y'PPy
    we = (w * e).sum(0)
    epe = (w * e * e).sum(0) - we * we / s1  # y'PPPy
    tr_pp = s2 - 2 * (w2 * w).sum(0) / s1 + r * r
    return ee - (s1 - r), tr_pp - 2 * epe


def reml_tau2_exact(yi: ArrayLike, vi: ArrayLike, *, maxiter: int = 200) -> np.ndarray:
    """REML tau2 to machine precision: a root of the REML score, vectorised over columns.

    Columns whose score ``S(0) = y'P_0P_0y - tr(P_0)`` is ``<= 0`` get 0 (boundary maximum).
    Otherwise the bracket ``[0, hi]`` is widened by doubling until ``S(hi) < 0`` and the
    root is found by safeguarded Newton steps (``S' = tr(PP) - 2 y'PPPy``; a step leaving
    the bracket, or taken where ``S' >= 0``, is replaced by bisection), stopping when the
    bracket or the step is within a few ulps. A root of the score is the REML maximum when
    the restricted likelihood is unimodal, the usual case for intercept-only models (the
    rare multimodal case is what metafor's ``ll0check`` guards against). NaN cells mark
    absent studies, as in :func:`fit_batch`; present ``vi`` must be > 0.

    Used by :func:`fit_batch` (``fallback=True``, ``exact=True``) and as the "exact"
    reference in ``benchmarks/bench_meta_batch.py``.
    """
    y = _as_2d(yi, "yi")
    v = _as_2d(vi, "vi")
    m = (~(np.isnan(y) | np.isnan(v))).astype(float)
    y = np.where(m > 0, y, 0.0)
    v = np.where(m > 0, v, 1.0)
    B = y.shape[1]
    out = np.zeros(B)
    with np.errstate(invalid="ignore", divide="ignore"):
        inner = np.flatnonzero((m.sum(0) > 1) & (_score(y, v, m, 0.0) > 0))
        if inner.size == 0:
            return out
        y, v, m = y[:, inner], v[:, inner], m[:, inner]
        n = inner.size
        lo = np.zeros(n)
        hi = np.ones(n)
        for _ in range(1100):
            up = _score(y, v, m, hi) > 0
            if not up.any():
                break
            lo = np.where(up, hi, lo)
            hi = np.where(up, 2 * hi, hi)
        t = 0.5 * (lo + hi)
        act = np.arange(n)
        for _ in range(maxiter):
            sc, d = _score_d(y[:, act], v[:, act], m[:, act], t[act])
            a_lo, a_hi, a_t = lo[act], hi[act], t[act]
            a_lo = np.where(sc > 0, a_t, a_lo)
            a_hi = np.where(sc > 0, a_hi, a_t)
            nt = a_t - sc / d
            bad = ~(d < 0) | ~(nt > a_lo) | ~(nt < a_hi) | ~np.isfinite(nt)
            nt = np.where(bad, 0.5 * (a_lo + a_hi), nt)
            nt = np.where(sc == 0, a_t, nt)
            lo[act], hi[act], t[act] = a_lo, a_hi, nt
            tol = 4 * np.spacing(np.maximum(np.abs(nt), np.finfo(float).tiny))
            done = (np.abs(nt - a_t) <= tol) | (a_hi - a_lo <= tol) | (sc == 0)
            act = act[~done]
            if act.size == 0:
                break
    out[inner] = t
    return out


def fit_batch(
    yi: ArrayLike,
    vi: ArrayLike,
    method: str = "REML",
    *,
    level: float = 95,
    threshold: float = 1e-5,
    maxiter: int = 100,
    stepadj: float = 1.0,
    ll0check: bool = True,
    fallback: bool = False,
    exact: bool = False,
) -> BatchResult:
    """Fit ``B`` intercept-only meta-analyses at once (columns of ``k x B`` arrays).

    Parameters
    ----------
    yi, vi:
        ``k x B`` effect sizes and sampling variances (a 1-D array is one analysis). NaN in
        either marks an absent study, so columns may have different ``k``.
    method:
        ``"REML"`` (default), ``"DL"`` or ``"EE"`` (``"FE"`` is accepted for EE).
    level:
        Confidence level in percent (below 1: a fraction).
    threshold, maxiter, stepadj, ll0check:
        metafor's ``control`` settings for Fisher scoring (defaults as ``rma.uni``).
    fallback:
        REML only. ``False`` (default): a column where Fisher scoring does not converge
        is reported as failed, as ``rma.uni`` stops with an error. ``True``: such columns
        get the exact REML estimate from :func:`reml_tau2_exact` (``converged=True``, with
        the substitution stated in ``reason``). Fisher scoring needs more than 100 steps
        for roughly 0.3% of simulated k = 20 analyses (``benchmarks/bench_meta_batch.py``).

    Returns
    -------
    BatchResult
        See the module docstring for the formulas and failure handling.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> v = rng.uniform(0.01, 0.1, size=(20, 1000))
    >>> y = rng.normal(0.2, np.sqrt(v + 0.05))
    >>> res = fit_batch(y, v)
    >>> bool(res.converged.all()), res.tau2.shape
    (True, (1000,))
    """
    meth = str(method).upper()
    if meth == "FE":
        meth = "EE"
    if meth not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}", column="method")
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 100:
        raise InputError("level must be a percentage between 0 and 100, e.g. 95", column="level")
    pct = 100 * level if level < 1 else float(level)
    if not (threshold > 0) or int(maxiter) < 1 or not (stepadj > 0):
        raise InputError("threshold and stepadj must be > 0, maxiter >= 1", column="control")
    y = _as_2d(yi, "yi")
    v = _as_2d(vi, "vi")
    if y.shape != v.shape:
        raise InputError(f"yi has shape {y.shape} but vi has shape {v.shape}", column="vi")
    B = y.shape[1]
    present = ~(np.isnan(y) | np.isnan(v))
    kk = present.sum(0)
    reason = [""] * B
    bad = np.zeros(B, dtype=bool)
    with np.errstate(invalid="ignore"):
        nonpos = (present & (v <= 0)).any(0)
        inf = (present & (~np.isfinite(y) | ~np.isfinite(v))).any(0)
    for j in np.flatnonzero(kk == 0):
        reason[j], bad[j] = "no studies (all NaN)", True
    for j in np.flatnonzero(nonpos & ~bad):
        reason[j], bad[j] = "non-positive sampling variance", True
    for j in np.flatnonzero(inf & ~bad):
        reason[j], bad[j] = "infinite yi or vi", True

    m = (present & ~bad[None, :]).astype(float)
    y0 = np.where(m > 0, y, 0.0)
    v0 = np.where(m > 0, v, 1.0)
    kk_f = np.where(bad, 1, kk).astype(float)

    tau2 = np.zeros(B)
    iters = np.zeros(B, dtype=int)
    conv = ~bad
    multi = np.flatnonzero(~bad & (kk > 1))
    # fixed-effect quantities (Q, trace of P at tau2 = 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        w_fe = m / v0
        s1 = w_fe.sum(0)
        mu_fe = (w_fe * y0).sum(0) / s1
        Q = np.maximum(0.0, (w_fe * (y0 - mu_fe) ** 2).sum(0))
        tr_p_fe = s1 - (w_fe**2).sum(0) / s1
        sum_pp_fe = (w_fe**2).sum(0) - 2 * (w_fe**3).sum(0) / s1 + ((w_fe**2).sum(0) / s1) ** 2

    se_tau2 = np.full(B, np.nan)
    if meth == "REML" and multi.size and exact:
        mm = m[:, multi] > 0
        tau2[multi] = reml_tau2_exact(np.where(mm, y0[:, multi], np.nan),
                                      np.where(mm, v0[:, multi], np.nan))
    elif meth == "REML" and multi.size:
        t, it, cv = _reml(y0[:, multi], v0[:, multi], m[:, multi], kk_f[multi], threshold,
                          int(maxiter), stepadj)
        tau2[multi], iters[multi] = t, it
        conv[multi] = cv
        if ll0check:
            ok = multi[cv & (tau2[multi] > threshold)]  # only these can be reset
            if ok.size:
                ll0 = _reml_ll(y0[:, ok], v0[:, ok], m[:, ok], 0.0)
                ll = _reml_ll(y0[:, ok], v0[:, ok], m[:, ok], tau2[ok])
                stuck = (ll0 - ll > _LL0_TOL) & (tau2[ok] > threshold)
                tau2[ok[stuck]] = 0.0
                for j in ok[stuck]:
                    reason[j] = "Fisher scoring stuck at a local maximum; tau2 set to 0 (ll0check)"
        tau2 = np.maximum(0.0, tau2)
        failed = multi[~cv]
        if fallback and failed.size:
            mf = m[:, failed] > 0
            tau2[failed] = reml_tau2_exact(np.where(mf, y0[:, failed], np.nan),
                                           np.where(mf, v0[:, failed], np.nan))
            conv[failed] = True
            for j in failed:
                reason[j] = (f"Fisher scoring did not converge in {int(maxiter)} iterations "
                             "(metafor stops here); tau2 from the exact root of the REML score (reml_tau2_exact)")
            failed = failed[:0]
        for j in failed:
            reason[j] = f"Fisher scoring did not converge in {int(maxiter)} iterations"
        if failed.size:
            warnings.warn(f"{failed.size} of {B} REML fits did not converge; see reason",
                          ConvergenceWarning, stacklevel=2)
    elif meth == "DL" and multi.size:
        tau2[multi] = np.maximum(0.0, (Q[multi] - (kk_f[multi] - 1)) / tr_p_fe[multi])

    with np.errstate(invalid="ignore", divide="ignore"):
        w = m / (v0 + tau2)
        sw = w.sum(0)
        est = (w * y0).sum(0) / sw
        se = 1 / np.sqrt(sw)
        z = est / se
        crit = float(norm.isf((1 - pct / 100) / 2))
        pval = 2 * norm.sf(np.abs(z))
        df = kk_f - 1
        Qp = chi2.sf(Q, np.maximum(df, 1))
        if meth == "EE":
            I2 = np.maximum(0.0, 100 * (Q - df) / Q)
            H2 = Q / df
        else:
            vt = df / tr_p_fe
            I2 = 100 * tau2 / (vt + tau2)
            H2 = tau2 / vt + 1
        if meth == "REML":
            w2 = w * w
            tr_pp = w2.sum(0) - 2 * (w2 * w).sum(0) / sw + (w2.sum(0) / sw) ** 2
            se_tau2 = np.sqrt(2 / tr_pp)
        elif meth == "DL":
            se_tau2 = np.sqrt(1 / tr_p_fe**2 * (2 * df + 4 * tau2 * tr_p_fe
                                                  + 2 * tau2**2 * sum_pp_fe))
    one = ~bad & (kk == 1)
    Q[one], Qp[one], I2[one], H2[one] = 0.0, 1.0, 0.0, 1.0
    se_tau2[one] = np.nan
    if meth == "EE":
        se_tau2[:] = np.nan
    gone = ~conv
    for arr in (tau2, se_tau2, est, se, z, pval, Q, Qp, I2, H2):
        arr[gone] = np.nan
    return BatchResult(
        method=meth, level=pct, k=kk.astype(int), tau2=tau2, se_tau2=se_tau2, estimate=est,
        se=se, statistic=z, pvalue=pval, ci_lower=est - crit * se, ci_upper=est + crit * se,
        Q=Q, Q_pvalue=Qp, I2=I2, H2=H2, converged=conv, iterations=iters, reason=reason,
    )
