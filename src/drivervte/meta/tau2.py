"""Estimators of the between-study variance tau² for ``rma`` (one function per estimator).

Every estimator follows metafor ``rma.uni`` (metafor 3.8) exactly: the same formulas, the
same starting values, the same truncation at ``tau2 >= 0`` and the same standard-error
formula for ``se_tau2``. Iterative estimators run the same algorithm as metafor but, by
default, to a far tighter stopping rule (metafor: ``threshold = 1e-5`` on the absolute
change of tau²; here ``1e-12`` relative to the scale of the data), so agreement with R is
limited by metafor's stopping rule. ``control=METAFOR_DEFAULT_CONTROL`` reproduces
metafor's default stopping exactly (whose tau² can be ~1e-4 relative from the maximum).

Notation: ``k`` studies, ``p`` columns of the design matrix ``X``, ``W = diag(w)``,
``P = W - W X (X'WX)^-1 X'W`` and ``y_c = y - mean(y)`` (metafor centres ``y`` before
computing quadratic forms; with an intercept in ``X`` this changes nothing).

All functions take NumPy arrays that were validated at the boundary (``fit_rma``):
``vi > 0``, finite, ``X`` of full column rank with ``k > p``.

References
----------
DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Control Clin Trials 7:177-188.
Hedges LV, Olkin I (1985). Statistical Methods for Meta-Analysis. Academic Press.
Hunter JE, Schmidt FL (2004). Methods of Meta-Analysis. 2nd ed. Sage.
Morris CN (1983). Parametric empirical Bayes inference. JASA 78:47-55.
Paule RC, Mandel J (1982). Consensus values and weighting factors. J Res NBS 87:377-385.
Sidik K, Jonkman JN (2005). Simple heterogeneity variance estimation for meta-analysis.
JRSS C 54:367-384.
Viechtbauer W (2005). Bias and efficiency of meta-analytic variance estimators in the
random-effects model. J Educ Behav Stat 30:261-293.
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw 36(3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize

from drivervte.meta.regression import Proj, proj, qe_at

__all__ = [
    "DEFAULT_CONTROL",
    "METAFOR_DEFAULT_CONTROL",
    "TAU2_METHODS",
    "Proj",
    "Tau2Estimate",
    "estimate_tau2",
    "proj",
    "qe_at",
    "resolve_control",
    "tau2_dl",
    "tau2_eb",
    "tau2_he",
    "tau2_hs",
    "tau2_ml",
    "tau2_pm",
    "tau2_reml",
    "tau2_sj",
]

#: Estimators of tau² (EE/FE fix tau² = 0 and are handled by ``fit_rma``).
TAU2_METHODS = ("DL", "HE", "HS", "SJ", "PM", "REML", "ML", "EB")

#: Defaults of the ``control`` dictionary. ``threshold``: stop Fisher scoring when
#: ``|change| <= threshold * scale`` where ``scale = tau2 + mean(vi)`` if ``relative`` else 1
#: (metafor: 1e-5, absolute). ``maxiter``: Fisher-scoring iterations (metafor: 100).
#: ``stepadj``: step length factor (metafor). ``tau2_init``: start value (default: the HE
#: estimate truncated at 0, as metafor). ``tau2_max``: upper end of the PM bracket (metafor:
#: ``max(100, 10 mad(yi)^2)``; we extend it if the root lies above). ``ll0check``: after
#: ML/REML, check that tau² = 0 does not have a higher likelihood (metafor). ``tol``: the
#: likelihood difference for that check and the PM root's absolute tolerance floor.
#: ``fallback``: when Fisher scoring does not converge (it can oscillate), find the
#: ML/REML maximum directly, or the EB fixed point as the Paule-Mandel root, and say so in
#: ``warnings`` (metafor stops with an error); ``False`` reports non-convergence instead.
DEFAULT_CONTROL: dict[str, Any] = {
    "threshold": 1e-12,
    "relative": True,
    "maxiter": 1000,
    "stepadj": 1.0,
    "tau2_init": None,
    "tau2_max": None,
    "ll0check": True,
    "tol": 1e-12,
    "fallback": True,
}


#: metafor's own stopping rule (``rma.uni`` defaults: ``threshold = 1e-5`` absolute,
#: ``maxiter = 100``, no fallback). Pass as ``control=`` to reproduce metafor's default
#: ML/REML/EB output to ~1e-9; note that metafor's default tau² is then up to ~2e-4
#: (relative) away from the exact maximum for ordinary data sets (e.g. dat.bcg with
#: ``mods = ~ ablat``, ML), which the default ``DEFAULT_CONTROL`` finds.
METAFOR_DEFAULT_CONTROL: dict[str, Any] = {
    "threshold": 1e-5,
    "relative": False,
    "maxiter": 100,
    "fallback": False,
}


@dataclass
class Tau2Estimate:
    """A tau² estimate with metafor's standard error and the fitting diagnostics."""

    tau2: float
    se_tau2: float
    converged: bool = True
    iterations: int | None = None
    warnings: list[str] = field(default_factory=list)


