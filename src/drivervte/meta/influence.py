r"""Sensitivity of a meta-analysis to single studies: leave-one-out, cumulative, influence.

- :func:`leave_one_out` refits the model k times, each time without one study (metafor
  ``leave1out``).
- :func:`cumulative` refits it on the first 1, 2, ..., k studies in a chosen order (metafor
  ``cumul``), e.g. by publication year.
- :func:`influence` computes the case-deletion diagnostics of Viechtbauer & Cheung (2010)
  (metafor ``influence.rma.uni``): externally standardised residuals, DFFITS, Cook's
  distances, covariance ratios, leave-one-out tau² and Q, hat values, weights, DFBETAS and
  metafor's rule for flagging influential studies; and the internally standardised
  residuals of metafor ``rstandard.rma.uni``.

Every refit uses the original model's ``method``, ``test``, ``level``, fixed tau² and
``control`` (see :mod:`drivervte.meta._refit`); a refit that fails gives a row of NaN with
the reason in ``notes`` (metafor gives NA silently).

References
----------
Viechtbauer W, Cheung MW-L (2010). Outlier and influence diagnostics for meta-analysis.
Res Synth Methods 1:112-125.
Lau J, Schmid CH, Chalmers TC (1995). Cumulative meta-analysis of clinical trials builds
evidence for exemplary medical care. J Clin Epidemiol 48:45-57.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from drivervte.errors import ConvergenceWarning, InputError
from drivervte.meta._refit import check_k, is_mh_peto, refit, require_rma, s2w_of
from drivervte.meta._series import FitSeries, series_from_fits
from drivervte.meta.result import MetaResult
from drivervte.results import Result, fmt_num, format_table, jsonable

__all__ = [
    "CumulativeResult",
    "InfluenceResult",
    "LeaveOneOutResult",
    "cumulative",
    "influence",
    "leave_one_out",
]


@dataclass
class LeaveOneOutResult(FitSeries):
    """Leave-one-out estimates (metafor ``leave1out``); row ``i`` omits study ``study[i]``.

    ``to_dict()`` returns a **list**, one dict per omitted study, with keys ``study,
    estimate, se, statistic, df, pvalue, ci_lower, ci_upper, Q, Q_pvalue, tau2, I2, H2,
    converged, note`` (model scale; ``df`` is null for z-tests; ``note`` says why a row
    is null or what the refit warned about).
    """

    title = "Leave-one-out analysis (row = study omitted)"


@dataclass
class CumulativeResult(FitSeries):
    """Cumulative meta-analysis (metafor ``cumul``); row ``i`` pools the first ``i + 1``
    studies in ``order`` and is labelled by the study added at that step.

    ``positions`` are the 0-based positions (in the original model) in the order used.
    ``to_dict()`` returns a **list** with the same keys as :class:`LeaveOneOutResult`.
    """

    positions: list[int] = field(default_factory=list)
    title = "Cumulative meta-analysis (row = study added)"


def _loo_fits(res: MetaResult):
    k = res.k
    fits = []
    for i in range(k):
        keep = np.arange(k) != i
        if is_mh_peto(res):
            from drivervte.meta._mhpeto import refit_counts

            fits.append(refit_counts(res, keep))
        else:
            X = None if _int_only(res) else res.X[keep]
            fits.append(refit(res, res.yi[keep], res.vi[keep], X,
                              study=[s for s, m in zip(res.study, keep, strict=True) if m]))
    return fits


def _labels(res: MetaResult) -> list[str]:
    if is_mh_peto(res):
        from drivervte.meta._mhpeto import count_labels

        return count_labels(res)
    return list(res.study)


def _int_only(res: MetaResult) -> bool:
    return res.X is None or res.X.shape[1] == 1


def leave_one_out(res: MetaResult) -> LeaveOneOutResult:
    """Refit the model k times, leaving out one study each time (metafor ``leave1out``).

    Parameters
    ----------
    res : MetaResult
        An intercept-only model from ``fit_rma``, or a Mantel-Haenszel / Peto model with
        its 2x2 ``counts`` (refitted with ``rma_mh`` / ``rma_peto``).

    Returns
    -------
    LeaveOneOutResult
        Per omitted study: estimate, se, test statistic (z, or t under Knapp-Hartung),
        p-value, CI, Q and its p-value, tau², I², H².

    Raises
    ------
    InputError
        For k < 2 or a meta-regression model (metafor: "only applicable to models without
        moderators").
    """
    _check_series_input(res, "leave-one-out analysis")
    check_k(res, 2, "leave-one-out analysis")
    fits = _loo_fits(res)
    out = series_from_fits(LeaveOneOutResult, res, fits, _labels(res))
    _warn_unconverged(out, "leave-one-out")
    return out


def _check_series_input(res: MetaResult, what: str) -> None:
    if not isinstance(res, MetaResult):
        raise InputError(f"{what} needs a fitted MetaResult", column="result")
    if not is_mh_peto(res) and not _int_only(res):
        raise InputError(f"{what} is only defined for models without moderators (as "
                         "metafor); fit an intercept-only model", column="mods")


def _order_positions(res: MetaResult, order, positions, decreasing: bool) -> np.ndarray:
    k = res.k
    if positions is not None:
        pos = np.asarray(positions)
        if pos.ndim != 1 or pos.size != k or not np.issubdtype(pos.dtype, np.integer) or \
                sorted(pos.tolist()) != list(range(k)):
            raise InputError(f"positions must be a permutation of 0..{k - 1} (each study "
                             "once)", column="positions")
        return pos.astype(int)
    if order is None:
        return np.arange(k)
    key = np.asarray(order)
    if key.ndim != 1 or key.size != k:
        raise InputError(f"order needs one sort key per study ({k}); got {key.size}",
                         column="order")
    if key.dtype.kind in "fc":
        bad = np.where(~np.isfinite(key))[0]
        if bad.size:
            raise InputError("order has missing or infinite values; give every study a "
                             "key", column="order", rows=bad)
    # R's order(): stable, ties keep the original order (also when decreasing).
    if decreasing:
        if key.dtype.kind in "biuf":
            return np.argsort(-key.astype(float), kind="stable")
        ranks = np.unique(key, return_inverse=True)[1]
        return np.argsort(-ranks, kind="stable")
    return np.argsort(key, kind="stable")


def cumulative(res: MetaResult, order=None, *, positions=None,
               decreasing: bool = False) -> CumulativeResult:
    """Cumulative meta-analysis: pool the first 1, 2, ..., k studies (metafor ``cumul``).

    Parameters
    ----------
    res : MetaResult
        An intercept-only ``fit_rma`` model, or a Mantel-Haenszel / Peto model with counts.
    order : array_like, optional
        A **sort key**, one value per study (e.g. publication year), as metafor's
        ``order`` argument: studies enter in increasing key order (``decreasing=True`` for
        the reverse); ties keep the original order (R's ``order()`` is stable).
        ``None``: the order of the studies in ``res``.
    positions : array_like of int, optional
        Alternatively, the explicit entry order as 0-based positions (a permutation).
    decreasing : bool
        Sort the key in decreasing order (metafor's ``decreasing`` argument).

    Returns
    -------
    CumulativeResult
        Row ``i``: the model fitted to the first ``i + 1`` studies (the first row is the
        single study, with tau² = 0 and a z-test, as metafor for k = 1).
    """
    _check_series_input(res, "cumulative meta-analysis")
    pos = _order_positions(res, order, positions, decreasing)
    fits = []
    for i in range(res.k):
        sel = pos[: i + 1]
        if is_mh_peto(res):
            from drivervte.meta._mhpeto import refit_counts

            fits.append(refit_counts(res, sel))
        else:
            fits.append(refit(res, res.yi[sel], res.vi[sel],
                              study=[res.study[j] for j in sel]))
    labels = _labels(res)
    out = series_from_fits(CumulativeResult, res, fits, [labels[j] for j in pos],
                           positions=[int(j) for j in pos])
    _warn_unconverged(out, "cumulative")
    return out


def _warn_unconverged(out: FitSeries, what: str) -> None:
    bad = [i for i, c in enumerate(out.converged) if not c]
    if bad:
        warnings.warn(f"{what}: {len(bad)} refit(s) failed or did not converge (rows "
                      f"{', '.join(str(i + 1) for i in bad)}); their values are NaN, see "
                      "notes", ConvergenceWarning, stacklevel=3)


# ----------------------------------------------------------------------- influence
@dataclass
class InfluenceResult(Result):
    r"""Case-deletion diagnostics (metafor ``influence.rma.uni`` and ``rstandard.rma.uni``).

    For study ``i``, with ``(i)`` marking the model refitted without it, ``s2w`` the
    Knapp-Hartung factor of that refit (1 for z-tests), ``h_i`` the hat value and ``b`` the
    coefficients:

    - ``rstudent = (y_i - x_i b_(i)) / sqrt(s2w_(i) (v_i + tau2_(i)) + x_i Var(b_(i)) x_i')``
    - ``dffits = (x_i b - x_i b_(i)) / sqrt(s2w_(i) h_i (tau2_(i) + v_i))``
    - ``cook_d = (b - b_(i))' Var(b)^-1 (b - b_(i))``
    - ``cov_r = det Var(b_(i)) / det Var(b)``
    - ``dfbetas = (b - b_(i)) / sqrt(s2w_(i) diag[(X' W_(i) X)^-1])`` with
      ``W_(i) = diag(1/(v_j + tau2_(i)))`` over all k studies
    - ``hat = diag(X (X'WX)^-1 X'W)``, ``weight = 100 w_i / sum w`` (percent)
    - ``inf``: metafor's flag, any of ``|dffits| > 3 sqrt(p/(k-p))``,
      ``pchisq(cook_d, p) > 0.5``, ``hat > 3 p/k``, ``|dfbetas| > 1``.
    - ``rstandard = e_i / se(e_i)`` with ``e = y - Xb`` and ``Var(e) = (I-H) M (I-H)'``,
      ``M = diag(v + tau2)`` (internally standardised, metafor ``rstandard``).

    ``to_dict()`` keys: ``k, p, coef_names, thresholds {dffits, hat, cook_d_quantile,
    dfbetas}, warnings, studies`` (a list of dicts with ``study, rstudent, dffits, cook_d,
    cov_r, tau2_del, QE_del, hat, weight, dfbetas {coef: value}, inf, rstandard,
    note``).
    """

    study: list[str]
    rstudent: np.ndarray
    dffits: np.ndarray
    cook_d: np.ndarray
    cov_r: np.ndarray
    tau2_del: np.ndarray
    QE_del: np.ndarray
    hat: np.ndarray
    weight: np.ndarray
    dfbetas: np.ndarray
    inf: np.ndarray
    rstandard: np.ndarray
    rstandard_resid: np.ndarray
    rstandard_se: np.ndarray
    coef_names: list[str]
    k: int
    p: int
    thresholds: dict[str, float]
    notes: list[str | None]
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        rows = []
        for i, s in enumerate(self.study):
            rows.append({
                "study": s, "rstudent": self.rstudent[i], "dffits": self.dffits[i],
                "cook_d": self.cook_d[i], "cov_r": self.cov_r[i],
                "tau2_del": self.tau2_del[i], "QE_del": self.QE_del[i], "hat": self.hat[i],
                "weight": self.weight[i],
                "dfbetas": {n: self.dfbetas[i, j] for j, n in enumerate(self.coef_names)},
                "inf": bool(self.inf[i]), "rstandard": self.rstandard[i],
                "note": self.notes[i],
            })
        return jsonable({"k": self.k, "p": self.p, "coef_names": self.coef_names,
                         "thresholds": self.thresholds, "warnings": self.warnings,
                         "studies": rows})

    def summary(self) -> str:
        rows = [[s, self.rstudent[i], self.dffits[i], self.cook_d[i], self.cov_r[i],
                 self.tau2_del[i], self.QE_del[i], self.hat[i], fmt_num(self.weight[i], 2),
                 *(self.dfbetas[i, j] for j in range(self.p)), "*" if self.inf[i] else ""]
                for i, s in enumerate(self.study)]
        heads = ["study", "rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del",
                 "hat", "weight", *(f"dfbs.{n}" for n in self.coef_names), "inf"]
        out = format_table(heads, rows, title="Influence diagnostics (* = influential)")
        return "\n".join([out, *(f"warning: {w}" for w in self.warnings)])


def _solve_inv(A: np.ndarray) -> np.ndarray:
    return np.linalg.inv(A)


def influence(res: MetaResult) -> InfluenceResult:
    """Case-deletion influence diagnostics of an ``rma`` model (metafor
    ``influence.rma.uni``; Viechtbauer & Cheung 2010), with ``rstandard``.

    Works for intercept-only models and meta-regressions (the refits keep the design
    matrix; a deletion that makes it rank-deficient gives a NaN row, as metafor).

    Raises
    ------
    InputError
        For Mantel-Haenszel / Peto models (metafor offers ``influence`` for ``rma.uni``
        only) or k < 2.
    """
    require_rma(res, "influence diagnostics")
    check_k(res, 2, "influence diagnostics")
    if s2w_of(res) <= 0:
        raise InputError("the Knapp-Hartung factor is 0 (the model fits the effects "
                         "exactly), so Var(b) is 0 and the diagnostics are undefined; use "
                         "test='z'", column="test")
    k = res.k
    yi, vi, tau2 = np.asarray(res.yi, float), np.asarray(res.vi, float), float(res.tau2)
    X = np.ones((k, 1)) if res.X is None else np.asarray(res.X, float)
    p = X.shape[1]
    beta = np.atleast_1d(np.asarray(res.beta if res.beta is not None else [res.estimate],
                                    float))
    vb = np.atleast_2d(np.asarray(res.vb if res.vb is not None else [[res.se ** 2]], float))
    names = list((res.settings or {}).get("mod_names") or
                 (["intrcpt"] if p == 1 else [f"X{j + 1}" for j in range(p)]))
    int_only = p == 1

    w = 1.0 / (vi + tau2)
    stXWX = _solve_inv(X.T @ (w[:, None] * X))
    H = X @ stXWX @ (X.T * w[None, :])
    hat = np.diag(H).copy()
    hat[hat > 1 - 10 * np.finfo(float).eps] = 1.0
    weight = 100 * w / w.sum()
    svb = _solve_inv(vb)
    pred_full = X @ beta
    det_vb = np.linalg.det(vb)

    nan = np.full(k, np.nan)
    tau2_del, QE_del, delpred, vdelpred, s2w_del = (nan.copy() for _ in range(5))
    dffits, cook_d, cov_r = nan.copy(), nan.copy(), nan.copy()
    dfbs = np.full((k, p), np.nan)
    notes: list[str | None] = [None] * k
    for i in range(k):
        keep = np.arange(k) != i
        out = refit(res, yi[keep], vi[keep], None if int_only else X[keep],
                    study=[s for s, m in zip(res.study, keep, strict=True) if m])
        if not out.ok:
            notes[i] = out.problem
            continue
        f = out.fit
        b_i = np.atleast_1d(np.asarray(f.beta, float))
        vb_i = np.atleast_2d(np.asarray(f.vb, float))
        s2w = s2w_of(f)
        if s2w <= 0:
            notes[i] = ("the Knapp-Hartung factor of the refit is 0 (the other studies "
                        "are fitted exactly); diagnostics undefined")
            continue
        tau2_del[i], QE_del[i], s2w_del[i] = f.tau2, f.Q, s2w
        xi = X[i]
        delpred[i] = xi @ b_i
        vdelpred[i] = xi @ vb_i @ xi
        dffits[i] = (pred_full[i] - delpred[i]) / math.sqrt(s2w * hat[i] * (f.tau2 + vi[i]))
        wd = 1.0 / (vi + f.tau2)
        vb_del = _solve_inv(X.T @ (wd[:, None] * X))
        dfb = beta - b_i
        dfbs[i] = dfb / np.sqrt(s2w * np.diag(vb_del))
        cook_d[i] = float(dfb @ svb @ dfb)
        cov_r[i] = np.linalg.det(vb_i) / det_vb
        if out.notes:
            notes[i] = "; ".join(out.notes)

    resid = yi - delpred
    resid[np.abs(resid) < 100 * np.finfo(float).eps] = 0.0
    seresid = np.sqrt(vi * s2w_del + vdelpred + tau2_del * s2w_del)
    rstudent = resid / seresid

    dffits_cut = 3 * math.sqrt(p / (k - p)) if k > p else math.nan
    with np.errstate(invalid="ignore"):
        inf = (
            (np.abs(dffits) > dffits_cut)
            | (stats.chi2.cdf(cook_d, p) > 0.5)
            | (hat > 3 * p / k)
            | np.any(np.abs(dfbs) > 1, axis=1)
        )

    ei = yi - X @ beta
    ei[np.abs(ei) < 100 * np.finfo(float).eps] = 0.0
    ImH = np.eye(k) - H
    ve = ImH @ np.diag(vi + tau2) @ ImH.T
    with np.errstate(invalid="ignore", divide="ignore"):
        rs_se = np.sqrt(np.diag(ve))
        rstandard = ei / rs_se

    msgs = []
    failed = [i for i in range(k) if np.isnan(cook_d[i])]
    if failed:
        msgs.append("refit without row(s) " + ", ".join(str(i + 1) for i in failed) +
                    " failed; their diagnostics are NaN (see notes)")
        warnings.warn(msgs[-1], ConvergenceWarning, stacklevel=2)
    return InfluenceResult(
        study=list(res.study), rstudent=rstudent, dffits=dffits, cook_d=cook_d, cov_r=cov_r,
        tau2_del=tau2_del, QE_del=QE_del, hat=hat, weight=weight, dfbetas=dfbs,
        inf=np.asarray(inf, bool), rstandard=rstandard, rstandard_resid=ei,
        rstandard_se=rs_se, coef_names=names, k=k, p=p,
        thresholds={"dffits": dffits_cut, "hat": 3 * p / k,
                    "cook_d_quantile": float(stats.chi2.ppf(0.5, p)), "dfbetas": 1.0},
        notes=notes, warnings=msgs,
    )
