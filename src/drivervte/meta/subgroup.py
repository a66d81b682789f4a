r"""Subgroup analysis: a separate model per subgroup and the test for subgroup differences.

Each subgroup gets its own model (its own tau²) from :func:`~drivervte.meta.rma.fit_rma`.
The test for subgroup differences is the heterogeneity statistic of an equal-effects model
of the subgroup estimates with their standard errors (RevMan's "test for subgroup
differences"; the metafor tip "comparing estimates of independent meta-analyses":
``rma(yi = est, sei = se, method = "EE")``):

.. math:: Q_{between} = \sum_g w_g (\hat\mu_g - \bar\mu)^2,\quad w_g = 1/SE_g^2,\quad
          df = G - 1.

The alternative with a common tau² is the meta-regression on treatment dummies of the
subgroup variable (first level in sorted order as reference); its omnibus ``QM`` tests the
same hypothesis (metafor ``rma(yi, vi, mods = ~ factor(group))``).

References
----------
Borenstein M, Hedges LV, Higgins JPT, Rothstein HR (2009). Introduction to Meta-Analysis,
ch. 19. Wiley.
Viechtbauer W. Comparing estimates of independent meta-analyses or subgroups.
https://www.metafor-project.org/doku.php/tips:comp_two_independent_estimates
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from drivervte.errors import InputError
from drivervte.meta.result import MetaResult
from drivervte.meta.rma import fit_rma
from drivervte.results import Result, fmt_num, fmt_p, format_table, jsonable

__all__ = ["SubgroupResult", "subgroup_analysis"]


@dataclass
class SubgroupResult(Result):
    """Per-subgroup models and the test for subgroup differences.

    ``to_dict()`` keys (stable): ``groups {<level>: {k, estimate, se, ci_lower, ci_upper,
    tau2, I2}}``, ``Q_between``, ``Q_between_df``, ``Q_between_pvalue``, ``common_tau2``
    (``{QM, QM_df, QM_df2, QM_pvalue, tau2}`` of the meta-regression with a common tau², or
    ``null``), ``method``, ``test``, ``level``, ``notes``. Estimates are on the model scale.
    The full per-group :class:`MetaResult` objects are in ``fits``.
    """

    fits: dict[str, MetaResult]
    Q_between: float
    Q_between_df: int
    Q_between_pvalue: float
    method: str
    test: str
    level: float
    common_tau2: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        groups = {
            g: {"k": r.k, "estimate": jsonable(r.estimate), "se": jsonable(r.se),
                "ci_lower": jsonable(r.ci_lower), "ci_upper": jsonable(r.ci_upper),
                "tau2": jsonable(r.tau2), "I2": jsonable(r.I2)}
            for g, r in self.fits.items()
        }
        return {
            "groups": groups, "Q_between": jsonable(self.Q_between),
            "Q_between_df": self.Q_between_df,
            "Q_between_pvalue": jsonable(self.Q_between_pvalue),
            "common_tau2": jsonable(self.common_tau2), "method": self.method,
            "test": self.test, "level": self.level, "notes": list(self.notes),
        }

    def summary(self) -> str:
        rows = [[g, r.k, r.estimate, r.ci_lower, r.ci_upper, r.tau2, r.I2]
                for g, r in self.fits.items()]
        out = [format_table(["subgroup", "k", "estimate", "ci.lb", "ci.ub", "tau2", "I2"],
                            rows, title=f"Subgroups ({self.method}, separate tau^2)")]
        out.append(f"Test for subgroup differences: Q = {fmt_num(self.Q_between)}, "
                   f"df = {self.Q_between_df}, p = {fmt_p(self.Q_between_pvalue)}")
        if self.common_tau2 is not None:
            c = self.common_tau2
            out.append(f"With a common tau^2 (meta-regression): QM = {fmt_num(c['QM'])}, "
                       f"df = {c['QM_df']}, p = {fmt_p(c['QM_pvalue'])}")
        out.extend(f"note: {n}" for n in self.notes)
        return "\n".join(out)


def _group_labels(groups, k: int) -> list[str]:
    g = pd.Series(list(groups) if not isinstance(groups, pd.Series) else groups.to_numpy())
    if len(g) != k:
        raise InputError(f"{len(g)} subgroup values for {k} studies", column="groups")
    miss = np.flatnonzero(g.isna().to_numpy())
    if miss.size:
        raise InputError("subgroup values are missing; give every study a subgroup (or "
                         "leave those studies out explicitly)", column="groups", rows=miss)
    return [str(v) for v in g]


def subgroup_analysis(
    yi, vi, groups, *, method: str = "REML", test: str = "z", level: float = 95.0,
    study=None, measure: str = "GEN", ni=None, control: dict[str, Any] | None = None,
    common_tau2: bool = True,
) -> SubgroupResult:
    """Separate models per subgroup and the test for subgroup differences.

    Parameters
    ----------
    yi, vi : array_like
        Effect sizes (model scale) and sampling variances.
    groups : array_like
        Subgroup of each study (any values; compared as strings, ordered by sorted string).
    method, test, level, control
        As :func:`~drivervte.meta.rma.fit_rma`, used for every subgroup model.
    common_tau2 : bool
        Also fit the meta-regression with a common tau² (treatment dummies, first level as
        reference) and report its omnibus test.

    Notes
    -----
    A subgroup with one study is fitted as metafor does for k = 1 (its estimate is the
    study's, tau² = 0) and a note says so. With a single subgroup there is nothing to
    compare: ``Q_between`` is NaN (``null``) with a note.
    """
    yi = np.asarray(yi, float)
    vi = np.asarray(vi, float)
    labels = _group_labels(groups, yi.size)
    study = [str(i + 1) for i in range(yi.size)] if study is None else [str(s) for s in study]
    levels = sorted(set(labels))
    fits: dict[str, MetaResult] = {}
    notes: list[str] = []
    for lev in levels:
        sel = np.array([lab == lev for lab in labels])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            fits[lev] = fit_rma(
                yi[sel], vi[sel], method=method, test=test, level=level,
                study=[s for s, m in zip(study, sel, strict=True) if m], measure=measure,
                ni=None if ni is None else np.asarray(ni, float)[sel], control=control)
        if fits[lev].k == 1:
            notes.append(f"subgroup '{lev}' has a single study: its estimate is that "
                         "study's and tau^2 = 0")
        if not fits[lev].converged:
            notes.append(f"the model for subgroup '{lev}' did not converge")
    est = np.array([r.estimate for r in fits.values()])
    se = np.array([r.se for r in fits.values()])
    G = len(levels)
    if G < 2:
        notes.append("only one subgroup: no test for subgroup differences")
        qb, qbp = math.nan, math.nan
    elif not np.all(np.isfinite(est) & np.isfinite(se) & (se > 0)):
        notes.append("a subgroup has no usable estimate: no test for subgroup differences")
        qb, qbp = math.nan, math.nan
    else:
        ee = fit_rma(est, se**2, method="EE", confint=False)
        qb, qbp = ee.Q, ee.Q_pvalue
    common = None
    if common_tau2 and G >= 2:
        X = np.column_stack([np.ones(yi.size)]
                            + [[1.0 if lab == lev else 0.0 for lab in labels]
                               for lev in levels[1:]])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mr = fit_rma(yi, vi, X, method=method, test=test, level=level,
                             control=control, confint=False,
                             mod_names=["intrcpt", *[f"group[T.{lev}]" for lev in levels[1:]]])
            if mr.converged and mr.moderators is not None:
                m = mr.moderators
                common = {"QM": m.QM, "QM_df": m.QM_df, "QM_df2": m.QM_df2,
                          "QM_pvalue": m.QM_pvalue, "tau2": mr.tau2}
            else:
                notes.append("the common-tau^2 meta-regression did not converge")
        except InputError as exc:
            notes.append(f"no common-tau^2 meta-regression: {exc.reason}")
    return SubgroupResult(
        fits=fits, Q_between=float(qb), Q_between_df=G - 1, Q_between_pvalue=float(qbp),
        method=str(method).upper(), test=test, level=float(level), common_tau2=common,
        notes=notes)
