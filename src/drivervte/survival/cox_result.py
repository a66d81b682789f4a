"""The result of a Cox fit: :class:`CoxResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from drivervte.results import Result, fmt_num, fmt_p, format_table, jsonable

__all__ = ["ChiSquareTest", "CoxResult"]


@dataclass
class ChiSquareTest(Result):
    """A chi-square test of all coefficients = 0: ``statistic``, ``df``, ``pvalue``."""

    statistic: float
    df: int
    pvalue: float

    def summary(self) -> str:
        return f"{fmt_num(self.statistic, 2)} on {self.df} df, p={fmt_p(self.pvalue)}"


@dataclass
class CoxResult(Result):
    """A fitted Cox proportional hazards model (``survival::coxph``).

    ``to_dict()`` keys (stable; the CLI's ``--json`` prints them). Per-coefficient values are
    objects keyed by covariate name:

    ``n`` (rows used), ``events`` (rows with the event of interest), ``cause``, ``ties``
    (``efron``/``breslow``), ``robust`` (bool), ``variance`` (``"robust"`` or ``"model"``:
    the variance behind ``se``, z, p and CI), ``variance_reason`` (why: ``robust=True`` or
    ``robust=False`` as passed, or coxph's default rule: cluster given, non-integer case
    weights, or neither), ``n_clusters`` (null without ``cluster``),
    ``coef``, ``se`` (the standard error used for z, p and CI: the robust one when
    ``robust``), ``se_naive`` (model-based, from the inverse information), ``se_robust``
    (null unless robust), ``hr`` (``exp(coef)``), ``ci_lower``, ``ci_upper`` (Wald CI for the
    hazard ratio at ``level``), ``z``, ``pvalue``, ``level``, ``vcov`` (list of rows, the
    variance used: robust when ``robust``), ``vcov_naive``, ``loglik`` (at the estimate),
    ``loglik_null`` (at beta = 0), ``lr_test``, ``wald_test``, ``score_test`` (each
    ``{statistic, df, pvalue}``; the Wald test uses ``vcov``), ``robust_score_test`` (null
    unless robust), ``concordance`` (Harrell's C as ``coxph``: ``{concordant, discordant,
    tied_x, concordance}``, weighted pair counts; null when not computed, reason in
    ``warnings``), ``converged``, ``iterations``, ``infinite`` (names of coefficients that
    may be infinite: monotone likelihood), ``excluded`` (``{row, reason}``), ``warnings``.
    """

    names: list[str]
    n: int
    events: int
    cause: int
    ties: str
    robust: bool
    variance: str
    coef: np.ndarray
    se: np.ndarray
    se_naive: np.ndarray
    se_robust: np.ndarray | None
    z: np.ndarray
    pvalue: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    level: float
    vcov: np.ndarray
    vcov_naive: np.ndarray
    loglik: float
    loglik_null: float
    lr_test: ChiSquareTest
    wald_test: ChiSquareTest
    score_test: ChiSquareTest
    robust_score_test: ChiSquareTest | None
    converged: bool
    iterations: int
    n_clusters: int | None = None
    variance_reason: str = ""
    concordance: dict[str, float] | None = None
    infinite: list[str] = field(default_factory=list)
    excluded: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def hr(self) -> np.ndarray:
        return np.exp(self.coef)

    def _by_name(self, values: np.ndarray | None) -> dict[str, Any] | None:
        if values is None:
            return None
        return {nm: jsonable(float(v)) for nm, v in zip(self.names, values, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "events": self.events,
            "cause": self.cause,
            "ties": self.ties,
            "robust": self.robust,
            "variance": self.variance,
            "variance_reason": self.variance_reason,
            "n_clusters": self.n_clusters,
            "coef": self._by_name(self.coef),
            "se": self._by_name(self.se),
            "se_naive": self._by_name(self.se_naive),
            "se_robust": self._by_name(self.se_robust),
            "hr": self._by_name(self.hr),
            "ci_lower": self._by_name(self.ci_lower),
            "ci_upper": self._by_name(self.ci_upper),
            "z": self._by_name(self.z),
            "pvalue": self._by_name(self.pvalue),
            "level": self.level,
            "vcov": jsonable(self.vcov),
            "vcov_naive": jsonable(self.vcov_naive),
            "loglik": jsonable(self.loglik),
            "loglik_null": jsonable(self.loglik_null),
            "lr_test": self.lr_test.to_dict(),
            "wald_test": self.wald_test.to_dict(),
            "score_test": self.score_test.to_dict(),
            "robust_score_test": (
                None if self.robust_score_test is None else self.robust_score_test.to_dict()
            ),
            "concordance": jsonable(self.concordance),
            "converged": self.converged,
            "iterations": self.iterations,
            "infinite": list(self.infinite),
            "excluded": jsonable(self.excluded),
            "warnings": list(self.warnings),
        }

    def summary(self) -> str:
        """A table like ``print.coxph``: coef, exp(coef), se, z, p, and the global tests."""
        headers = ["", "coef", "exp(coef)", "se(coef)"]
        if self.robust:
            headers.append("robust se")
        headers += ["z", "Pr(>|z|)", f"lower {self.level:.0%}", f"upper {self.level:.0%}"]
        rows = []
        for i, nm in enumerate(self.names):
            row: list[Any] = [nm, self.coef[i], self.hr[i], self.se_naive[i]]
            if self.robust:
                row.append(self.se_robust[i])  # type: ignore[index]
            row += [self.z[i], fmt_p(self.pvalue[i]), self.ci_lower[i], self.ci_upper[i]]
            rows.append(row)
        title = f"Cox model ({self.ties} ties), cause {self.cause}"
        out = [format_table(headers, rows, title=title)]
        out.append(f"n= {self.n}, number of events= {self.events}")
        out.append(f"variance: {self.variance} ({self.variance_reason})")
        if self.robust and self.n_clusters is not None:
            out.append(f"clusters= {self.n_clusters}")
        out.append(f"Likelihood ratio test= {self.lr_test.summary()}")
        out.append(f"Wald test            = {self.wald_test.summary()}")
        out.append(f"Score (logrank) test = {self.score_test.summary()}")
        if self.robust_score_test is not None:
            out.append(f"Robust score test    = {self.robust_score_test.summary()}")
        if self.concordance is not None:
            out.append(f"Concordance= {fmt_num(self.concordance['concordance'])}")
        out.append(
            f"loglik: null {fmt_num(self.loglik_null)}, model {fmt_num(self.loglik)}; "
            f"iterations {self.iterations}; converged {self.converged}"
        )
        if self.excluded:
            out.append(f"{len(self.excluded)} row(s) excluded (see 'excluded')")
        out.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(out)