def _center(yi: np.ndarray) -> np.ndarray:
    return yi - yi.mean()


def resolve_control(control: dict[str, Any] | None) -> dict[str, Any]:
    """``DEFAULT_CONTROL`` updated with ``control``; unknown keys raise ``InputError``."""
    con = dict(DEFAULT_CONTROL)
    if control:
        unknown = set(control) - set(con)
        if unknown:
            from drivervte.errors import InputError

            raise InputError(
                f"unknown control setting(s) {sorted(unknown)}; known: {sorted(con)}",
                column="control",
            )
        con.update(control)
    return con


# ------------------------------------------------------------------- closed forms
def tau2_dl(yi, vi, X, tau2_fixed: float | None = None) -> Tau2Estimate:
    r"""DerSimonian-Laird (method of moments with inverse-variance weights).

    .. math:: \hat\tau^2 = \max\{0, (Q - (k - p)) / \operatorname{tr} P\},\quad W = V^{-1}

    with ``Q = y_c' P y_c``. ``se_tau2`` (metafor):
    ``sqrt((2 (k-p) + 4 tau2 tr P + 2 tau2^2 tr(PP)) / (tr P)^2)``.
    DerSimonian & Laird (1986); metafor ``rma.uni(method="DL")``.
    """
    k, p = X.shape
    pr = Proj(X, 1.0 / vi)
    trP = pr.trP()
    t2 = (pr.quad(_center(yi)) - (k - p)) / trP if tau2_fixed is None else tau2_fixed
    t2 = max(0.0, float(t2))
    se = math.sqrt((2 * (k - p) + 4 * t2 * trP + 2 * t2**2 * pr.trPP()) / trP**2)
    return Tau2Estimate(t2, se)


def tau2_he(yi, vi, X, tau2_fixed: float | None = None) -> Tau2Estimate:
    r"""Hedges (unweighted method of moments; "HE").

    .. math:: \hat\tau^2 = \max\{0, (y_c' P y_c - \operatorname{tr}(P V)) / (k - p)\},
              \quad P = I - X (X'X)^{-1} X'

    ``se_tau2``: ``sqrt((2 tr(PV PV) + 4 tau2 tr(PV) + 2 tau2^2 (k-p)) / (k-p)^2)``.
    Hedges & Olkin (1985); metafor ``rma.uni(method="HE")``.
    """
    k, p = X.shape
    pr = Proj(X, np.ones(k))
    trPV = float(np.sum(vi * (1.0 - pr.h)))
    t2 = (pr.quad(_center(yi)) - trPV) / (k - p) if tau2_fixed is None else tau2_fixed
    t2 = max(0.0, float(t2))
    se = math.sqrt((2 * pr.tr2(vi, vi) + 4 * t2 * trPV + 2 * t2**2 * (k - p)) / (k - p) ** 2)
    return Tau2Estimate(t2, se)


def tau2_hs(yi, vi, X, tau2_fixed: float | None = None) -> Tau2Estimate:
    r"""Hunter-Schmidt.

    .. math:: \hat\tau^2 = \max\{0, (Q - k) / \textstyle\sum w_i\},\quad w_i = 1/v_i

    ``se_tau2``: ``sqrt((2 (k-p) + 4 tau2 tr P + 2 tau2^2 tr(PP)) / (sum w)^2)``.
    Hunter & Schmidt (2004); metafor ``rma.uni(method="HS")``.
    """
    k, p = X.shape
    w = 1.0 / vi
    pr = Proj(X, w)
    t2 = (pr.quad(_center(yi)) - k) / w.sum() if tau2_fixed is None else tau2_fixed
    t2 = max(0.0, float(t2))
    se = math.sqrt((2 * (k - p) + 4 * t2 * pr.trP() + 2 * t2**2 * pr.trPP()) / w.sum() ** 2)
    return Tau2Estimate(t2, se)


