"""Linear algebra of ``rma``: the projection ``P``, WLS fit, Wald tests, QM, R², designs.

Everything here follows metafor ``rma.uni`` (3.8): coefficients by weighted least squares
with ``W = diag(1/(vi + tau2))``, ``vb = (X'WX)^-1`` (scaled by the Knapp-Hartung factor
``s2w`` under ``test="knha"``), the omnibus test ``QM`` of all coefficients except the
intercept (all coefficients when there is no intercept), and the pseudo-R² of
Raudenbush (2009).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg, special

from drivervte.errors import InputError

__all__ = [
    "Proj",
    "WLSFit",
    "check_design",
    "intercept_columns",
    "omnibus_test",
    "proj",
    "qe_at",
    "r2_equal_effects",
    "wald_tests",
    "wls",
]


class Proj:
    r"""The weighted residual projection ``P = W - W X (X'WX)^-1 X'W`` without forming it.

    With the thin QR decomposition ``W^{1/2} X = Q R`` and ``H = Q Q'`` (leverages
    ``h = diag H``), ``P = W^{1/2} (I - H) W^{1/2}``. Every quantity the estimators need is
    then ``O(k p^2)``: ``P y``, ``y'Py``, ``tr P = sum w (1 - h)`` and traces of the form

    .. math:: \operatorname{tr}((I-H) A (I-H) B) = \textstyle\sum a b - 2 \sum a b h
              + \operatorname{tr}(Q'AQ\, Q'BQ)

    for diagonal ``A``, ``B``. Equivalent to metafor's explicit k x k matrices.
    """

    __slots__ = ("Q", "h", "sw", "w")

    def __init__(self, X: np.ndarray, w: np.ndarray) -> None:
        self.w = w
        self.sw = np.sqrt(w)
        if X.shape[1] == 1 and np.all(X[:, 0] == X[0, 0]):
            q = (self.sw / np.sqrt(np.sum(w)))[:, None]  # intercept only: no QR needed
        else:
            q, _ = np.linalg.qr(self.sw[:, None] * X)
        self.Q = q
        self.h = np.sum(q * q, axis=1)

    def Py(self, y: np.ndarray) -> np.ndarray:
        """``P y = W (y - X b)``, the weighted residuals."""
        z = self.sw * y
        return self.sw * (z - self.Q @ (self.Q.T @ z))

    def quad(self, y: np.ndarray) -> float:
        """``y' P y``."""
        z = self.sw * y
        r = z - self.Q @ (self.Q.T @ z)
        return float(r @ r)

    def trP(self) -> float:
        return float(np.sum(self.w * (1.0 - self.h)))

    def tr2(self, a: np.ndarray, b: np.ndarray) -> float:
        """``tr((I-H) diag(a) (I-H) diag(b))``."""
        ma = self.Q.T @ (a[:, None] * self.Q)
        mb = self.Q.T @ (b[:, None] * self.Q)
        return float(np.sum(a * b) - 2 * np.sum(a * b * self.h) + np.sum(ma * mb))

    def trPP(self) -> float:
        """``tr(P P)`` (= ``sum(P * P)``, P symmetric)."""
        return self.tr2(self.w, self.w)


