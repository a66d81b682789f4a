"""Robust (sandwich) variance and the global chi-square tests of a Cox fit.

The robust variance is Lin & Wei (1989): ``V = D' D`` with ``D`` the dfbeta residuals
``D = diag(w) L V_naive`` (``L`` the score residuals, ``w`` the case weights), first summed
within each cluster when ``cluster`` is given (``survival::coxph(..., robust=TRUE)`` /
``cluster()``: ``residuals.coxph(type="dfbeta", collapse=cluster, weighted=TRUE)``).
The score residuals come from :meth:`CoxProblem.score_residuals`, O(n p) by cumulative
sums, so the whole computation is O(n p^2): no n x n matrix is ever formed.

The robust score test is ``coxph``'s ``rscore``: ``U0' (L0' L0)^{-1} U0`` with ``L0`` the
weighted, cluster-collapsed score residuals at beta = 0 and ``U0`` their column sums.

Which variance is reported follows ``coxph`` (survival 3.5-3) exactly: when its ``robust``
argument is missing it is ``has.cluster || has.rwt`` (``has.rwt = any(weights !=
floor(weights))``), see :func:`variance_rule`.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg, stats

from drivervte.survival.cox_result import ChiSquareTest
from drivervte.survival.cox_scan import CoxProblem

__all__ = [
    "chi2_test",
    "collapse",
    "robust_score_test",
    "robust_variance",
    "variance_rule",
    "wald_statistic",
]


def variance_rule(
    robust: bool | None, has_cluster: bool, has_rwt: bool
) -> tuple[bool, str, list[str]]:
    """Robust or model-based variance, the reason, and notes for the result's ``warnings``.

    ``robust=None`` is ``coxph``'s missing ``robust``: robust when a cluster is given or the
    case weights are not all integers (``has_rwt``). ``robust=False`` with a cluster ignores
    the cluster and warns, as ``coxph`` does ("cluster specified with robust=FALSE, cluster
    ignored"). (``coxph``'s third trigger, an ``id`` with repeated events, has no
    counterpart here: :class:`CoxPH` takes no ``id``.)
    """
    if robust is None:
        if has_cluster:
            return True, "cluster given (coxph's default)", []
        if has_rwt:
            note = (
                "robust (sandwich) variance used because the case weights are not all "
                "integers, as coxph does by default; pass robust=False (CLI --no-robust) "
                "for the model-based variance"
            )
            return True, "non-integer case weights (coxph's default)", [note]
        return False, "no cluster and integer (or no) case weights (coxph's default)", []
    if robust:
        return True, "robust=True", []
    if has_cluster:
        msg = "cluster specified with robust=False, cluster ignored (as coxph)"
        warnings.warn(msg, UserWarning, stacklevel=5)
        return False, "robust=False", [msg]
    return False, "robust=False", []


def collapse(resid: np.ndarray, cluster: np.ndarray | None, n_clusters: int | None) -> np.ndarray:
    """Sum the rows of ``resid`` within clusters (codes 0..n_clusters-1); identity if None."""
    if cluster is None:
        return resid
    out = np.empty((n_clusters, resid.shape[1]))
    for j in range(resid.shape[1]):
        out[:, j] = np.bincount(cluster, weights=resid[:, j], minlength=n_clusters)
    return out


def robust_variance(
    problem: CoxProblem,
    beta_centered: np.ndarray,
    var_naive: np.ndarray,
    weights: np.ndarray,
    cluster: np.ndarray | None,
    n_clusters: int | None,
) -> np.ndarray:
    """Lin-Wei sandwich variance ``D' D`` (see the module docstring)."""
    resid = problem.score_residuals(beta_centered) * weights[:, None]
    dfbeta = collapse(resid, cluster, n_clusters) @ var_naive
    return dfbeta.T @ dfbeta


def _quad_inv(A: np.ndarray, b: np.ndarray) -> float:
    """``b' A^{-1} b``; NaN when ``A`` is singular."""
    try:
        c = linalg.cho_factor(A, lower=True)
    except linalg.LinAlgError:
        return float("nan")
    return float(b @ linalg.cho_solve(c, b))


def robust_score_test(
    problem: CoxProblem,
    weights: np.ndarray,
    cluster: np.ndarray | None,
    n_clusters: int | None,
) -> float:
    """``coxph``'s robust score statistic at beta = 0."""
    resid0 = problem.score_residuals(np.zeros(problem.p)) * weights[:, None]
    L0 = collapse(resid0, cluster, n_clusters)
    return _quad_inv(L0.T @ L0, L0.sum(axis=0))


def wald_statistic(coef: np.ndarray, vcov: np.ndarray) -> float:
    """``coef' vcov^{-1} coef`` (``survival:::coxph.wtest``)."""
    return _quad_inv(vcov, coef)


def chi2_test(statistic: float, df: int) -> ChiSquareTest:
    """A chi-square test record; p is NaN when the statistic is."""
    p = float(stats.chi2.sf(statistic, df)) if np.isfinite(statistic) else float("nan")
    return ChiSquareTest(statistic=float(statistic), df=int(df), pvalue=p)