def tau2_sj(yi, vi, X, tau2_fixed: float | None = None, control=None) -> Tau2Estimate:
    r"""Sidik-Jonkman (one step from a crude start).

    .. math:: \tau_0^2 = \frac1k \sum (y_i - \bar y)^2,\qquad
              \hat\tau^2 = \tau_0^2\, y_c' P y_c / (k - p),\quad W = (V + \tau_0^2 I)^{-1}

    metafor's start ``tau0^2 = var(y) (k-1)/k`` ignores the moderators, also in
    meta-regression. ``se_tau2``: ``tau0^2/(k-p) sqrt(2 tr(PV PV) + 4 tau2 tr(PV P) +
    2 tau2^2 tr(PP))``. Sidik & Jonkman (2005); metafor ``rma.uni(method="SJ")``.
    """
    k, p = X.shape
    con = resolve_control(control)
    yc = _center(yi)
    t0 = float(np.mean(yc * yc)) if con["tau2_init"] is None else float(con["tau2_init"])
    pr = Proj(X, 1.0 / (vi + t0))
    t2 = t0 * pr.quad(yc) / (k - p) if tau2_fixed is None else tau2_fixed
    t2 = max(0.0, float(t2))
    u = pr.w * vi  # P V P and P V P V traces: A = B = W V, and A = W V, B = W
    se = math.sqrt(
        t0**2 / (k - p) ** 2
        * (2 * pr.tr2(u, u) + 4 * t2 * pr.tr2(u, pr.w) + 2 * t2**2 * pr.trPP())
    )
    return Tau2Estimate(t2, se)


def _se_pm_eb(vi, t2, k, p) -> float:
    w = 1.0 / (vi + t2)
    return math.sqrt(2 * k**2 / (k - p) / w.sum() ** 2)


# ---------------------------------------------------------------- Paule-Mandel
def tau2_pm(yi, vi, X, tau2_fixed: float | None = None, control=None) -> Tau2Estimate:
    r"""Paule-Mandel: the root of the generalised Q statistic at its expectation.

    .. math:: Q(\tau^2) = y_c' P(\tau^2) y_c = k - p, \quad W = (V + \tau^2 I)^{-1}

    ``Q`` decreases in tau²; if ``Q(0) < k - p`` the estimate is 0. The root is found with
    Brent's method (``scipy.optimize.brentq``, as R's ``uniroot``) to ``xtol`` 1e-15
    relative; metafor brackets on ``[0, max(100, 10 mad(y)^2)]`` and stops otherwise, we
    extend the bracket instead (``Q -> 0`` as tau² grows, so a root always exists).
    ``se_tau2``: ``sqrt(2 k^2 / (k-p) / (sum w)^2)`` (metafor). Paule & Mandel (1982);
    metafor ``rma.uni(method="PM")``.
    """
    k, p = X.shape
    con = resolve_control(control)
    if tau2_fixed is not None:
        t2 = float(tau2_fixed)
        return Tau2Estimate(t2, _se_pm_eb(vi, t2, k, p))
    yc = _center(yi)
    target = k - p

    def f(t):
        return qe_at(t, yc, vi, X) - target

    warnings: list[str] = []
    if f(0.0) < 0:
        return Tau2Estimate(0.0, _se_pm_eb(vi, 0.0, k, p), iterations=0)
    hi = con["tau2_max"]
    if hi is None:
        mad = 1.482602218505602 * float(np.median(np.abs(yi - np.median(yi))))
        hi = max(100.0, 10 * mad**2)
    n_ext = 0
    while f(hi) > 0:
        hi *= 10.0
        n_ext += 1
        if n_ext > 60:
            return Tau2Estimate(math.nan, math.nan, converged=False,
                                warnings=["Paule-Mandel: no root of Q(tau2) = k - p found"])
    t2, info = optimize.brentq(f, 0.0, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps,
                               maxiter=1000, full_output=True, disp=False)
    if not info.converged:
        warnings.append("Paule-Mandel root search did not converge")
        return Tau2Estimate(float(t2), math.nan, converged=False, iterations=info.iterations,
                            warnings=warnings)
    t2 = max(0.0, float(t2))
    return Tau2Estimate(t2, _se_pm_eb(vi, t2, k, p), iterations=info.iterations)


