r"""Equal- and random-effects meta-analysis and meta-regression: :func:`fit_rma`.

The model (metafor ``rma.uni``; Viechtbauer 2010):

.. math:: y_i = x_i'\beta + u_i + e_i,\quad u_i \sim N(0, \tau^2),\quad e_i \sim N(0, v_i)

with tau² estimated by one of :data:`drivervte.meta.tau2.TAU2_METHODS` (or fixed at 0 for
the equal-effects model ``EE``, alias ``FE``). Given tau², ``beta`` is the weighted
least-squares estimate with weights ``w_i = 1/(v_i + tau^2)`` and ``Var(beta) =
(X'WX)^{-1}``. Under ``test="knha"`` (Knapp & Hartung 2003) the variance is multiplied by
``s2w = sum w_i (y_i - x_i'b)^2 / (k - p)`` and tests use t (and F) with ``k - p``
degrees of freedom. metafor 3.8 does **not** truncate ``s2w`` at 1 (that is
``test="adhoc"``, not offered here), and neither does drivervte.

Heterogeneity (metafor): ``Q = y'Py`` with ``W = V^{-1}`` on ``k - p`` df; for random-
effects models ``I² = 100 tau2 / (vt + tau2)`` and ``H² = tau2/vt + 1`` with the typical
within-study variance ``vt = (k - p)/tr P``; for EE models ``I² = max(0, 100 (Q -
(k-p))/Q)`` and ``H² = Q/(k - p)``.

References
----------
Knapp G, Hartung J (2003). Improved tests for a random effects meta-regression with a
single covariate. Stat Med 22:2693-2710.
Raudenbush SW (2009). Analyzing effect sizes: random-effects models. In: The Handbook of
Research Synthesis and Meta-Analysis, 2nd ed.
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw 36(3).
"""

from __future__ import annotations

import math
import warnings as _warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from drivervte.errors import ConvergenceWarning, InputError
from drivervte.meta.heterogeneity import Tau2CI, _alpha, qprofile_ci
from drivervte.meta.regression import (
    Proj,
    check_design,
    intercept_columns,
    omnibus_test,
    r2_equal_effects,
    wald_tests,
    wls,
)
from drivervte.meta.result import MetaResult, ModeratorResult
from drivervte.meta.tau2 import TAU2_METHODS, estimate_tau2, resolve_control
from drivervte.results import Result, format_table

__all__ = ["METHODS", "TESTS", "Prediction", "fit_rma", "predict"]

#: Accepted ``method`` values (EE and FE are the same equal-effects model).
METHODS = ("EE", "FE", *TAU2_METHODS)
#: Accepted ``test`` values.
TESTS = ("z", "knha")


def _validate_yv(yi, vi, study) -> tuple[np.ndarray, np.ndarray, list[str]]:
    yi = np.asarray(yi, dtype=float).ravel()
    vi = np.asarray(vi, dtype=float).ravel()
    if yi.size == 0:
        raise InputError("no studies to analyse (k = 0)", column="yi")
    if vi.size != yi.size:
        raise InputError(f"vi has {vi.size} values but yi has {yi.size}", column="vi")
    bad = np.where(~np.isfinite(yi))[0]
    if bad.size:
        raise InputError("effect sizes must be finite numbers; remove these studies or "
                         "supply their estimates", column="yi", rows=bad)
    bad = np.where(~np.isfinite(vi) | (vi <= 0))[0]
    if bad.size:
        raise InputError("sampling variances must be finite and > 0; check these studies "
                         "(a zero variance usually means a zero cell or a missing SE)",
                         column="vi", rows=bad)
    tiny = np.where(vi < 1e-100)[0]
    if tiny.size:
        raise InputError("sampling variances below 1e-100 cannot be weighted in floating "
                         "point; rescale the effect sizes (e.g. use other units)",
                         column="vi", rows=tiny)
    if study is None:
        labels = [str(i + 1) for i in range(yi.size)]
    else:
        labels = [str(s) for s in study]
        if len(labels) != yi.size:
            raise InputError(f"{len(labels)} study labels for {yi.size} studies",
                             column="study")
    return yi, vi, labels


