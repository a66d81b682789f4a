r"""Logistic regression for a binary outcome ("any VTE during follow-up", case-control status).

Model: ``logit P(y = 1 | x) = b0 + x' b``. Two estimators:

- ``method="ml"`` (default): maximum likelihood by IRLS, a thin layer over statsmodels
  ``GLM(family=Binomial())`` iterated to a deviance change of 1e-12; the reference is R's
  ``glm(y ~ x, family = binomial)``. Odds ratios ``exp(b)``, Wald CIs ``exp(b +- z se)``
  (R's ``confint.default``), likelihood-ratio test against the intercept-only model.
- ``method="firth"``: Firth's (1993) penalised likelihood ``l(b) + 1/2 log|I(b)|`` (Heinze &
  Schemper 2002), which gives finite estimates under separation. Newton-Raphson on the
  modified score ``U*_j = sum_i (y_i - p_i + h_i (1/2 - p_i)) x_ij`` (``h`` the diagonal of
  the weighted hat matrix) with step-halving on the penalised loglik, as R's ``logistf``
  does; variance ``I(b)^{-1}``, Wald CIs, and the penalised LR test against a Firth
  intercept-only fit. ``logistf`` is not available here, so it is checked against a
  closed form instead: for one binary covariate the Firth estimate is the log odds ratio
  of the 2x2 table with 1/2 added to every cell. (``logistf``'s default profile-likelihood
  CIs are not offered; ours are Wald.)

**Separation.** When a linear combination of the covariates predicts the outcome perfectly
(e.g. every ALK-positive patient had VTE), the ML estimate is infinite, yet IRLS (and R's
``glm``, often silently) stops at some large finite value. We detect it *before* fitting by
the linear program of Konis (2007): maximise ``sum_i s_i x_i' b`` subject to
``s_i x_i' b >= 0`` (``s_i = 2 y_i - 1``) and ``|b_j| <= 1``; a positive optimum proves
(quasi-)complete separation and its non-zero coordinates name the covariates involved. With
``method="ml"`` the result then has ``separation=True``, ``converged=False``, a
:class:`~drivervte.errors.ConvergenceWarning`, and no p-values or CIs for those covariates;
refit with ``method="firth"``.

References: Albert A, Anderson JA (1984) Biometrika 71:1-10. Firth D (1993) Biometrika
80:27-38. Heinze G, Schemper M (2002) Stat Med 21:2409-2419. Konis K (2007) DPhil thesis,
Oxford (R package ``safeBinaryRegression``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from drivervte.errors import ConvergenceWarning, InputError, NotFittedError
from drivervte.results import Result, fmt_num, fmt_p, format_table, jsonable
from drivervte.survival.design import check_categorical_input, design_matrix, missing_mask

__all__ = ["Logistic", "LogisticResult", "detect_separation", "firth_logistic"]

INTERCEPT = "(Intercept)"


@dataclass
class LogisticResult(Result):
    """A fitted logistic regression.

    ``to_dict()`` keys (stable): ``n``, ``events`` (rows with y = 1), ``method`` (``ml`` or
    ``firth``), ``coef``, ``se``, ``z``, ``pvalue``, ``or`` (``exp(coef)``), ``ci_lower``,
    ``ci_upper`` (Wald CI of the odds ratio at ``level``), each ``{name: value}`` including
    ``(Intercept)``; ``level``, ``vcov`` (rows), ``loglik`` and ``loglik_null`` (penalised for
    Firth), ``deviance``, ``null_deviance``, ``aic`` (``-2 loglik + 2k``; ML only), ``lr_test``
    ``{statistic, df, pvalue}``, ``converged``, ``iterations``, ``separation`` (bool),
    ``separated`` (covariates in the separating direction), ``excluded``, ``warnings``.
    """

    names: list[str]
    n: int
    events: int
    method: str
    coef: np.ndarray
    se: np.ndarray
    z: np.ndarray
    pvalue: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    level: float
    vcov: np.ndarray
    loglik: float
    loglik_null: float
    deviance: float
    null_deviance: float
    aic: float
    lr_statistic: float
    lr_df: int
    lr_pvalue: float
    converged: bool
    iterations: int
    separation: bool = False
    separated: list[str] = field(default_factory=list)
    excluded: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def _by_name(self, v: np.ndarray) -> dict[str, Any]:
        return {nm: jsonable(float(x)) for nm, x in zip(self.names, v, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "events": self.events,
            "method": self.method,
            "coef": self._by_name(self.coef),
            "se": self._by_name(self.se),
            "z": self._by_name(self.z),
            "pvalue": self._by_name(self.pvalue),
            "or": self._by_name(np.exp(self.coef)),
            "ci_lower": self._by_name(self.ci_lower),
            "ci_upper": self._by_name(self.ci_upper),
            "level": self.level,
            "vcov": jsonable(self.vcov),
            "loglik": jsonable(self.loglik),
            "loglik_null": jsonable(self.loglik_null),
            "deviance": jsonable(self.deviance),
            "null_deviance": jsonable(self.null_deviance),
            "aic": jsonable(self.aic),
            "lr_test": {
                "statistic": jsonable(self.lr_statistic),
                "df": self.lr_df,
                "pvalue": jsonable(self.lr_pvalue),
            },
            "converged": self.converged,
            "iterations": self.iterations,
            "separation": self.separation,
            "separated": list(self.separated),
            "excluded": jsonable(self.excluded),
            "warnings": list(self.warnings),
        }

    def summary(self) -> str:
        rows = [
            [
                nm,
                self.coef[i],
                self.se[i],
                self.z[i],
                fmt_p(self.pvalue[i]),
                np.exp(self.coef[i]),
                self.ci_lower[i],
                self.ci_upper[i],
            ]
            for i, nm in enumerate(self.names)
        ]
        title = f"Logistic regression ({'Firth penalised' if self.method == 'firth' else 'ML'})"
        lvl = f"{self.level:.0%}"
        out = [
            format_table(
                ["", "coef", "se", "z", "Pr(>|z|)", "OR", f"OR lower {lvl}", f"OR upper {lvl}"],
                rows,
                title=title,
            )
        ]
        out.append(f"n= {self.n}, events= {self.events}")
        out.append(
            f"Likelihood ratio test= {fmt_num(self.lr_statistic, 2)} on {self.lr_df} df, "
            f"p={fmt_p(self.lr_pvalue)}"
        )
        out.append(
            f"loglik: null {fmt_num(self.loglik_null)}, model {fmt_num(self.loglik)}; "
            f"iterations {self.iterations}; converged {self.converged}"
        )
        if self.excluded:
            out.append(f"{len(self.excluded)} row(s) excluded (see 'excluded')")
        out.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(out)


def detect_separation(X: np.ndarray, y: np.ndarray, tol: float = 1e-7) -> np.ndarray | None:
    """Konis' LP test for (quasi-)complete separation; the separating direction or None.

    ``X`` includes the intercept column. Non-intercept columns are standardised first so
    ``tol`` is on a common scale (separation is invariant to affine recoding).
    """
    Z = X.astype(float).copy()
    sd = Z.std(axis=0)
    for j in range(Z.shape[1]):
        if sd[j] > 0:
            Z[:, j] = (Z[:, j] - Z[:, j].mean()) / sd[j]
    A = Z * (2 * y - 1)[:, None]
    res = optimize.linprog(
        -A.sum(axis=0),
        A_ub=-A,
        b_ub=np.zeros(len(y)),
        bounds=[(-1, 1)] * Z.shape[1],
        method="highs",
    )
    if res.status != 0 or -res.fun <= tol * len(y):
        return None
    return res.x


def _loglik(y: np.ndarray, eta: np.ndarray) -> float:
    # y eta - log(1 + e^eta), stably
    return float(np.sum(y * eta - np.logaddexp(0, eta)))


def firth_logistic(
    X: np.ndarray, y: np.ndarray, *, max_iter: int = 100, tol: float = 1e-10, max_step: float = 5.0
) -> tuple[np.ndarray, np.ndarray, float, int, bool]:
    """Firth-penalised logistic regression: (coef, vcov, penalised loglik, iterations, converged).

    Newton-Raphson on the modified score with Fisher information ``X'WX``, steps capped at
    ``max_step`` in every coordinate and halved until the penalised loglik does not
    decrease (``logistf``'s ``logistf.control(maxstep = 5, maxhs = 5)`` in spirit).
    Converged when the largest step and the largest modified score are below ``tol``.
    """
    p = X.shape[1]
    beta = np.zeros(p)

    def parts(b):
        eta = X @ b
        pr = special.expit(eta)
        w = pr * (1 - pr)
        info = X.T @ (X * w[:, None])
        sign, logdet = np.linalg.slogdet(info)
        pll = _loglik(y, eta) + 0.5 * logdet if sign > 0 else -np.inf
        return pr, w, info, pll

    pr, w, info, pll = parts(beta)
    for it in range(1, max_iter + 1):
        inv = np.linalg.inv(info)
        h = np.einsum("ij,jk,ik->i", X, inv, X) * w
        U = X.T @ (y - pr + h * (0.5 - pr))
        step = inv @ U
        big = np.max(np.abs(step))
        if big > max_step:
            step *= max_step / big
        for _ in range(30):
            new = parts(beta + step)
            if new[3] >= pll - 1e-12:
                break
            step /= 2
        beta = beta + step
        pr, w, info, pll = new
        if np.max(np.abs(step)) < tol and np.max(np.abs(U)) < np.sqrt(tol):
            return beta, np.linalg.inv(info), pll, it, True
    return beta, np.linalg.inv(info), pll, max_iter, False


class Logistic:
    """Logistic regression estimator (R ``glm(family = binomial)``; Firth optional).

    Parameters
    ----------
    method:
        ``"ml"`` (default) or ``"firth"``.
    level:
        Confidence level of the odds-ratio intervals.
    max_iter:
        Iteration limit (IRLS or Firth Newton).

    After ``fit``: ``result_`` (:class:`LogisticResult`), ``coef_``, ``names_``.
    """

    def __init__(self, method: str = "ml", level: float = 0.95, max_iter: int = 100) -> None:
        self.method = method
        self.level = level
        self.max_iter = max_iter

    def fit(
        self,
        data: Any = None,
        *,
        outcome: Any,
        covariates: Sequence[str] | None = None,
        X: Any = None,
        reference: Mapping[str, Any] | None = None,
        missing: str = "error",
        categorical: Sequence[str] | None = None,
    ) -> Logistic:
        """Fit; ``data`` a DataFrame/path with column names, or arrays ``outcome`` and ``X``.

        With ``data``, covariates are coded by
        :func:`~drivervte.survival.design.design_matrix` (``reference={col: level}``;
        ``categorical=[...]`` codes numeric columns as categories, e.g. stage 1-4).

        ``outcome`` must be 0/1 (or boolean). An intercept is always included.
        """
        if self.method not in ("ml", "firth"):
            raise InputError("method must be 'ml' or 'firth'", column="method")
        if not 0 < self.level < 1:
            raise InputError("level must be in (0, 1)", column="level")
        if isinstance(covariates, str):
            covariates = [covariates]
        if data is not None and X is not None:
            raise InputError("give either data (with covariate columns) or X, not both", column="X")
        check_categorical_input(categorical, data)
        excluded: list[dict] = []
        if data is not None:
            y, Xa, names, excluded = _from_table(data, outcome, covariates, reference, missing,
                                                 categorical or ())
        else:
            if X is None:
                raise InputError("give X (an n x p array) or data with covariates", column="X")
            y = _outcome(np.asarray(outcome), "outcome")
            Xa = np.asarray(X, dtype=float)
            Xa = Xa[:, None] if Xa.ndim == 1 else Xa
            if Xa.ndim != 2 or Xa.shape[0] != y.shape[0]:
                raise InputError(f"X must have shape (n={y.shape[0]}, p)", column="X")
            names = (
                [f"x{j + 1}" for j in range(Xa.shape[1])]
                if covariates is None
                else [str(c) for c in covariates]
            )
            if len(names) != Xa.shape[1]:
                raise InputError(f"{len(names)} names for {Xa.shape[1]} columns", column="X")
            bad = ~np.isfinite(Xa)
            if bad.any():
                j = int(np.flatnonzero(bad.any(axis=0))[0])
                raise InputError(
                    "covariate values must be finite",
                    column=names[j],
                    rows=np.flatnonzero(bad[:, j]),
                )
        self.result_ = self._fit(y, Xa, names, excluded)
        self.coef_ = self.result_.coef
        self.names_ = list(self.result_.names)
        return self

    def _fit(self, y, Xa, names, excluded) -> LogisticResult:
        import statsmodels.api as sm

        n = y.shape[0]
        if y.min() == y.max():
            raise InputError(
                "the outcome takes a single value; nothing to estimate", column="outcome"
            )
        D = np.column_stack([np.ones(n), Xa])
        all_names = [INTERCEPT, *names]
        for j in range(1, D.shape[1]):
            if np.ptp(D[:, j]) == 0:
                raise InputError("constant covariate: drop it", column=all_names[j])
        if np.linalg.matrix_rank(D) < D.shape[1]:
            for j in range(2, D.shape[1] + 1):
                if np.linalg.matrix_rank(D[:, :j]) < j:
                    raise InputError(
                        f"covariate is a linear combination of {all_names[: j - 1]}; drop it",
                        column=all_names[j - 1],
                    )
        notes: list[str] = []
        direction = detect_separation(D, y)
        separated = (
            []
            if direction is None
            else [all_names[j] for j in range(1, D.shape[1]) if abs(direction[j]) > 1e-6]
        )
        k = D.shape[1]
        if self.method == "ml":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = sm.GLM(y, D, family=sm.families.Binomial()).fit(
                    method="IRLS", tol=1e-12, maxiter=self.max_iter
                )
            coef = np.asarray(res.params, dtype=float)
            vcov = np.asarray(res.cov_params(), dtype=float)
            iterations = int(res.fit_history["iteration"])
            converged = bool(res.converged) and direction is None
            ll = float(res.llf)
            p0 = y.mean()
            ll0 = float(np.sum(y * np.log(p0) + (1 - y) * np.log1p(-p0)))
            dev, dev0 = -2 * ll, -2 * ll0
            aic = -2 * ll + 2 * k
            if not res.converged:
                notes.append(f"IRLS did not converge in {self.max_iter} iterations")
        else:
            coef, vcov, ll, iterations, converged = firth_logistic(D, y, max_iter=self.max_iter)
            _, _, ll0, _, _ = firth_logistic(D[:, :1], y, max_iter=self.max_iter)
            dev = dev0 = aic = float("nan")
            if not converged:
                notes.append(f"Firth iterations did not converge in {self.max_iter} iterations")
        d = np.diag(vcov).copy()
        d[~(d >= 0)] = np.nan
        se = np.sqrt(d)
        z = coef / se
        pval = 2 * stats.norm.sf(np.abs(z))
        q = stats.norm.ppf(0.5 + self.level / 2)
        with np.errstate(over="ignore"):
            lo, hi = np.exp(coef - q * se), np.exp(coef + q * se)
        lr = 2 * (ll - ll0)
        lr_p = float(stats.chi2.sf(lr, k - 1))
        if direction is not None:
            which = ", ".join(separated) or "the intercept"
            if self.method == "ml":
                notes.append(
                    f"perfect separation by {which}: the maximum-likelihood estimate is infinite "
                    "and the reported values are meaningless (R's glm may not warn); use "
                    "method='firth' (penalised likelihood)"
                )
                for nm in separated:
                    j = all_names.index(nm)
                    z[j] = pval[j] = lo[j] = hi[j] = np.nan
                lr = lr_p = float("nan")
            else:
                notes.append(f"separation by {which}: Firth's penalised estimates are finite")
        out = LogisticResult(
            names=all_names,
            n=n,
            events=int(y.sum()),
            method=self.method,
            coef=coef,
            se=se,
            z=z,
            pvalue=pval,
            ci_lower=lo,
            ci_upper=hi,
            level=self.level,
            vcov=vcov,
            loglik=ll,
            loglik_null=ll0,
            deviance=dev,
            null_deviance=dev0,
            aic=aic,
            lr_statistic=lr,
            lr_df=k - 1,
            lr_pvalue=lr_p,
            converged=converged,
            iterations=iterations,
            separation=direction is not None,
            separated=separated,
            excluded=list(excluded),
            warnings=notes,
        )
        if not converged:
            for msg in notes:
                warnings.warn(msg, ConvergenceWarning, stacklevel=3)
        return out

    def __getattr__(self, name: str) -> Any:
        if name in ("result_", "coef_", "names_"):
            raise NotFittedError(f"Logistic is not fitted yet: call fit(...) before using {name}")
        raise AttributeError(name)

    def summary(self) -> str:
        return self.result_.summary()


def _outcome(values: np.ndarray, column: str, rows: np.ndarray | None = None) -> np.ndarray:
    if values.dtype == bool:
        return values.astype(float)
    try:
        y = values.astype(float)
    except (TypeError, ValueError):
        raise InputError("outcome must be 0/1 (or true/false)", column=column) from None
    bad = ~np.isin(y, [0.0, 1.0])
    if bad.any():
        idx = np.flatnonzero(bad)
        raise InputError(
            "outcome must be 0/1 (or true/false)",
            column=column,
            rows=idx if rows is None else rows[idx],
        )
    return y


def _from_table(data, outcome, covariates, reference, missing, categorical=()):
    from drivervte.survival.cohort import read_table

    df = read_table(data)
    if missing not in ("error", "exclude"):
        raise InputError("missing must be 'error' or 'exclude'", column="missing")
    cols = [outcome, *(covariates or [])]
    for c in cols:
        if c not in df.columns:
            raise InputError(
                f"no such column; the table has {list(map(str, df.columns))}", column=c
            )
    if not covariates:
        raise InputError("give at least one covariate", column="covariates")
    miss = {c: missing_mask(df[c].reset_index(drop=True)) for c in cols}
    anym = np.zeros(len(df), bool)
    for c, m in miss.items():
        if m.any() and missing == "error":
            raise InputError(
                "missing values; fill them or use missing='exclude'",
                column=c,
                rows=np.flatnonzero(m),
            )
        anym |= m
    excluded = [
        {
            "row": int(r),
            "reason": "missing value in " + ", ".join(f"'{c}'" for c in cols if miss[c][r]),
        }
        for r in np.flatnonzero(anym)
    ]
    kept = np.flatnonzero(~anym)
    sub = df.iloc[kept]
    ycol = sub[outcome]
    yv = ycol.to_numpy()
    if ycol.dtype == object:
        yv = pd.to_numeric(ycol, errors="coerce").to_numpy()
        if np.isnan(yv).any():
            raise InputError(
                "outcome must be 0/1 (or true/false)", column=outcome, rows=kept[np.isnan(yv)]
            )
    y = _outcome(np.asarray(yv), outcome, kept)
    X, names = design_matrix(sub, list(covariates), reference, categorical=categorical,
                             rows=kept)
    return y, X, names, excluded