# ------------------------------------------------------------ Fisher scoring family
def _ll(tau2, yi, vi, X, reml: bool) -> float:
    """Log-likelihood (ML) or restricted log-likelihood (REML) at tau², metafor's constants."""
    k, p = X.shape
    w = 1.0 / (vi + tau2)
    rss = Proj(X, w).quad(yi)
    if reml:
        _, logdet = np.linalg.slogdet((X * w[:, None]).T @ X)
        return (-0.5 * (k - p) * math.log(2 * math.pi) - 0.5 * np.sum(np.log(vi + tau2))
                - 0.5 * logdet - 0.5 * rss)
    return -0.5 * k * math.log(2 * math.pi) - 0.5 * np.sum(np.log(vi + tau2)) - 0.5 * rss


def _fisher(kind: str, yi, vi, X, tau2_fixed, control) -> Tau2Estimate:
    k, p = X.shape
    con = resolve_control(control)
    yc = _center(yi)
    if tau2_fixed is not None:
        t2 = float(tau2_fixed)
        return Tau2Estimate(t2, _se_fisher(kind, X, vi, t2, k, p), iterations=0)
    if con["tau2_init"] is None:
        t2 = tau2_he(yi, vi, X).tau2  # max(0, HE), as metafor
    else:
        t2 = float(con["tau2_init"])
    scale_vi = float(np.mean(vi))
    it = 0
    converged = True
    warnings: list[str] = []
    change = math.inf
    while True:
        tol = con["threshold"] * ((t2 + scale_vi) if con["relative"] else 1.0)
        if change <= tol:
            break
        it += 1
        old = t2
        w = 1.0 / (vi + t2)
        pr = Proj(X, w)
        Py = pr.Py(yc)
        if kind == "ML":
            adj = (Py @ Py - w.sum()) / np.sum(w * w)
        elif kind == "REML":
            adj = (Py @ Py - pr.trP()) / pr.trPP()
        else:  # EB
            adj = ((yc @ Py) * k / (k - p) - k) / w.sum()
        adj = float(adj) * con["stepadj"]
        if not math.isfinite(adj):
            adj = 0.0
        while t2 + adj < 0.0:
            adj /= 2.0
        t2 = t2 + adj
        change = abs(old - t2)
        if it > con["maxiter"]:
            converged = False
            break
    if not converged:
        msg = (f"Fisher scoring for {kind} did not converge in {con['maxiter']} iterations "
               "(metafor stops with an error here)")
        t2 = _direct_solution(kind, yi, vi, X) if con["fallback"] else None
        if t2 is None:
            warnings.append(msg + "; try control={'stepadj': 0.5} or a larger 'maxiter'")
            return Tau2Estimate(math.nan, math.nan, converged=False, iterations=it,
                                warnings=warnings)
        warnings.append(msg + "; the estimate was found directly instead ("
                        + ("Paule-Mandel root" if kind == "EB" else
                           f"maximum of the {kind} likelihood by grid search and the "
                           "root of its score") + ")")
        return Tau2Estimate(t2, _se_fisher(kind, X, vi, t2, k, p), converged=True,
                            iterations=it, warnings=warnings)
    if kind in ("ML", "REML") and con["ll0check"]:
        reml = kind == "REML"
        ll0 = _ll(0.0, yc, vi, X, reml)
        ll1 = _ll(t2, yc, vi, X, reml)
        # metafor compares with its tol (eps^0.25) and its threshold (1e-5).
        if ll0 - ll1 > 1.220703125e-4 and t2 > 1e-5:
            warnings.append(
                "Fisher scoring may have stopped at a local maximum; tau^2 set to 0 as "
                "metafor does (check the profile likelihood)"
            )
            t2 = 0.0
    t2 = max(0.0, t2)
    return Tau2Estimate(t2, _se_fisher(kind, X, vi, t2, k, p), converged=True,
                        iterations=it, warnings=warnings)