def fit_rma(
    yi,
    vi,
    X=None,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    tau2: float | None = None,
    study=None,
    measure: str = "GEN",
    ni=None,
    control: dict[str, Any] | None = None,
    mod_names: list[str] | None = None,
    confint: bool = True,
) -> MetaResult:
    """Fit an equal- or random-effects model / meta-regression (metafor ``rma.uni``).

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
        Effect sizes on the model scale and their sampling variances (> 0).
    X : array_like, shape (k, p), optional
        Design matrix **including** the intercept column (a column of ones) when an
        intercept is wanted; ``None`` means intercept only. Equivalent to metafor's
        ``rma.uni(yi, vi, mods = X, intercept = FALSE)``. An all-ones column is moved to the
        front (as metafor does) and the omnibus test ``QM`` covers all other columns.
    method : str
        ``"EE"`` (alias ``"FE"``), ``"DL"``, ``"REML"``, ``"ML"``, ``"PM"``, ``"SJ"``,
        ``"HE"``, ``"EB"``, ``"HS"``.
    test : str
        ``"z"`` or ``"knha"`` (Knapp-Hartung; t/F with ``k - p`` df, no truncation).
    level : float
        Confidence level in percent (metafor's convention: values < 1 are proportions).
    tau2 : float, optional
        Fix tau² at this value (metafor's ``tau2=``); ignored for EE.
    study, measure, ni
        Study labels, the effect measure (for back-transformation) and sample sizes.
    control : dict, optional
        Iteration settings, see :data:`drivervte.meta.tau2.DEFAULT_CONTROL`.
    mod_names : list of str, optional
        Names of the columns of ``X`` (default: a DataFrame's column names, else
        ``intrcpt`` for a ones column and ``X1``, ``X2``, ...).
    confint : bool
        Compute the Q-profile CI for tau², I², H² (random-effects models, k > p).

    Returns
    -------
    MetaResult
        With moderators, ``estimate`` .. ``ci_upper`` describe the first coefficient (the
        intercept) and the prediction interval is ``predict(res, newmods=0)``; the full
        table is in ``moderators``. The prediction interval is ``estimate +- crit *
        sqrt(se^2 + tau2)`` with the normal quantile, or under ``knha`` the t(k - p) one
        (metafor ``predict.rma``); metafor gives no prediction interval for EE models, so
        it is ``NaN`` (``null``) there, and also for k = 1 (tau² cannot be estimated;
        metafor prints the CI) unless tau² is fixed.
    """
    meth = str(method).upper()
    if meth not in METHODS:
        raise InputError(f"unknown method '{method}'; use one of {', '.join(METHODS)}",
                         column="method")
    if test not in TESTS:
        raise InputError(f"unknown test '{test}'; use 'z' or 'knha'", column="test")
    alpha = _alpha(level)
    if not 0 < alpha < 1:
        raise InputError(f"level {level} must lie between 0 and 100", column="level")
    yi, vi, labels = _validate_yv(yi, vi, study)
    resolve_control(control)  # unknown keys are an error for every method
    k = yi.size
    is_ee = meth in ("EE", "FE")
    if X is None:
        X = np.ones((k, 1))
        names = ["intrcpt"]
    else:
        if mod_names is None and hasattr(X, "columns"):
            mod_names = [str(c) for c in X.columns]
        X, names = check_design(X, k, mod_names)
        ic = intercept_columns(X)
        if ic.any() and not ic[0]:  # metafor moves the intercept to the front
            j = int(np.argmax(ic))
            order = [j, *[i for i in range(X.shape[1]) if i != j]]
            X, names = X[:, order], [names[i] for i in order]
    p = X.shape[1]
    icol = intercept_columns(X)
    int_only = p == 1 and bool(icol[0])
    if tau2 is not None and not is_ee:
        tau2 = float(tau2)
        if not math.isfinite(tau2) or tau2 < 0:
            raise InputError("a fixed tau2 must be a finite number >= 0", column="tau2")
    tau2_fixed = tau2 if not is_ee else None
    need = p if (is_ee or tau2_fixed is not None) else p + 1
    if not (int_only and k == 1) and need > k:
        raise InputError(
            f"{p} coefficient(s){'' if need == p else ' plus tau^2'} cannot be estimated "
            f"from {k} studies; use fewer moderators or method='EE'", column="mods")

    notes: list[str] = []
    if test == "knha" and k == 1:
        notes.append("k = 1: Knapp-Hartung needs k > 1; a z-test is used")
        test = "z"
    if k == 1:
        notes.append("k = 1: the estimate is the single study's; tau^2 is set to 0, "
                     "heterogeneity cannot be assessed and there is no prediction interval")
    if is_ee and test == "knha":
        notes.append(f"the Knapp-Hartung method is not meant to be used with {meth} models")
    if vi.max() / vi.min() >= 1e7:
        notes.append("ratio of largest to smallest sampling variance is extremely large; "
                     "results may be unstable")

    # ------------------------------------------------------------ tau^2
    converged, iterations, se_tau2 = True, None, None
    if is_ee:
        t2 = 0.0
    elif k == 1:
        t2 = 0.0 if tau2_fixed is None else tau2_fixed
    else:
        est = estimate_tau2(meth, yi, vi, X, tau2_fixed, control)
        t2, se_tau2 = est.tau2, est.se_tau2
        converged, iterations = est.converged, est.iterations
        notes.extend(est.warnings)
    if not converged:
        _warnings.warn("; ".join(notes) or f"{meth} did not converge", ConvergenceWarning,
                       stacklevel=2)
        return _unconverged(yi, vi, X, names, labels, meth, test, level, measure, ni,
                            iterations, notes)

    # ------------------------------------------------------------ fixed effects
    w = 1.0 / (vi + t2)
    fit = wls(X, yi, w)
    beta, vb = fit.beta, fit.vb
    s2w = 1.0
    df = None
    if test == "knha":
        s2w = 0.0 if fit.rss <= np.finfo(float).eps else fit.rss / (k - p)
        if s2w == 0.0:
            notes.append("the Knapp-Hartung factor is 0 (the model fits the estimates "
                         "exactly): standard errors are 0, as in metafor")
        vb = vb * s2w
        df = k - p
    se = np.sqrt(np.diag(vb))
    stat, pval, ci_lb, ci_ub = wald_tests(beta, se, alpha, df)
    if int_only:
        btt = [0]
    elif icol.any():
        btt = [j for j in range(p) if not icol[j]]
    else:
        btt = list(range(p))
    QM, QM_m, QMp = omnibus_test(beta, vb, btt, df)

    # ------------------------------------------------------------ heterogeneity
    if k > p:
        pr0 = Proj(X, 1.0 / vi)
        Q = max(0.0, pr0.quad(yi - yi.mean()))
        Qp = float(special.chdtrc(k - p, Q))
        vt = (k - p) / pr0.trP()
        if is_ee:
            I2 = max(0.0, 100 * (Q - (k - p)) / Q) if Q > 0 else 0.0
            H2 = Q / (k - p)
        else:
            I2 = 100 * t2 / (vt + t2)
            H2 = t2 / vt + 1
    else:
        Q, Qp, I2, H2, vt = 0.0, 1.0, 0.0, 1.0, 0.0

    # ------------------------------------------------------------ prediction (first coef)
    x0 = np.zeros(p)
    x0[0] = 1.0
    pr = _predict_rows(x0[None, :], beta, vb, t2, alpha, df, is_ee)
    if k == 1 and tau2_fixed is None:
        # tau^2 is unknown with one study: no prediction interval (metafor prints the CI)
        pr.pi_lower[:] = np.nan
        pr.pi_upper[:] = np.nan

    # ------------------------------------------------------------ Q-profile CI
    ci: Tau2CI | None = None
    if confint and not is_ee and tau2_fixed is None and k > 1 and k - p >= 1:
        ci = qprofile_ci(yi, vi, X, tau2=t2, level=level)
        if ci.ci_null or ci.upper_sign == ">" or not ci.converged:
            notes.extend(ci.notes)

    # ------------------------------------------------------------ moderators
    mods = None
    if not int_only:
        R2 = None
        if icol.any():
            R2 = _r2(yi, vi, X, icol, meth, t2, control, is_ee)
            if R2 is not None and math.isnan(R2):
                notes.append("R^2 is not available: the model without moderators could not "
                             "be fitted")
        mods = ModeratorResult(
            names=list(names), coef=beta, se=se, statistic=stat, pvalue=pval,
            ci_lower=ci_lb, ci_upper=ci_ub, QM=QM, QM_df=QM_m, QM_pvalue=QMp, R2=R2,
            QM_df2=df,
        )

    weights = 100 * w / w.sum()
    if k == 1:
        _warnings.warn("; ".join(n for n in notes if n.startswith("k = 1")), UserWarning,
                       stacklevel=2)
    return MetaResult(
        k=k, measure=measure, method=meth, test=test, level=float(level),
        estimate=float(beta[0]), se=float(se[0]), statistic=float(stat[0]),
        pvalue=float(pval[0]), ci_lower=float(ci_lb[0]), ci_upper=float(ci_ub[0]),
        pi_lower=float(pr.pi_lower[0]), pi_upper=float(pr.pi_upper[0]), tau2=float(t2),
        Q=Q, Q_df=k - p, Q_pvalue=Qp, I2=float(I2), H2=float(H2), study=labels, yi=yi,
        vi=vi, weights=weights, df=None if df is None else float(df),
        se_tau2=None if se_tau2 is None else float(se_tau2),
        tau2_ci_lower=None if ci is None else ci.tau2_lower,
        tau2_ci_upper=None if ci is None else ci.tau2_upper,
        I2_ci_lower=None if ci is None else ci.I2_lower,
        I2_ci_upper=None if ci is None else ci.I2_upper,
        H2_ci_lower=None if ci is None else ci.H2_lower,
        H2_ci_upper=None if ci is None else ci.H2_upper,
        converged=True, iterations=iterations, warnings=notes, moderators=mods,
        ni=None if ni is None else np.asarray(ni, float), X=X, beta=beta, vb=vb,
        settings={
            "mod_names": list(names), "s2w": s2w, "vt": vt, "btt": btt,
            "tau2_fixed": tau2_fixed, "control": control, "QM": QM, "QM_df": QM_m,
            "QM_pvalue": QMp, "tau2_ci": ci, "int_only": int_only,
        },
    )


