r"""Small-study effects: Egger's regression test, Begg's rank test, trim-and-fill.

- :func:`egger_test`: the classical Egger test as metafor ``regtest(res, model = "lm",
  predictor = "sei")`` (weighted least squares of ``yi`` on ``sei`` with weights ``1/vi``
  and a multiplicative dispersion), together with metafor's default ``regtest(res)`` (the
  meta-regression test, ``model = "rma"``).
- :func:`rank_test`: Begg & Mazumdar's rank correlation test as metafor ``ranktest``.
- :func:`trimfill` (in :mod:`drivervte.meta.trimfill`): Duval & Tweedie's trim-and-fill as
  metafor ``trimfill``.

Number of studies. The Cochrane Handbook (section 13.3.5.4) advises against funnel-plot
asymmetry tests with fewer than 10 studies: with k < 10 these functions warn
(:class:`~drivervte.errors.SmallSampleWarning`) and say so in the result's ``warnings``.
With k < 3 they raise :class:`~drivervte.errors.InputError`: the regression test has no
residual degrees of freedom (metafor returns ``NaN``), Kendall's tau of two points is
always +-1 with p = 1, and trim-and-fill cannot pick a side.

References
----------
Egger M, Davey Smith G, Schneider M, Minder C (1997). Bias in meta-analysis detected by a
simple, graphical test. BMJ 315:629-634.
Begg CB, Mazumdar M (1994). Operating characteristics of a rank correlation test for
publication bias. Biometrics 50:1088-1101.
Sterne JAC, Egger M (2005). Regression methods to detect publication and other bias in
meta-analysis. In: Publication Bias in Meta-Analysis. Wiley, 99-110.
Higgins JPT et al. (eds) (2023). Cochrane Handbook for Systematic Reviews of Interventions,
version 6.4, section 13.3.5.4.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from drivervte.errors import InputError, SmallSampleWarning
from drivervte.meta._kendall import kendall_test
from drivervte.meta._refit import is_mh_peto, refit
from drivervte.meta.result import MetaResult
from drivervte.meta.trimfill import TrimFillResult, trimfill
from drivervte.results import Result, fmt_num, fmt_p

__all__ = [
    "EggerResult",
    "RankTestResult",
    "RegTestRMA",
    "TrimFillResult",
    "egger_test",
    "rank_test",
    "small_sample_notes",
    "trimfill",
]

#: Below this many studies the bias tests warn (Cochrane Handbook 13.3.5.4).
MIN_K_RELIABLE = 10
#: Below this many studies the bias tests raise InputError.
MIN_K = 3


def small_sample_notes(res: MetaResult, what: str, stacklevel: int = 3) -> list[str]:
    """Check k for a funnel-asymmetry method: InputError below 3, a warning below 10."""
    if not isinstance(res, MetaResult):
        raise InputError(f"{what} needs a fitted MetaResult, got {type(res).__name__}",
                         column="result")
    k = len(res.yi)  # MH/Peto: only studies with an effect size enter the tests
    if k < MIN_K:
        raise InputError(f"{what} needs at least {MIN_K} studies with an effect size; this "
                         f"model has k = {k}", column="yi")
    if k < MIN_K_RELIABLE:
        msg = (f"{what} with k = {k} < {MIN_K_RELIABLE} studies has low power and is "
               "not recommended (Cochrane Handbook 13.3.5.4); interpret with caution")
        warnings.warn(msg, SmallSampleWarning, stacklevel=stacklevel)
        return [msg]
    return []


def _design(res: MetaResult) -> tuple[np.ndarray, bool]:
    """The model's design (intercept only for MH/Peto) and whether it is intercept-only."""
    k = len(res.yi)  # MH/Peto: studies with an effect size (metafor's k.yi), not res.k
    if is_mh_peto(res) or res.X is None:
        return np.ones((k, 1)), True
    X = np.asarray(res.X, float)
    return X, X.shape[1] == 1 and bool(np.all(X[:, 0] == 1))


@dataclass
class RegTestRMA(Result):
    """metafor's default ``regtest(res)``: the model refitted as a meta-regression on
    ``sei`` (same method, test and level; MH/Peto models as an equal-effects model).

    ``statistic`` is z (or t with ``df`` under Knapp-Hartung) for the ``sei`` coefficient
    ``bias``; ``limit_estimate`` and its CI are the intercept (the estimate as sei -> 0),
    ``None`` for models with moderators (as metafor).
    """

    statistic: float
    df: float | None
    pvalue: float
    test: str
    method: str
    bias: float
    bias_se: float
    limit_estimate: float | None
    ci_lower: float | None
    ci_upper: float | None
    tau2: float
    note: str | None = None

    def summary(self) -> str:
        stat = "t" if self.df is not None else "z"
        df = f", df = {fmt_num(self.df, 0)}" if self.df is not None else ""
        out = (f"meta-regression test ({self.method}, {self.test}): {stat} = "
               f"{fmt_num(self.statistic)}{df}, p = {fmt_p(self.pvalue)}")
        if self.limit_estimate is not None:
            out += (f"; limit estimate {fmt_num(self.limit_estimate)} "
                    f"({fmt_num(self.ci_lower)}, {fmt_num(self.ci_upper)})")
        return out


