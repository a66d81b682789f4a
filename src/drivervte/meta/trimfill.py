r"""Duval & Tweedie's trim-and-fill method, as metafor ``trimfill.rma.uni`` (3.8).

Algorithm (metafor's, step for step):

1. **Side.** Unless given, the side with the missing studies is chosen from the slope of
   the meta-regression of ``yi`` on ``sqrt(vi)`` (same method as the model): a negative
   slope means studies are missing on the right, otherwise on the left (a slope that is
   zero up to rounding error, ``|z| < 1e-10``, counts as zero, so that the choice does
   not depend on the last bits of a floating-point sum).
2. The effects are mirrored (``-yi``) when the side is "right", so that missing studies
   are always on the left, and sorted (stably).
3. **Iterate** until the estimate of ``k0`` stops changing (at most 100 times): fit the
   model to the ``k - k0`` smallest effects; centre all effects at that estimate ``b``;
   rank ``|yi - b|`` (ties by position) and sign the ranks by ``yi - b``; then

   - ``L0``: ``S_r`` = sum of positive signed ranks,
     ``k0 = (4 S_r - k(k+1)) / (2k - 1)``,
     ``se(k0) = 4 sqrt(Var S_r) / (2k - 1)`` with
     ``Var S_r = [k(k+1)(2k+1) + 10 k0^3 + 27 k0^2 + 17 k0 - 18 k k0^2 - 18 k k0 +
     6 k^2 k0] / 24``;
   - ``R0``: ``k0 = k - r* - 1`` where ``r*`` is the largest rank carrying a negative
     sign (so ``k0 + 1`` is the length of the rightmost run of positive ranks),
     ``se(k0) = sqrt(2 max(0, k0) + 2)``, and ``p_k0 = 0.5^(k0 + 1)`` (metafor's
     ``p.k0``: the probability of a run at least that long under symmetry);
   - ``Q0``: ``k0 = k - 1/2 - sqrt(2k^2 - 4 S_r + 1/4)`` with its ``se``;

   then ``k0 = max(0, round(k0))`` (R rounds half to even, as NumPy).
4. **Fill**: the ``k0`` largest (mirrored-scale) effects are reflected about the last
   estimate, ``2 b - yi`` on the original scale, with the same variances, labelled
   "Filled 1", ..., and the model is refitted to the ``k + k0`` studies with the original
   method, test and level.

Differences from metafor, all deliberate: (i) the filled model keeps the original
``test``, ``level``, fixed tau² and ``control`` (metafor 3.8 refits it with ``test="z"``
and a 95% level unless these are passed through ``...``; the reference fixtures pass
them); (ii) when ``R0`` finds no negative rank, metafor fails (``max`` of an empty set);
here ``r*`` is the largest rank of a zero difference, or 0 (``k0 = k - 1``); (iii)
differences ``yi - b`` below ``100 eps max(1, |b|)`` count as zero (no sign), as metafor
does for residuals in ``influence``; this only matters for effects equal to the estimate
up to rounding; (iv) non-convergence (k0 oscillating) and an undefined ``Q0`` (negative
root argument) are reported with ``converged=False`` and a reason instead of an R error.

References
----------
Duval S, Tweedie R (2000a). Trim and fill: a simple funnel-plot-based method of testing
and adjusting for publication bias in meta-analysis. Biometrics 56:455-463.
Duval S, Tweedie R (2000b). A nonparametric "trim and fill" method of accounting for
publication bias in meta-analysis. JASA 95:89-98.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from drivervte.errors import ConvergenceWarning, InputError
from drivervte.meta._refit import refit, require_rma
from drivervte.meta.result import MetaResult
from drivervte.results import Result, fmt_num, fmt_p, format_table, jsonable

__all__ = ["ESTIMATORS", "TrimFillResult", "trimfill"]

ESTIMATORS = ("L0", "R0", "Q0")
MAXITER = 100


@dataclass
class TrimFillResult(Result):
    """Trim-and-fill: the estimated number of missing studies and the filled model.

    ``estimate``, ``se``, ``ci_lower``, ``ci_upper``, ``pvalue``, ``tau2``, ``I2``, ``H2``,
    ``Q``, ``Q_pvalue`` describe the model refitted to the ``k + k0`` studies (the original
    model when ``k0 = 0``), on the model scale. ``filled`` lists the imputed studies.

    ``to_dict()`` keys: ``k0, se_k0, p_k0, side, side_chosen, estimator, k, k_filled,
    estimate, se, statistic, df, pvalue, ci_lower, ci_upper, tau2, I2, H2, Q, Q_pvalue,
    estimate_original, ci_lower_original, ci_upper_original, filled [{study, yi, vi}],
    iterations, converged, method, test, level, measure, warnings``. ``side_chosen`` is
    ``"auto"`` when the side came from the regression on ``sqrt(vi)``, else ``"given"``.
    """

    k0: int | None
    se_k0: float
    p_k0: float | None
    side: str
    side_chosen: str
    estimator: str
    k: int
    k_filled: int
    estimate: float
    se: float
    statistic: float
    df: float | None
    pvalue: float
    ci_lower: float
    ci_upper: float
    tau2: float
    I2: float
    H2: float
    Q: float
    Q_pvalue: float
    estimate_original: float
    ci_lower_original: float
    ci_upper_original: float
    filled_yi: np.ndarray
    filled_vi: np.ndarray
    filled_study: list[str]
    iterations: int
    converged: bool
    method: str
    test: str
    level: float
    measure: str
    warnings: list[str] = field(default_factory=list)
    model: MetaResult | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        keys = ["k0", "se_k0", "p_k0", "side", "side_chosen", "estimator", "k", "k_filled",
                "estimate", "se", "statistic", "df", "pvalue", "ci_lower", "ci_upper",
                "tau2", "I2", "H2", "Q", "Q_pvalue", "estimate_original",
                "ci_lower_original", "ci_upper_original", "iterations", "converged",
                "method", "test", "level", "measure", "warnings"]
        out = {key: jsonable(getattr(self, key)) for key in keys}
        out["filled"] = [{"study": s, "yi": jsonable(y), "vi": jsonable(v)} for s, y, v in
                         zip(self.filled_study, self.filled_yi, self.filled_vi, strict=True)]
        return out

    def summary(self) -> str:
        lines = [
            f"Trim-and-fill ({self.estimator}, side = {self.side} [{self.side_chosen}]): "
            f"estimated missing studies k0 = {self.k0} (se {fmt_num(self.se_k0)})"
            + (f", p = {fmt_p(self.p_k0)}" if self.p_k0 is not None else ""),
        ]
        rows = [["original", self.estimate_original, "", "", self.ci_lower_original,
                 self.ci_upper_original, ""],
                [f"filled (k = {self.k_filled})", self.estimate, self.se, fmt_p(self.pvalue),
                 self.ci_lower, self.ci_upper, self.tau2]]
        lines.append(format_table(["model", "estimate", "se", "pval", "ci.lb", "ci.ub",
                                   "tau2"], rows))
        if len(self.filled_yi):
            lines.append("filled: " + ", ".join(
                f"{s} (yi {fmt_num(y)}, vi {fmt_num(v)})" for s, y, v in
                zip(self.filled_study, self.filled_yi, self.filled_vi, strict=True)))
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)


def _choose_side(res: MetaResult, yi, vi) -> str:
    X = np.column_stack([np.ones(yi.size), np.sqrt(vi)])
    out = refit(res, yi, vi, X)
    if out.fit is None or not out.fit.converged:
        raise InputError(
            "cannot choose the side automatically: the regression of yi on sqrt(vi) could "
            f"not be fitted ({out.problem}); give side='left' or side='right'", column="side")
    b1 = float(out.fit.beta[1])
    se1 = float(np.sqrt(out.fit.vb[1, 1])) if out.fit.vb is not None else math.inf
    # metafor: slope < 0 -> "right", else "left". A slope that is zero up to rounding
    # error (|z| < 1e-10, e.g. a perfectly symmetric funnel) has no sign: treat it as 0.
    if abs(b1) <= 1e-10 * se1:
        return "left"
    return "right" if b1 < 0 else "left"


def _k0_step(yi_c: np.ndarray, k: int, estimator: str) -> tuple[float, float]:
    """One estimate of (k0, se_k0) from the centred (mirrored, sorted) effects."""
    order = np.argsort(np.abs(yi_c), kind="stable")
    ranks = np.empty(k)
    ranks[order] = np.arange(1, k + 1)
    signed = np.sign(yi_c) * ranks
    if estimator == "R0":
        neg = -signed[signed < 0]
        if neg.size:
            k0 = (k - neg.max()) - 1
        else:  # no negative rank: the run of positive ranks starts after the last zero
            k0 = (k - (ranks[signed == 0].max() if np.any(signed == 0) else 0.0)) - 1
        return k0, math.sqrt(2 * max(0.0, k0) + 2)
    Sr = float(signed[signed > 0].sum())
    if estimator == "L0":
        k0 = (4 * Sr - k * (k + 1)) / (2 * k - 1)
    else:
        rad = 2 * k * k - 4 * Sr + 0.25
        k0 = k - 0.5 - math.sqrt(rad) if rad >= 0 else math.nan
    var_sr = (k * (k + 1) * (2 * k + 1) + 10 * k0 ** 3 + 27 * k0 ** 2 + 17 * k0
              - 18 * k * k0 ** 2 - 18 * k * k0 + 6 * k ** 2 * k0) / 24
    sq = math.sqrt(var_sr) if var_sr >= 0 else math.nan
    if estimator == "L0":
        se = 4 * sq / (2 * k - 1)
    else:
        den = (k - 0.5) ** 2 - k0 * (2 * k - k0 - 1)
        se = 2 * sq / math.sqrt(den) if den > 0 else math.nan
    return k0, se


def trimfill(res: MetaResult, side: str | None = None, estimator: str = "L0", *,
             maxiter: int = MAXITER) -> TrimFillResult:
    """Trim-and-fill (Duval & Tweedie 2000; metafor ``trimfill``). See the module docstring.

    Parameters
    ----------
    res : MetaResult
        An intercept-only ``fit_rma`` model.
    side : {"left", "right"}, optional
        Where studies are missing; ``None`` chooses it as metafor does.
    estimator : {"L0", "R0", "Q0"}
        The estimator of the number of missing studies (default ``L0``).
    maxiter : int
        Iterations before giving up (metafor: 100).

    Returns
    -------
    TrimFillResult

    Raises
    ------
    InputError
        k < 3, moderators, Mantel-Haenszel / Peto models, an unknown side or estimator.
    """
    from drivervte.meta.bias import small_sample_notes

    require_rma(res, "trim-and-fill")
    if res.X is not None and res.X.shape[1] != 1:
        raise InputError("trim-and-fill is only defined for models without moderators (as "
                         "metafor)", column="mods")
    if estimator not in ESTIMATORS:
        raise InputError(f"unknown estimator '{estimator}'; use L0, R0 or Q0",
                         column="estimator")
    if side is not None and side not in ("left", "right"):
        raise InputError(f"side must be 'left', 'right' or None, got '{side}'", column="side")
    notes = small_sample_notes(res, "Trim-and-fill")
    yi0, vi0 = np.asarray(res.yi, float), np.asarray(res.vi, float)
    k = yi0.size
    chosen = "given" if side is not None else "auto"
    if side is None:
        side = _choose_side(res, yi0, vi0)
    ys = -yi0 if side == "right" else yi0.copy()
    ix = np.argsort(ys, kind="stable")
    ys, vs = ys[ix], vi0[ix]

    k0, k0_prev, it, beta = 0, -1, 0, math.nan
    se_k0 = math.nan
    converged, problem = True, None
    while k0 != k0_prev:
        k0_prev = k0
        it += 1
        if it > maxiter:
            converged, problem = False, f"k0 did not settle within {maxiter} iterations"
            break
        out = refit(res, ys[: k - k0], vs[: k - k0])
        if not out.ok:
            converged, problem = False, f"the trimmed model could not be fitted: {out.problem}"
            break
        beta = float(out.fit.estimate)
        yc = ys - beta
        # as metafor zeroes residuals below 100 eps (influence.rma.uni): a difference at
        # rounding level has no sign (e.g. all effects equal).
        yc[np.abs(yc) < 100 * np.finfo(float).eps * max(1.0, abs(beta))] = 0.0
        est, se_k0 = _k0_step(yc, k, estimator)
        if math.isnan(est):
            converged, problem = False, ("the Q0 estimator is undefined for these data "
                                         "(negative argument of the square root)")
            break
        k0 = int(max(0, np.round(est)))
        se_k0 = max(0.0, se_k0) if not math.isnan(se_k0) else math.nan

    base = {"side": side, "side_chosen": chosen, "estimator": estimator, "k": k,
            "estimate_original": res.estimate, "ci_lower_original": res.ci_lower,
            "ci_upper_original": res.ci_upper, "iterations": it, "method": res.method,
            "test": res.test, "level": res.level, "measure": res.measure}
    if not converged:
        notes.append(problem)
        warnings.warn(f"trim-and-fill: {problem}", ConvergenceWarning, stacklevel=2)
        nan = math.nan
        return TrimFillResult(
            k0=None, se_k0=nan, p_k0=None, k_filled=k, estimate=nan, se=nan, statistic=nan,
            df=None, pvalue=nan, ci_lower=nan, ci_upper=nan, tau2=nan, I2=nan, H2=nan, Q=nan,
            Q_pvalue=nan, filled_yi=np.array([]), filled_vi=np.array([]), filled_study=[],
            converged=False, warnings=notes, **base)

    p_k0 = 0.5 ** (k0 + 1) if estimator == "R0" else None
    if k0 > 0:
        # mirrored scale: 2 b - y; original scale: the same reflection about the estimate.
        fill = 2 * beta - ys[k - k0:]
        fill_yi = -fill if side == "right" else fill
        fill_vi = vs[k - k0:]
        labels = [f"Filled {i + 1}" for i in range(k0)]
        ni = None
        if res.ni is not None and len(res.ni) == k:
            ni0 = np.asarray(res.ni, float)
            ni = np.concatenate([ni0, ni0[ix][k - k0:]])  # as metafor's ni.fill
        out = refit(res, np.concatenate([yi0, fill_yi]), np.concatenate([vi0, fill_vi]),
                    study=list(res.study) + labels, ni=ni, confint=True)
        if not out.ok:
            raise InputError(f"the filled model could not be fitted: {out.problem}",
                             column="yi")
        model = out.fit
        notes.extend(out.notes)
    else:
        fill_yi, fill_vi, labels, model = np.array([]), np.array([]), [], res
    return TrimFillResult(
        k0=k0, se_k0=se_k0, p_k0=p_k0, k_filled=k + k0, estimate=model.estimate,
        se=model.se, statistic=model.statistic, df=model.df, pvalue=model.pvalue,
        ci_lower=model.ci_lower, ci_upper=model.ci_upper, tau2=model.tau2, I2=model.I2,
        H2=model.H2, Q=model.Q, Q_pvalue=model.Q_pvalue, filled_yi=fill_yi,
        filled_vi=fill_vi, filled_study=labels, converged=True, warnings=notes, model=model,
        **base)