def _r2(yi, vi, X, icol, meth, t2, control, is_ee) -> float | None:
    """metafor's pseudo-R² (percent): EE -> adjusted weighted R²; RE -> refit without
    moderators and ``max(0, 100 (tau2_0 - tau2) / tau2_0)`` (0 when ``tau2_0 = 0``)."""
    if is_ee:
        return r2_equal_effects(yi, X, 1.0 / vi)
    k = yi.size
    if k < 2:
        return math.nan
    est = estimate_tau2(meth, yi, vi, np.ones((k, 1)), None, control)
    if not est.converged:
        return math.nan
    if est.tau2 == 0:
        return 0.0
    # Clipped to [0, 100]: 100 * (a - t2) / a can round to 100.00000000000001.
    return min(100.0, max(0.0, 100 * (est.tau2 - t2) / est.tau2))


@dataclass
class Prediction(Result):
    """Predicted values ``X_new beta`` with CIs and prediction intervals (``predict.rma``).

    ``to_dict()`` keys: ``pred, se, ci_lower, ci_upper, pi_lower, pi_upper`` (lists).
    """

    pred: np.ndarray
    se: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    pi_lower: np.ndarray
    pi_upper: np.ndarray

    def summary(self) -> str:
        rows = [[str(i + 1), self.pred[i], self.se[i], self.ci_lower[i], self.ci_upper[i],
                 self.pi_lower[i], self.pi_upper[i]] for i in range(len(self.pred))]
        return format_table(["", "pred", "se", "ci.lb", "ci.ub", "pi.lb", "pi.ub"], rows)