def _direct_solution(kind, yi, vi, X) -> float | None:
    """The estimate without Fisher scoring, for when scoring oscillates.

    EB: its fixed point is the Paule-Mandel root. ML/REML: the global maximum of the
    (restricted) log-likelihood over ``tau2 >= 0``, located on a grid (0 and 241 points
    log-spaced over 12 decades around the data's scale), then refined as the root of the
    score (``y'PPy = tr P`` for REML, ``= sum w`` for ML) between the neighbours of the
    best grid point by Brent's method (bounded Brent maximisation if they do not bracket).
    """
    if kind == "EB":
        est = tau2_pm(yi, vi, X)
        return est.tau2 if est.converged else None
    yc = _center(yi)
    reml = kind == "REML"
    scale = max(float(np.mean(vi)), float(np.var(yi)))
    grid = np.concatenate([[0.0], scale * np.logspace(-8, 4, 241)])
    ll = np.array([_ll(t, yc, vi, X, reml) for t in grid])
    if not np.all(np.isfinite(ll)):
        return None
    j = int(np.argmax(ll))
    if j == 0 and ll[1] <= ll[0]:
        return 0.0
    lo, hi = grid[max(j - 1, 0)], grid[min(j + 1, grid.size - 1)]

    def score(t):
        pr = Proj(X, 1.0 / (vi + t))
        Py = pr.Py(yc)
        return float(Py @ Py - (pr.trP() if reml else pr.w.sum()))

    s_lo, s_hi = score(lo), score(hi)
    if s_lo > 0 > s_hi:  # the score's root is the maximum: exact to machine precision
        return float(optimize.brentq(score, lo, hi, xtol=1e-300,
                                     rtol=4 * np.finfo(float).eps, maxiter=1000))
    res = optimize.minimize_scalar(lambda t: -_ll(t, yc, vi, X, reml), bounds=(lo, hi),
                                   method="bounded", options={"xatol": 1e-12 * hi})
    if not res.success:
        return None
    return float(res.x) if -res.fun >= ll[j] else float(grid[j])


def _se_fisher(kind, X, vi, t2, k, p) -> float:
    w = 1.0 / (vi + t2)
    if kind == "ML":
        return math.sqrt(2.0 / np.sum(w * w))
    if kind == "REML":
        return math.sqrt(2.0 / Proj(X, w).trPP())
    return _se_pm_eb(vi, t2, k, p)


def tau2_reml(yi, vi, X, tau2_fixed: float | None = None, control=None) -> Tau2Estimate:
    r"""Restricted maximum likelihood by Fisher scoring (metafor's algorithm).

    Start: the HE estimate truncated at 0. Step:

    .. math:: \tau^2 \leftarrow \tau^2 + \frac{y_c' P P y_c - \operatorname{tr} P}
              {\operatorname{tr}(P P)}

    halved until ``tau2 >= 0``; stop when the change is below the threshold. Afterwards
    metafor's ``ll0check``: if the restricted likelihood at 0 is higher, tau² = 0.
    ``se_tau2 = sqrt(2 / tr(PP))``. Viechtbauer (2005); metafor ``rma.uni(method="REML")``.
    """
    return _fisher("REML", yi, vi, X, tau2_fixed, control)


def tau2_ml(yi, vi, X, tau2_fixed: float | None = None, control=None) -> Tau2Estimate:
    r"""Maximum likelihood by Fisher scoring (metafor's algorithm).

    .. math:: \tau^2 \leftarrow \tau^2 + \frac{y_c' P P y_c - \sum w_i}{\sum w_i^2}

    with the same start, step-halving, stopping and ``ll0check`` as REML.
    ``se_tau2 = sqrt(2 / sum w^2)``. Viechtbauer (2005); metafor ``rma.uni(method="ML")``.
    """
    return _fisher("ML", yi, vi, X, tau2_fixed, control)


def tau2_eb(yi, vi, X, tau2_fixed: float | None = None, control=None) -> Tau2Estimate:
    r"""Empirical Bayes (Morris 1983) by metafor's fixed-point iteration.

    .. math:: \tau^2 \leftarrow \tau^2 + \frac{y_c' P y_c \, k/(k-p) - k}{\sum w_i}

    Its fixed point solves ``Q(tau2) = k - p``, the Paule-Mandel equation, so EB and PM
    agree whenever both are positive (they differ only in metafor's stopping rules).
    ``se_tau2 = sqrt(2 k^2 / (k-p) / (sum w)^2)``. metafor ``rma.uni(method="EB")``.
    """
    return _fisher("EB", yi, vi, X, tau2_fixed, control)


_DISPATCH = {
    "DL": lambda y, v, X, f, c: tau2_dl(y, v, X, f),
    "HE": lambda y, v, X, f, c: tau2_he(y, v, X, f),
    "HS": lambda y, v, X, f, c: tau2_hs(y, v, X, f),
    "SJ": tau2_sj,
    "PM": tau2_pm,
    "REML": tau2_reml,
    "ML": tau2_ml,
    "EB": tau2_eb,
}


def estimate_tau2(method: str, yi, vi, X, tau2_fixed: float | None = None,
                  control: dict[str, Any] | None = None) -> Tau2Estimate:
    """Dispatch to the estimator named ``method`` (one of :data:`TAU2_METHODS`)."""
    return _DISPATCH[method](yi, vi, X, tau2_fixed, control)