@dataclass
class EggerResult(Result):
    r"""Egger's regression test for funnel-plot asymmetry.

    The classical test (metafor ``regtest(res, model = "lm", predictor = "sei")``): the
    weighted regression

    .. math:: y_i = b_0 + b_1\,\mathrm{se}_i + \varepsilon_i,\quad
              \operatorname{Var}(\varepsilon_i) = \phi\, v_i

    fitted by weighted least squares with weights ``1/vi`` (``phi`` estimated, as R's
    ``lm(weights=)``). This is Egger's original regression of the standard normal deviate
    on precision with the roles of the coefficients swapped: ``bias = b_1`` is Egger's
    intercept. ``t`` tests ``b_1 = 0`` on ``df = k - p - 1`` degrees of freedom;
    ``limit_estimate = b_0`` is the effect as ``se -> 0`` with a t-based CI at the model's
    level (``None`` with moderators).

    ``to_dict()`` keys: ``k, t, df, pvalue, bias, bias_se, limit_estimate, ci_lower,
    ci_upper, level, model, predictor, rma {statistic, df, pvalue, test, method, bias,
    bias_se, limit_estimate, ci_lower, ci_upper, tau2, note}, warnings``.
    """

    k: int
    t: float
    df: int
    pvalue: float
    bias: float
    bias_se: float
    limit_estimate: float | None
    ci_lower: float | None
    ci_upper: float | None
    level: float
    rma: RegTestRMA | None
    model: str = "lm"
    predictor: str = "sei"
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"Egger's regression test (weighted regression of yi on sei, k = {self.k})",
            f"  t = {fmt_num(self.t)}, df = {self.df}, p = {fmt_p(self.pvalue)}; "
            f"bias coefficient {fmt_num(self.bias)} (se {fmt_num(self.bias_se)})",
        ]
        if self.limit_estimate is not None:
            lines.append(f"  limit estimate (sei -> 0): {fmt_num(self.limit_estimate)} "
                         f"({self.level:g}% CI {fmt_num(self.ci_lower)} to "
                         f"{fmt_num(self.ci_upper)})")
        if self.rma is not None:
            lines.append("  " + self.rma.summary())
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)


def _alpha(level: float) -> float:
    level = float(level)
    return 1 - level / 100 if level >= 1 else 1 - level


def _wls_lm(yi: np.ndarray, vi: np.ndarray, X: np.ndarray):
    """``lm(yi ~ X - 1, weights = 1/vi)``: coefficients, their SEs and residual df."""
    import statsmodels.api as sm

    fit = sm.WLS(yi, X, weights=1.0 / vi).fit()
    return np.asarray(fit.params), np.asarray(fit.bse), round(fit.df_resid)


def egger_test(res: MetaResult) -> EggerResult:
    """Egger's regression test (metafor ``regtest``), classical and meta-regression.

    Parameters
    ----------
    res : MetaResult
        Any fitted model (rma, Mantel-Haenszel or Peto). Its ``yi``, ``vi`` and design
        matrix are used; MH/Peto models use an intercept only (as metafor).

    Returns
    -------
    EggerResult
        The classical test (``model = "lm"``) and, in ``rma``, the meta-regression variant
        refitted with the model's method, test and level (metafor's default).

    Raises
    ------
    InputError
        k < 3 (no residual degrees of freedom), or adding ``sei`` makes the design matrix
        rank-deficient (e.g. all studies have the same variance).
    """
    notes = small_sample_notes(res, "Egger's regression test")
    yi, vi = np.asarray(res.yi, float), np.asarray(res.vi, float)
    X0, int_only = _design(res)
    p = X0.shape[1]
    sei = np.sqrt(vi)
    X = np.column_stack([X0, sei])
    if np.linalg.matrix_rank(X) < X.shape[1] or len(yi) <= X.shape[1]:
        raise InputError(
            "the design matrix is no longer of full rank after adding the standard errors "
            "(e.g. all studies have the same variance); the regression test cannot be "
            "fitted", column="vi")
    coef, bse, df = _wls_lm(yi, vi, X)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = float(coef[p] / bse[p])
    pval = float(2 * stats.t.sf(abs(t), df)) if math.isfinite(t) else math.nan
    resid = yi - X @ coef
    scale = max(1.0, float(np.max(np.abs(yi))))
    if math.sqrt(float(np.sum(resid ** 2 / vi)) / df) <= 1e-10 * scale:
        # an exact fit (e.g. all effects equal): R's lm reports noise; drivervte says so.
        t, pval = math.nan, math.nan
        notes.append("the regression fits the effects exactly (zero residual variance); "
                     "the t statistic is undefined")
    alpha = _alpha(res.level)
    est = lo = hi = None
    if int_only:
        crit = stats.t.isf(alpha / 2, df)
        est = float(coef[0])
        lo, hi = est - crit * float(bse[0]), est + crit * float(bse[0])
    return EggerResult(
        k=len(yi), t=t, df=df, pvalue=pval, bias=float(coef[p]), bias_se=float(bse[p]),
        limit_estimate=est, ci_lower=lo, ci_upper=hi, level=res.level,
        rma=_regtest_rma(res, yi, vi, X, p, int_only), warnings=notes,
    )