def proj(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The explicit k x k ``P = W - W X (X'WX)^-1 X'W`` (for tests and small problems).

    Equivalent to metafor's ``.invcalc``-based construction; the estimators use
    :class:`Proj`, which never forms this matrix.
    """
    pr = Proj(X, w)
    m = np.eye(len(w)) - pr.Q @ pr.Q.T
    return pr.sw[:, None] * m * pr.sw[None, :]


def qe_at(tau2: float, y: np.ndarray, vi: np.ndarray, X: np.ndarray) -> float:
    """Generalised Q statistic ``y' P(tau2) y`` with weights ``1/(vi + tau2)``."""
    return Proj(X, 1.0 / (vi + tau2)).quad(y)


def intercept_columns(X: np.ndarray) -> np.ndarray:
    """Boolean mask of the columns that are all ones (an intercept)."""
    return np.all(X == 1.0, axis=0)


def check_design(X, k: int, names: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Validate a moderator design matrix; return it as float (k x p) and its column names.

    Raises :class:`InputError` for a wrong shape, non-finite entries (naming rows), more
    columns than studies, or linearly dependent columns (naming the columns that are
    combinations of earlier ones, found by QR with column pivoting). metafor drops
    redundant predictors with a warning; drivervte asks the user to decide.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] != k:
        raise InputError(f"the design matrix must have one row per study ({k}); "
                         f"got shape {X.shape}", column="mods")
    p = X.shape[1]
    if names is None:
        names = ["intrcpt" if intercept_columns(X)[j] else f"X{j + 1}" for j in range(p)]
    if len(names) != p:
        raise InputError(f"{len(names)} names for {p} design columns", column="mods")
    bad = np.where(~np.all(np.isfinite(X), axis=1))[0]
    if bad.size:
        raise InputError("moderator values must be finite numbers; remove or impute the "
                         "rows with missing values", column="mods", rows=bad)
    if p > k:
        raise InputError(f"{p} model coefficients but only {k} studies; use fewer "
                         "moderators", column="mods")
    if p == 0:
        raise InputError("the design matrix has no columns; pass X=None for an "
                         "intercept-only model", column="mods")
    # Columns that are combinations of the columns before them (as lm's aliasing order).
    kept: list[int] = []
    dep: list[str] = []
    for j in range(p):
        if np.linalg.matrix_rank(X[:, [*kept, j]]) > len(kept):
            kept.append(j)
        else:
            dep.append(names[j])
    # metafor's check: an eigenvalue of X'X <= 1e-7 means not of full rank.
    ev_min = float(np.linalg.eigvalsh(X.T @ X).min())
    if dep or ev_min <= 1e-7:
        which = ", ".join(dep) if dep else "near-collinear columns (rescale or drop one)"
        raise InputError(
            "the moderator columns are linearly dependent (model matrix not of full rank); "
            f"drop or recode: {which}", column="mods")
    return X, list(names)


@dataclass
class WLSFit:
    """Weighted least squares: ``beta = (X'WX)^-1 X'W y``, ``vb = (X'WX)^-1``, ``rss``."""

    beta: np.ndarray
    vb: np.ndarray
    rss: float


def wls(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> WLSFit:
    """Weighted least squares via QR of ``sqrt(W) X`` (as metafor's ``.invcalc``)."""
    sw = np.sqrt(w)
    q, r = np.linalg.qr(sw[:, None] * X)
    beta = linalg.solve_triangular(r, q.T @ (sw * y))
    rinv = linalg.solve_triangular(r, np.eye(r.shape[0]))
    vb = rinv @ rinv.T
    res = y - X @ beta
    return WLSFit(beta=beta, vb=vb, rss=float(np.sum(w * res * res)))


def wald_tests(beta, se, level_alpha: float, df: float | None):
    """z- or t-tests and CIs of coefficients: ``(stat, pvalue, ci_lower, ci_upper)``.

    ``df=None`` gives z-tests; otherwise t with ``df`` degrees of freedom (NaN p-values and
    CIs when ``df <= 0``, as metafor).
    """
    with np.errstate(divide="ignore", invalid="ignore"):  # se = 0: metafor gives +-Inf/NaN
        stat = beta / se
    if df is None:
        p = 2 * special.ndtr(-np.abs(stat))
        crit = -special.ndtri(level_alpha / 2)
    elif df > 0:
        p = 2 * special.stdtr(df, -np.abs(stat))
        crit = -special.stdtrit(df, level_alpha / 2)
    else:
        p = np.full_like(beta, np.nan)
        crit = math.nan
    return stat, p, beta - crit * se, beta + crit * se


def omnibus_test(beta, vb, btt, df2: float | None):
    """metafor's QM: Wald chi² of ``beta[btt]``, or F = chi²/m with (m, df2) under knha.

    Returns ``(QM, m, pvalue)``. Under Knapp-Hartung (``df2`` not None) ``QM`` is the F
    statistic (metafor stores ``QM/m`` and ``QMdf = c(m, k - p)``).
    """
    b = beta[btt]
    m = len(btt)
    try:
        c = linalg.cho_factor(vb[np.ix_(btt, btt)])
        qm = float(b @ linalg.cho_solve(c, b))
    except linalg.LinAlgError:
        return math.nan, m, math.nan
    if df2 is None:
        return qm, m, float(special.chdtrc(m, qm))
    qm /= m
    pv = float(special.fdtrc(m, df2, qm)) if df2 > 0 else math.nan
    return qm, m, pv


def r2_equal_effects(yi: np.ndarray, X: np.ndarray, w: np.ndarray) -> float:
    """metafor's R² for equal-effects meta-regression: ``max(0, 100 adj. R²)`` of the
    weighted linear model ``lm(yi ~ X, weights = 1/vi)`` (0 when all ``yi`` are equal)."""
    k, p = X.shape
    if np.all(yi == yi[0]):
        return 0.0
    fit = wls(X, yi, w)
    ybar = np.sum(w * yi) / np.sum(w)
    tss = float(np.sum(w * (yi - ybar) ** 2))
    if not tss > 0:  # effects equal to float precision (the squares underflow)
        return 0.0
    r2 = 1.0 - fit.rss / tss
    if k - p <= 0:
        return math.nan
    adj = 1.0 - (1.0 - r2) * (k - 1) / (k - p)
    return max(0.0, 100.0 * adj)