def _predict_rows(Xn, beta, vb, t2, alpha, df, is_ee) -> Prediction:
    pred = Xn @ beta
    vpred = np.einsum("ij,jk,ik->i", Xn, vb, Xn)
    vpred = np.where(vpred < 0, np.nan, vpred)
    se = np.sqrt(vpred)
    if df is None:
        crit = -special.ndtri(alpha / 2)
    else:
        crit = -special.stdtrit(df, alpha / 2) if df > 0 else math.nan
    if is_ee:
        pil = piu = np.full_like(pred, np.nan)
    else:
        half = crit * np.sqrt(vpred + t2)
        pil, piu = pred - half, pred + half
    return Prediction(pred=pred, se=se, ci_lower=pred - crit * se, ci_upper=pred + crit * se,
                      pi_lower=pil, pi_upper=piu)


def predict(result: MetaResult, newmods=None, *, level: float | None = None) -> Prediction:
    """Predictions from a fitted ``rma`` model (metafor ``predict.rma``).

    Parameters
    ----------
    result : MetaResult
        A model from :func:`fit_rma`.
    newmods : array_like, optional
        Rows of moderator values **without** the intercept column (as metafor's
        ``newmods``); the intercept is added when the model has one. ``None``: the
        intercept-only prediction (the pooled estimate) or, for meta-regression, the
        fitted values of the studies.
    level : float, optional
        Confidence level in percent (default: the model's).
    """
    if result.X is None or result.beta is None or result.vb is None:
        raise InputError("this result has no model matrix (not an rma fit)", column="result")
    X, beta, vb = result.X, result.beta, result.vb
    p = X.shape[1]
    icol = intercept_columns(X)
    has_int = bool(icol[0])
    if newmods is None:
        Xn = X[:1] if result.settings.get("int_only") else X
    else:
        q = p - int(has_int)
        nm = np.asarray(newmods, dtype=float)
        if nm.ndim == 0:
            nm = nm.reshape(1, 1)
        elif nm.ndim == 1:
            nm = nm[:, None] if q == 1 else nm[None, :]
        if q == 0:
            nm = np.ones((nm.shape[0], 0))
        if nm.ndim != 2 or nm.shape[1] != q:
            raise InputError(f"newmods needs {q} column(s) (moderators without the "
                             "intercept)", column="newmods")
        Xn = np.column_stack([np.ones(nm.shape[0]), nm]) if has_int else nm
    alpha = _alpha(result.level if level is None else level)
    return _predict_rows(Xn, beta, vb, result.tau2, alpha, result.df,
                         result.method in ("EE", "FE"))


def _unconverged(yi, vi, X, names, labels, meth, test, level, measure, ni, iterations,
                 notes) -> MetaResult:
    k, p = X.shape
    nan = math.nan
    return MetaResult(
        k=k, measure=measure, method=meth, test=test, level=float(level), estimate=nan,
        se=nan, statistic=nan, pvalue=nan, ci_lower=nan, ci_upper=nan, pi_lower=nan,
        pi_upper=nan, tau2=nan, Q=nan, Q_df=k - p, Q_pvalue=nan, I2=nan, H2=nan,
        study=labels, yi=yi, vi=vi, weights=np.full(k, nan),
        df=float(k - p) if test == "knha" else None, converged=False,
        iterations=iterations, warnings=list(notes), ni=None if ni is None else
        np.asarray(ni, float), X=X, settings={"mod_names": list(names)},
    )

