"""The result of a Fine-Gray fit: :class:`FineGrayResult` (printed like ``print(summary(crr))``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from drivervte.results import Result, fmt_num, fmt_p, format_table

__all__ = ["FineGrayResult", "build_result"]


@dataclass
class FineGrayResult(Result):
    """A fitted Fine-Gray subdistribution hazards model (R ``cmprsk::crr``).

    ``to_dict()`` keys (stable). Per-coefficient values are objects keyed by covariate name:

    ``n`` (rows used), ``events`` (rows failing from the cause of interest), ``coef``,
    ``se`` (the standard error used for z, p and CI: ``crr``'s sandwich ``var`` by default,
    see :class:`~drivervte.survival.finegray.FineGray` ``variance``), ``hr``
    (``exp(coef)``), ``ci_lower``, ``ci_upper`` (Wald CI of the subdistribution hazard
    ratio at ``level``), ``pvalue`` (two-sided Wald, normal), ``loglik`` (log pseudo
    partial likelihood at the estimate, ``crr$loglik``), ``loglik_null`` (at 0,
    ``crr$loglik.null``), ``converged``, ``iterations`` (Newton steps taken), ``se_model``
    (from the inverse information, ``sqrt(diag(crr$invinf))``), ``excluded``
    (``{"row", "reason"}`` of input rows not used), ``warnings`` (text; why a value is
    null or why ``converged`` is false).
    """

    n: int
    events: int
    coef: dict
    se: dict
    hr: dict
    ci_lower: dict
    ci_upper: dict
    pvalue: dict
    loglik: float
    loglik_null: float
    converged: bool
    iterations: int
    se_model: dict
    excluded: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    names: list = field(default_factory=list, repr=False)
    vcov: np.ndarray | None = field(default=None, repr=False)
    vcov_model: np.ndarray | None = field(default=None, repr=False)
    level: float = field(default=0.95, repr=False)
    n_competing: int = field(default=0, repr=False)
    n_censored: int = field(default=0, repr=False)

    def summary(self) -> str:
        rows = []
        for k in self.names:
            b, s = self.coef[k], self.se[k]
            z = b / s if s and np.isfinite(s) and s > 0 else float("nan")
            rows.append([k, b, np.exp(b), s, z, fmt_p(self.pvalue[k])])
        out = [
            format_table(
                ["", "coef", "exp(coef)", "se(coef)", "z", "p-value"],
                rows,
                title="Competing Risks Regression (Fine-Gray)",
            ),
            "",
        ]
        a = (1 - self.level) / 2
        lo, hi = f"{100 * a:g}%", f"{100 * (1 - a):g}%"
        rows2 = [
            [k, self.hr[k], np.exp(-self.coef[k]), self.ci_lower[k], self.ci_upper[k]]
            for k in self.names
        ]
        out.append(format_table(["", "exp(coef)", "exp(-coef)", lo, hi], rows2))
        out.append("")
        out.append(
            f"Num. cases = {self.n} ({self.events} events of interest, {self.n_competing} "
            f"competing, {self.n_censored} censored)"
        )
        if self.excluded:
            out.append(f"({len(self.excluded)} rows excluded; see 'excluded')")
        out.append(f"Pseudo Log-likelihood = {fmt_num(self.loglik)}")
        lrt = -2 * (self.loglik_null - self.loglik)
        out.append(f"Pseudo likelihood ratio test = {fmt_num(lrt, 2)}  on {len(self.names)} df,")
        if not self.converged:
            out.append("NOT CONVERGED: " + "; ".join(self.warnings))
        elif self.warnings:
            out.extend("warning: " + w for w in self.warnings)
        return "\n".join(out)


def build_result(
    *,
    names,
    beta,
    var,
    var_model,
    loglik,
    loglik_null,
    converged,
    iterations,
    n,
    events,
    n_competing,
    n_censored,
    excluded,
    warnings,
    level=0.95,
):
    """Assemble :class:`FineGrayResult` from arrays (Wald z, p, CI on the chosen SE)."""
    se = np.sqrt(np.clip(np.diag(var), 0, None)) if var is not None else np.full(len(beta), np.nan)
    se_m = (
        np.sqrt(np.clip(np.diag(var_model), 0, None))
        if var_model is not None
        else np.full(len(beta), np.nan)
    )
    zq = NormalDist().inv_cdf(1 - (1 - level) / 2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = beta / se
        p = np.array([math.erfc(abs(v) / math.sqrt(2)) if np.isfinite(v) else np.nan
                      for v in z])  # 2 * (1 - Phi(|z|))
        lo, hi = np.exp(beta - zq * se), np.exp(beta + zq * se)
        hr = np.exp(beta)

    def d(v):
        return {k: float(x) for k, x in zip(names, v, strict=True)}

    return FineGrayResult(
        n=int(n),
        events=int(events),
        coef=d(beta),
        se=d(se),
        hr=d(hr),
        ci_lower=d(lo),
        ci_upper=d(hi),
        pvalue=d(p),
        loglik=float(loglik),
        loglik_null=float(loglik_null),
        converged=bool(converged),
        iterations=int(iterations),
        se_model=d(se_m),
        excluded=list(excluded),
        warnings=list(warnings),
        names=list(names),
        vcov=var,
        vcov_model=var_model,
        level=level,
        n_competing=int(n_competing),
        n_censored=int(n_censored),
    )
