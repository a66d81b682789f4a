r"""Cox proportional hazards regression, exactly as ``survival::coxph``, linear in n.

The model: the hazard of the event of interest for a patient with covariates ``x`` is
``h(t | x) = h_0s(t) exp(x' beta)``, ``h_0s`` an unspecified baseline per stratum ``s``.
``beta`` maximises the partial likelihood (Cox 1972) with tied event times handled by
Efron's (1977, default, as ``coxph``) or Breslow's (1974) approximation:

.. math::

    \ell(\beta) = \sum_g \Big[\sum_{i \in D_g} w_i x_i'\beta
        - \sum_{e=0}^{d_g-1} \bar w_g \log\big(S^0_g - \tfrac{e}{d_g} E^0_g\big)\Big]

(``S0_g`` the weighted risk-set sum of ``exp(x'beta)`` at event time ``g``, ``E0_g`` the same
over the ``d_g`` tied events, ``wbar_g`` their mean weight; Breslow drops the ``e/d_g``).

**Competing causes (cause-specific hazards).** ``status == cause`` is the event; every other
code, 0 (censored) and the competing causes alike, is treated as censored at its time. This is
the cause-specific Cox model (Prentice et al. 1978), ``coxph(Surv(time, status == cause) ~ .)``.
For the subdistribution hazard use Fine-Gray (:mod:`drivervte.survival.finegray`).

**Delayed entry** (left truncation, ``entry``): counting-process data ``(entry, time]``; a
patient is at risk at ``t`` when ``entry < t <= time`` (``Surv(entry, time, event)``).

**Robust variance**: Lin & Wei (1989) sandwich from the dfbeta residuals, summed within
clusters; z, p and CI then use it, as ``summary.coxph`` does. ``robust=None`` (default)
decides as ``coxph`` (survival 3.5) does when its ``robust`` is missing: robust when a
``cluster`` is given or any case weight is not an integer (``any(w != floor(w))``, e.g.
inverse-probability weights), model-based otherwise; the switch is noted in ``warnings``.
``robust=True``/``False`` force it; ``robust=False`` with a ``cluster`` ignores the cluster
with a warning, as ``coxph`` ("cluster specified with robust=FALSE, cluster ignored").
``variance`` and ``variance_reason`` in the result say which was used and why.

**Monotone likelihood** (e.g. no events in one group): ``coxph``'s test is applied: when the
loglik converged but ``|U' V| > sqrt(tol) |beta|`` for a coefficient, it may be infinite
("Loglik converged before variable ..."). Such coefficients are listed in ``infinite``,
``converged`` is False, their z, p and CI are NaN, and a ``ConvergenceWarning`` is issued.

The algorithm is survival's, step for step (see :mod:`.cox_newton`), with every sum done by
cumulative sums over data sorted once (see :mod:`.cox_scan`): one Newton step costs
O(n p^2). Unlike ``coxph`` with ``timefix = TRUE``, times are compared exactly: times that
differ only by floating-point noise are *not* merged into ties.

References
----------
Cox DR (1972) JRSS-B 34:187-220. Efron B (1977) JASA 72:557-565. Breslow NE (1974)
Biometrics 30:89-99. Lin DY, Wei LJ (1989) JASA 84:1074-1078. Therneau TM, Grambsch PM
(2000) *Modeling Survival Data*. Springer. R: ``survival::coxph`` (``coxfit6.c``,
``agfit4.c``, ``coxscore2.c``).

Examples
--------
>>> import numpy as np
>>> t = np.array([1., 1., 2., 2., 2., 3.]); s = np.array([1, 0, 1, 1, 0, 1])
>>> x = np.array([[1.], [0.], [0.], [1.], [1.], [0.]])
>>> CoxPH().fit(time=t, status=s, X=x, covariates=["x"]).result_.converged
True
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from drivervte.errors import ConvergenceWarning, InputError, NotFittedError
from drivervte.survival.causes import check_status_codes, normalize_causes
from drivervte.survival.cox_concordance import concordance as concordance_counts
from drivervte.survival.cox_input import as_codes, as_float, check_design
from drivervte.survival.cox_newton import newton_cox
from drivervte.survival.cox_result import CoxResult
from drivervte.survival.cox_scan import CoxProblem
from drivervte.survival.cox_variance import (
    chi2_test,
    robust_score_test,
    robust_variance,
    variance_rule,
    wald_statistic,
)
from drivervte.survival.design import check_categorical_input

__all__ = ["CoxPH", "CoxResult"]

#: Largest n for which ``concordance="auto"`` computes Harrell's C.
CONCORDANCE_AUTO_MAX = 100_000


def _sqrt_diag(V: np.ndarray) -> np.ndarray:
    """Standard errors; NaN (not a RuntimeWarning) where a variance is negative or NaN."""
    d = np.diag(V).copy()
    d[~(d >= 0)] = np.nan
    return np.sqrt(d)


class CoxPH:
    """Cox proportional hazards estimator (``survival::coxph``).

    Parameters
    ----------
    ties:
        ``"efron"`` (default, as ``coxph``) or ``"breslow"``.
    robust:
        ``None`` (default): as ``coxph`` decides, robust (Lin-Wei) variance when ``cluster``
        is given or the case weights are not all integers. ``True``/``False`` force it.
    max_iter, tol:
        Newton-Raphson limits, as ``coxph.control(iter.max=, eps=)``: stop when the relative
        change of the log partial likelihood is ``<= tol``. Defaults are coxph's (20, 1e-9).
    level:
        Confidence level of the hazard-ratio intervals.
    concordance:
        Harrell's C of the linear predictor (``coxph``'s ``concordance``, without its
        standard error): ``"auto"`` (default) computes it up to n = 100,000 rows (it costs
        O(n log n) with a larger constant than the fit), ``True`` always, ``False`` never.

    Attributes (after ``fit``)
    --------------------------
    result_ : CoxResult
    coef_, var_ : the estimate and its variance (robust when robust)
    names_ : covariate names

    See the module docstring for the model, conventions and references.
    """

    def __init__(
        self,
        ties: str = "efron",
        robust: bool | None = None,
        max_iter: int = 20,
        tol: float = 1e-9,
        level: float = 0.95,
        concordance: bool | str = "auto",
    ) -> None:
        self.concordance = concordance
        self.ties = ties
        self.robust = robust
        self.max_iter = max_iter
        self.tol = tol
        self.level = level

    # -------------------------------------------------------------- validation
    def _check_options(self) -> None:
        if self.ties not in ("efron", "breslow"):
            raise InputError("ties must be 'efron' or 'breslow'", column="ties")
        if not (isinstance(self.max_iter, (int, np.integer)) and self.max_iter >= 0):
            raise InputError("max_iter must be a non-negative integer", column="max_iter")
        if not (0 < self.tol < 1):
            raise InputError("tol must be in (0, 1)", column="tol")
        if not (0 < self.level < 1):
            raise InputError("level must be in (0, 1)", column="level")
        if self.robust not in (None, True, False):
            raise InputError("robust must be None (as coxph), True or False", column="robust")
        if self.concordance not in (True, False, "auto"):
            raise InputError("concordance must be True, False or 'auto'", column="concordance")

    def fit(
        self,
        data: Any = None,
        *,
        time: Any,
        status: Any,
        covariates: Sequence[str] | None = None,
        X: Any = None,
        cause: int = 1,
        strata: Any = None,
        cluster: Any = None,
        weights: Any = None,
        entry: Any = None,
        reference: Mapping[str, Any] | None = None,
        missing: str = "error",
        causes: Sequence[int] | None = None,
        categorical: Sequence[str] | None = None,
    ) -> CoxPH:
        """Fit the model; returns ``self`` with ``result_`` set.

        Two ways to give data:

        - ``data`` a DataFrame or a file path: ``time``, ``status``, ``entry``, ``strata``,
          ``cluster``, ``weights`` are column names and ``covariates`` a list of columns,
          coded by :func:`drivervte.survival.cohort.prepare_cohort` (categorical columns
          become treatment dummies, ``reference={col: level}``; ``categorical=[...]`` codes
          numeric columns as categories too; ``missing="exclude"`` drops
          incomplete rows and reports them in ``excluded``).
        - ``data=None``: ``time``, ``status`` (and ``entry``, ``strata``, ``cluster``,
          ``weights``) are arrays, ``X`` an (n, p) array, ``covariates`` its column names.

        ``status`` codes: 0 censored, ``cause`` the event, any other code a competing cause,
        censored for this cause-specific model. ``causes`` (optional) declares the cause
        codes: any other non-zero code is then an ``InputError`` naming the status column and
        the rows (1-based in the message) instead of a further competing cause; ``cause``
        must be one of them, and a declared cause with no events is allowed (see
        :mod:`drivervte.survival.causes`).
        """
        self._check_options()
        causes = normalize_causes(causes, cause=cause)
        excluded: list[dict] = []
        if isinstance(covariates, str):
            covariates = [covariates]
        if data is not None and X is not None:
            raise InputError("give either data (with covariate columns) or X, not both", column="X")
        check_categorical_input(categorical, data)
        if data is not None:
            arrays = self._from_table(
                data,
                time=time,
                status=status,
                covariates=covariates,
                strata=strata,
                cluster=cluster,
                weights=weights,
                entry=entry,
                reference=reference,
                missing=missing,
                causes=causes,
                categorical=categorical or (),
            )
            t, s, Xa, names, st, cl, w, e, excluded = arrays
        else:
            if X is None:
                raise InputError("give X (an n x p array) or data with covariates", column="X")
            t, s, Xa, names, st, cl, w, e = (
                time,
                status,
                X,
                covariates,
                strata,
                cluster,
                weights,
                entry,
            )
            if names is None and hasattr(X, "columns"):  # a DataFrame of covariates
                names = [str(c) for c in X.columns]
        self.result_ = self._fit_arrays(
            t, s, Xa, names, cause, st, cl, w, e, excluded, causes=causes if data is None else None
        )
        self.coef_ = self.result_.coef
        self.var_ = self.result_.vcov
        self.names_ = list(self.result_.names)
        return self

    def _from_table(
        self,
        data,
        *,
        time,
        status,
        covariates,
        strata,
        cluster,
        weights,
        entry,
        reference,
        missing,
        causes=None,
        categorical=(),
    ):
        from drivervte.survival.cohort import prepare_cohort, read_table

        df = read_table(data)
        if not covariates:
            raise InputError("give at least one covariate", column="covariates")
        for col in (weights, cluster):
            if col is not None and col not in df.columns:
                raise InputError(
                    f"no such column; the table has {list(map(str, df.columns))}", column=col
                )
        cohort = prepare_cohort(
            df,
            time=time,
            status=status,
            covariates=covariates,
            strata=strata,
            group=cluster,
            entry=entry,
            reference=reference,
            missing=missing,
            causes=causes,
            categorical=categorical,
        )
        w = None
        if weights is not None:
            wcol = df[weights].reset_index(drop=True).iloc[cohort.rows]
            wv = pd.to_numeric(wcol, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            if np.isnan(wv).any():
                raise InputError(
                    "weights must be numbers (missing or non-numeric values)",
                    column=weights,
                    rows=cohort.rows[np.isnan(wv)],
                )
            w = wv
        return (
            cohort.time,
            cohort.status,
            cohort.X,
            cohort.covariate_names,
            cohort.strata,
            cohort.group,
            w,
            cohort.entry,
            list(cohort.excluded),
        )

    def _fit_arrays(
        self, time, status, X, names, cause, strata, cluster, weights, entry, excluded, causes
    ) -> CoxResult:
        t = as_float(time, "time", None)
        n = t.shape[0]
        s = as_float(status, "status", n)
        Xa = np.asarray(X, dtype=float)
        if Xa.ndim == 1:
            Xa = Xa[:, None]
        if Xa.ndim != 2 or Xa.shape[0] != n:
            raise InputError(f"X must be an array of shape (n={n}, p)", column="X")
        p = Xa.shape[1]
        if p == 0:
            raise InputError("give at least one covariate", column="covariates")
        names = [f"x{j + 1}" for j in range(p)] if names is None else [str(c) for c in names]
        if len(names) != p:
            raise InputError(f"{len(names)} names for {p} columns of X", column="covariates")
        bad = ~np.isfinite(t)
        if bad.any():
            raise InputError(
                "times must be finite numbers", column="time", rows=np.flatnonzero(bad)
            )
        if (t < 0).any():
            raise InputError(
                "negative times; check the dates or the time unit",
                column="time",
                rows=np.flatnonzero(t < 0),
            )
        bad = ~np.isfinite(s) | (s != np.round(s)) | (s < 0)
        if bad.any():
            raise InputError(
                "status must be integer codes: 0 censored, 1..m causes",
                column="status",
                rows=np.flatnonzero(bad),
            )
        check_status_codes(s, causes)
        event = s == cause
        if not event.any():
            raise InputError(f"no events of cause {cause}; nothing to estimate", column="status")
        w = np.ones(n) if weights is None else as_float(weights, "weights", n)
        bad = ~np.isfinite(w) | (w <= 0)
        if bad.any():
            raise InputError(
                "weights must be finite and > 0 (as coxph)",
                column="weights",
                rows=np.flatnonzero(bad),
            )
        e = None
        if entry is not None:
            e = as_float(entry, "entry", n)
            bad = ~np.isfinite(e) | (e >= t)
            if bad.any():
                raise InputError(
                    "entry must be finite and before the exit time (R: start < stop)",
                    column="entry",
                    rows=np.flatnonzero(bad),
                )
        st = None if strata is None else as_codes(strata, "strata", n)[0]
        cl, n_cl = (None, None) if cluster is None else as_codes(cluster, "cluster", n)
        has_rwt = weights is not None and bool((w != np.floor(w)).any())
        robust, var_reason, var_notes = variance_rule(self.robust, cl is not None, has_rwt)
        if cl is not None and not robust:
            cl, n_cl = None, None
        means = check_design(Xa, names, w)
        problem = CoxProblem(t, event, Xa, w, st, e, self.ties, center=means)
        try:
            fit = newton_cox(problem, np.zeros(p), max_iter=self.max_iter, eps=self.tol)
        except np.linalg.LinAlgError as exc:
            raise InputError(
                f"the model cannot be fitted: {exc}; check for covariates with "
                "no variation among the patients with events",
                column="covariates",
            ) from None
        result = self._assemble(
            fit, problem, names, n, int(event.sum()), cause, w, cl, n_cl, excluded, robust
        )
        result.variance_reason = var_reason
        result.warnings[:0] = var_notes
        if self.concordance is True or (self.concordance == "auto" and n <= CONCORDANCE_AUTO_MAX):
            lp = (Xa - means) @ result.coef
            cc = concordance_counts(t, event, lp, w, st, e)
            result.concordance = {
                "concordant": cc.concordant,
                "discordant": cc.discordant,
                "tied_x": cc.tied_x,
                "concordance": cc.concordance,
            }
        else:
            reason = (
                "concordance=False"
                if self.concordance is False
                else (f"n > {CONCORDANCE_AUTO_MAX} with concordance='auto'; pass concordance=True")
            )
            result.warnings.append(f"concordance not computed ({reason})")
        return result

    def _assemble(self, fit, problem, names, n, events, cause, w, cl, n_cl, excluded, robust):
        p = len(names)
        notes: list[str] = []
        infinite: list[str] = []
        try:
            var_naive = np.linalg.inv(fit.information)
        except np.linalg.LinAlgError:
            var_naive = np.full((p, p), np.nan)
        var_naive = 0.5 * (var_naive + var_naive.T)
        beta = fit.beta
        converged = fit.converged
        toler_inf = np.sqrt(self.tol)
        infs = np.abs(fit.score @ var_naive)
        if not fit.converged:
            notes.append(
                f"did not converge in {self.max_iter} iterations (coxph: 'Ran out of "
                "iterations and did not converge'); estimates are not reliable"
            )
            flagged = ~np.isfinite(infs) | (np.abs(beta) > 20)
        else:
            flagged = ~np.isfinite(fit.score) | (
                (infs > self.tol) & (infs > toler_inf * np.abs(beta))
            )
        for j in np.flatnonzero(flagged):
            infinite.append(names[j])
        if infinite:
            converged = False
            notes.append(
                "loglik converged before coefficient(s) " + ", ".join(infinite) + " did: the "
                "coefficient may be infinite (monotone likelihood, e.g. no events in one "
                "group); its estimate, SE, CI and p-value are not meaningful"
            )
        se_naive = _sqrt_diag(var_naive)
        se_robust = None
        var = var_naive
        rscore = None
        if robust:
            cluster, n_clusters = (cl, n_cl) if cl is not None else (None, None)
            var = robust_variance(problem, beta, var_naive, w, cluster, n_clusters)
            se_robust = _sqrt_diag(var)
            rscore = chi2_test(robust_score_test(problem, w, cluster, n_clusters), p)
        se = se_robust if robust else se_naive
        z = beta / se
        pval = 2 * stats.norm.sf(np.abs(z))
        q = stats.norm.ppf(0.5 + self.level / 2)
        with np.errstate(over="ignore"):
            lo, hi = np.exp(beta - q * se), np.exp(beta + q * se)
        for j in np.flatnonzero(flagged):
            z[j] = pval[j] = lo[j] = hi[j] = np.nan
        if not fit.converged:
            z[:] = pval[:] = lo[:] = hi[:] = np.nan
        result = CoxResult(
            names=list(names),
            n=n,
            events=events,
            cause=int(cause),
            ties=self.ties,
            robust=robust,
            variance="robust" if robust else "model",
            coef=beta,
            se=se,
            se_naive=se_naive,
            se_robust=se_robust,
            z=z,
            pvalue=pval,
            ci_lower=lo,
            ci_upper=hi,
            level=self.level,
            vcov=var,
            vcov_naive=var_naive,
            loglik=fit.loglik,
            loglik_null=fit.loglik_init,
            lr_test=chi2_test(2 * (fit.loglik - fit.loglik_init), p),
            wald_test=chi2_test(wald_statistic(beta, var), p),
            score_test=chi2_test(fit.score_test, p),
            robust_score_test=rscore,
            converged=converged,
            iterations=fit.iterations,
            n_clusters=n_cl if cl is not None else None,
            infinite=infinite,
            excluded=list(excluded),
            warnings=notes,
        )
        for msg in notes:
            warnings.warn(msg, ConvergenceWarning, stacklevel=4)
        return result

    # -------------------------------------------------------------- fitted API
    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: fitted attributes before fit()
        if name in ("result_", "coef_", "var_", "names_"):
            raise NotFittedError(f"CoxPH is not fitted yet: call fit(...) before using {name}")
        raise AttributeError(name)

    def _check_fitted(self) -> None:
        if "result_" not in self.__dict__:
            raise NotFittedError("CoxPH is not fitted yet: call fit(...) first")

    def summary(self) -> str:
        self._check_fitted()
        return self.result_.summary()

    def predict_linear(self, X: Any) -> np.ndarray:
        """Linear predictor ``X beta`` (uncentred; ``predict(fit, type="lp")`` adds centring)."""
        self._check_fitted()
        Xa = np.asarray(X, dtype=float)
        if Xa.ndim == 1:
            Xa = Xa[:, None]
        if Xa.shape[1] != len(self.coef_):
            raise InputError(f"X must have {len(self.coef_)} columns ({self.names_})", column="X")
        return Xa @ self.coef_
