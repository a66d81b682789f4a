"""The result of every meta-analysis model: :class:`MetaResult`.

One model family, one set of methods: ``rma`` (equal/random effects, meta-regression),
Mantel-Haenszel and Peto fits all return a :class:`MetaResult`. Methods that need the model
again (leave-one-out, trim-and-fill, plots) delegate to the modules that own them.

``to_dict()`` keys (stable; the CLI's ``--json`` prints them). All on the model scale
(log ratio for OR/RR/HR, logit for PLO, ...), I² and its bounds in percent:

``k, measure, method, test, level, estimate, se, statistic, df, pvalue, ci_lower, ci_upper,
pi_lower, pi_upper, tau2, se_tau2, tau2_ci_lower, tau2_ci_upper, I2, I2_ci_lower, I2_ci_upper,
H2, H2_ci_lower, H2_ci_upper, Q, Q_df, Q_pvalue, converged, iterations, warnings, excluded,
transformed {estimate, ci_lower, ci_upper, pi_lower, pi_upper, scale},
studies [{study, yi, vi, weight}], moderators {names, coef, se, statistic, pvalue, ci_lower,
ci_upper, QM, QM_df, QM_df2, QM_pvalue, R2} or null``.

``df`` is the t-distribution's degrees of freedom under Knapp-Hartung (``test="knha"``),
``null`` for z-tests. ``weight`` is the study's percent weight in the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from drivervte.results import Result, fmt_num, fmt_p, format_table, jsonable


@dataclass
class ModeratorResult(Result):
    """Coefficients of a meta-regression (intercept first when present) and the omnibus QM test.

    ``R2`` is metafor's pseudo-R² in percent: ``max(0, 100 (tau2_RE - tau2_ME) / tau2_RE)``
    (Raudenbush 2009); for equal-effects models metafor's ``max(0, 100 adj. R²)`` of the
    weighted linear model; ``None`` without an intercept.

    ``QM`` is a Wald chi² on ``QM_df`` df for z-tests (``QM_df2`` is ``None``); under
    Knapp-Hartung it is metafor's F statistic (chi²/QM_df) on ``(QM_df, QM_df2)`` df with
    ``QM_df2 = k - p``.
    """

    names: list[str]
    coef: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    QM: float
    QM_df: int
    QM_pvalue: float
    R2: float | None = None
    QM_df2: float | None = None

    def summary(self) -> str:
        rows = [
            [n, self.coef[i], self.se[i], self.statistic[i], fmt_p(self.pvalue[i]),
             self.ci_lower[i], self.ci_upper[i]]
            for i, n in enumerate(self.names)
        ]
        head = format_table(["term", "estimate", "se", "stat", "pval", "ci.lb", "ci.ub"], rows)
        if self.QM_df2 is None:
            tail = f"QM(df = {self.QM_df}) = {fmt_num(self.QM)}, p = {fmt_p(self.QM_pvalue)}"
        else:
            tail = (f"F(df1 = {self.QM_df}, df2 = {fmt_num(self.QM_df2, 0)}) = "
                    f"{fmt_num(self.QM)}, p = {fmt_p(self.QM_pvalue)}")
        if self.R2 is not None:
            tail += f"; R2 = {fmt_num(self.R2, 2)}%"
        return head + "\n" + tail


@dataclass
class MetaResult(Result):
    """A fitted meta-analysis model. See the module docstring for the ``to_dict()`` keys."""

    k: int
    measure: str
    method: str
    test: str
    level: float
    estimate: float
    se: float
    statistic: float
    pvalue: float
    ci_lower: float
    ci_upper: float
    pi_lower: float
    pi_upper: float
    tau2: float
    Q: float
    Q_df: int
    Q_pvalue: float
    I2: float
    H2: float
    study: list[str]
    yi: np.ndarray
    vi: np.ndarray
    weights: np.ndarray
    df: float | None = None
    se_tau2: float | None = None
    tau2_ci_lower: float | None = None
    tau2_ci_upper: float | None = None
    I2_ci_lower: float | None = None
    I2_ci_upper: float | None = None
    H2_ci_lower: float | None = None
    H2_ci_upper: float | None = None
    converged: bool = True
    iterations: int | None = None
    warnings: list[str] = field(default_factory=list)
    excluded: list[dict[str, Any]] = field(default_factory=list)
    moderators: ModeratorResult | None = None
    ni: np.ndarray | None = field(default=None, repr=False)
    # Model internals kept for refits, predictions and plots (not part of to_dict()).
    X: np.ndarray | None = field(default=None, repr=False)
    beta: np.ndarray | None = field(default=None, repr=False)
    vb: np.ndarray | None = field(default=None, repr=False)
    counts: dict[str, np.ndarray] | None = field(default=None, repr=False)
    settings: dict[str, Any] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ output
    @property
    def transformed(self) -> dict[str, Any]:
        """Estimate, CI and PI on the back-transformed scale (exp, ilogit, inverse FT, ...)."""
        from drivervte.effects.transforms import back_transform, scale_name

        vals = np.array(
            [self.estimate, self.ci_lower, self.ci_upper, self.pi_lower, self.pi_upper], float
        )
        bt = back_transform(self.measure, vals, ni=self.ni)
        keys = ["estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper"]
        out: dict[str, Any] = dict(zip(keys, (float(v) for v in bt), strict=True))
        out["scale"] = scale_name(self.measure)
        return out

    def to_dict(self) -> dict[str, Any]:
        keys = [
            "k", "measure", "method", "test", "level", "estimate", "se", "statistic", "df",
            "pvalue", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "tau2", "se_tau2",
            "tau2_ci_lower", "tau2_ci_upper", "I2", "I2_ci_lower", "I2_ci_upper", "H2",
            "H2_ci_lower", "H2_ci_upper", "Q", "Q_df", "Q_pvalue", "converged", "iterations",
            "warnings", "excluded",
        ]
        out = {key: jsonable(getattr(self, key)) for key in keys}
        out["transformed"] = jsonable(self.transformed)
        out["studies"] = [
            {"study": s, "yi": jsonable(y), "vi": jsonable(v), "weight": jsonable(w)}
            for s, y, v, w in zip(self.study, self.yi, self.vi, self.weights, strict=True)
        ]
        out["moderators"] = None if self.moderators is None else self.moderators.to_dict()
        return out

    def summary(self) -> str:
        lvl = f"{self.level:g}%"
        lines = [
            f"{self.method} meta-analysis, measure {self.measure}, k = {self.k}, "
            f"test = {self.test}",
        ]
        if self.method not in ("EE", "FE", "MH", "PETO"):
            tau_ci = ""
            if self.tau2_ci_lower is not None:
                tau_ci = (f" ({lvl} CI {fmt_num(self.tau2_ci_lower)} to "
                          f"{fmt_num(self.tau2_ci_upper)})")
            lines.append(f"tau^2 = {fmt_num(self.tau2)}{tau_ci}")
        i2_ci = ""
        if self.I2_ci_lower is not None:
            i2_ci = f" ({lvl} CI {fmt_num(self.I2_ci_lower, 2)} to {fmt_num(self.I2_ci_upper, 2)})"
        lines.append(f"I^2 = {fmt_num(self.I2, 2)}%{i2_ci}, H^2 = {fmt_num(self.H2)}")
        lines.append(
            f"Q(df = {self.Q_df}) = {fmt_num(self.Q)}, p = {fmt_p(self.Q_pvalue)}"
        )
        if self.moderators is not None:
            lines.append("")
            lines.append(self.moderators.summary())
        else:
            stat = "t" if self.df is not None else "z"
            rows = [["model scale", self.estimate, self.se, self.statistic,
                     fmt_p(self.pvalue), self.ci_lower, self.ci_upper,
                     self.pi_lower, self.pi_upper]]
            tr = self.transformed
            if tr["scale"] != "identity":
                rows.append([tr["scale"], tr["estimate"], "", "", "", tr["ci_lower"],
                             tr["ci_upper"], tr["pi_lower"], tr["pi_upper"]])
            lines.append("")
            lines.append(format_table(
                ["", "estimate", "se", stat, "pval", "ci.lb", "ci.ub", "pi.lb", "pi.ub"], rows))
        for w in self.warnings:
            lines.append(f"warning: {w}")
        for e in self.excluded:
            if isinstance(e, dict) and "row" in e:
                label = f" ({e['study']})" if e.get("study") is not None else ""
                lines.append(f"excluded: row {int(e['row']) + 1}{label}: {e.get('reason', '')}")
            else:
                lines.append(f"excluded: {e}")
        return "\n".join(lines)

    # --------------------------------------------------------- delegations
    def leave_one_out(self):
        from drivervte.meta.influence import leave_one_out

        return leave_one_out(self)

    def cumulative(self, order=None):
        from drivervte.meta.influence import cumulative

        return cumulative(self, order=order)

    def influence(self):
        from drivervte.meta.influence import influence

        return influence(self)

    def egger(self):
        from drivervte.meta.bias import egger_test

        return egger_test(self)

    def begg(self):
        from drivervte.meta.bias import rank_test

        return rank_test(self)

    def trimfill(self, side=None):
        from drivervte.meta.bias import trimfill

        return trimfill(self, side=side)

    def forest(self, path=None, **kwargs):
        from drivervte.plots.forest import forest_plot

        return forest_plot(self, path=path, **kwargs)

    def funnel(self, path=None, **kwargs):
        from drivervte.plots.funnel import funnel_plot

        return funnel_plot(self, path=path, **kwargs)