def _regtest_rma(res, yi, vi, X, p, int_only) -> RegTestRMA:
    method = "EE" if is_mh_peto(res) else res.method
    test = "z" if is_mh_peto(res) else res.test
    out = refit(res, yi, vi, X, study=list(res.study), method=method, test=test)
    nan = math.nan
    if not out.ok or out.fit.moderators is None:
        return RegTestRMA(statistic=nan, df=None, pvalue=nan, test=test, method=method,
                          bias=nan, bias_se=nan, limit_estimate=None, ci_lower=None,
                          ci_upper=None, tau2=nan, note=out.problem or "refit failed")
    m = out.fit.moderators
    return RegTestRMA(
        statistic=float(m.statistic[p]), df=out.fit.df, pvalue=float(m.pvalue[p]),
        test=out.fit.test, method=method, bias=float(m.coef[p]), bias_se=float(m.se[p]),
        limit_estimate=float(m.coef[0]) if int_only else None,
        ci_lower=float(m.ci_lower[0]) if int_only else None,
        ci_upper=float(m.ci_upper[0]) if int_only else None, tau2=float(out.fit.tau2),
        note="; ".join(out.notes) or None,
    )


@dataclass
class RankTestResult(Result):
    r"""Begg & Mazumdar's rank correlation test (metafor ``ranktest``).

    With the equal-effects estimate ``theta = sum(y/v)/sum(1/v)`` and ``vb = 1/sum(1/v)``
    (metafor uses these whatever the model's method), the standardised effects
    ``(y_i - theta)/sqrt(v_i - vb)`` are correlated with ``v_i`` by Kendall's tau-b; the
    p-value is exact when there are no ties, else the normal approximation (R's
    ``cor.test(..., method = "kendall", exact = TRUE)``, see
    :mod:`drivervte.meta._kendall`).

    ``to_dict()`` keys: ``k, tau, pvalue, exact, statistic`` (the number of concordant
    pairs when exact, else z), ``ties, warnings``.
    """

    k: int
    tau: float
    pvalue: float
    exact: bool
    statistic: float
    ties: bool
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        how = "exact" if self.exact else "normal approximation" + (
            " (ties)" if self.ties else "")
        lines = [f"Rank correlation test (Begg & Mazumdar), k = {self.k}: Kendall's tau = "
                 f"{fmt_num(self.tau)}, p = {fmt_p(self.pvalue)} ({how})"]
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)


def rank_test(res: MetaResult, *, exact: bool = True) -> RankTestResult:
    """Begg & Mazumdar's rank correlation test for funnel-plot asymmetry (metafor
    ``ranktest``; ``exact`` as its ``exact`` argument).

    Raises
    ------
    InputError
        k < 3.
    """
    notes = small_sample_notes(res, "The rank correlation test")
    yi, vi = np.asarray(res.yi, float), np.asarray(res.vi, float)
    wi = 1.0 / vi
    theta = float(np.sum(wi * yi) / np.sum(wi))
    vb = 1.0 / float(np.sum(wi))
    dev = yi - theta
    # differences at rounding level are 0 (as metafor zeroes residuals in influence()):
    # otherwise equal effects would be ranked by floating-point noise.
    dev[np.abs(dev) < 100 * np.finfo(float).eps * max(1.0, abs(theta))] = 0.0
    ystar = dev / np.sqrt(vi - vb)
    kt = kendall_test(ystar, vi, exact=exact)
    if kt.ties and exact:
        notes.append("ties among the standardised effects or variances: the p-value uses "
                     "the normal approximation (as R's cor.test)")
    if math.isnan(kt.tau):
        notes.append("all variances (or all standardised effects) are equal: Kendall's tau "
                     "is undefined")
    return RankTestResult(k=len(yi), tau=kt.tau, pvalue=kt.pvalue, exact=kt.exact,
                          statistic=kt.statistic, ties=kt.ties, warnings=notes)
