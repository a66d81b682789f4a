"""Predicted cumulative incidence from a Fine-Gray fit, with standard errors and CIs.

For a covariate profile :math:`z` (centred :math:`z_c = z - \\bar x`, relative risk
:math:`r = e^{z_c'\\hat\\beta}`) the model gives

.. math::

    \\hat F_1(t\\mid z) = 1 - \\exp\\{-\\hat\\Lambda(t\\mid z)\\},\\qquad
    \\hat\\Lambda(t\\mid z) = r\\,\\hat\\Lambda_0(t) = r \\sum_{t_k\\le t} d_k / S_0(t_k),

the Breslow-type baseline of the fit's own weighted risk sets (``crr``'s for a ``crr`` fit,
``survival::finegray``'s with delayed entry). Its derivative in :math:`\\beta` is
:math:`r\\,h(t)` with :math:`h(t) = z_c\\hat\\Lambda_0(t) - \\sum_{t_k\\le t}\\bar x_k\\,
d_k/S_0(t_k)`. Two variances of :math:`\\hat\\Lambda(t\\mid z)`:

``"influence"`` (default). The empirical variance of the influence functions,
:math:`\\widehat{\\mathrm{Var}} = \\sum_i \\phi_i(t)^2` with

.. math::

    \\phi_i(t) = r\\Big[\\sum_{t_k\\le t}\\frac{dN_i(t_k) - w_i(t_k)e^{x_i'\\hat\\beta}
      d_k/S_0(t_k)}{S_0(t_k)} + \\psi^\\Lambda_i(t) + h(t)'\\hat I^{-1}(\\eta_i + \\psi_i)\\Big],

the three parts being the subject's own contribution to the Breslow sum, the term for the
estimated censoring weights (``crr`` fits only),

.. math::

    \\psi^\\Lambda_i(t) = \\int \\frac{q(u;t)}{Y(u)}\\,dM^c_i(u),\\qquad
    q(u;t) = \\sum_{u<t_k\\le t}\\frac{d_k}{S_0(t_k)^2}
      \\sum_{j\\text{ competing}, T_j\\le u}\\frac{\\hat G(t_k-)}{\\hat G(T_j-)}e^{x_j'\\hat\\beta},

and the propagation of :math:`\\hat\\beta`'s own influence (the rows of ``crr``'s sandwich,
:math:`\\eta_i+\\psi_i`). This is the i.i.d. representation of Fine and Gray (1999, JASA
94: 496-509, Section 4 and the Appendix), which accounts for the estimation of both
:math:`\\beta` and the censoring distribution; for a fit with delayed entry the weights are
treated as known (no :math:`\\psi` terms, as the fit's own robust SE). The term
:math:`\\psi^\\Lambda` is the exact derivative of the estimator: a censoring at :math:`u`
changes :math:`\\hat G(t_k-)/\\hat G(T_j-)` iff :math:`T_j \\le u < t_k` (ties included),
and with ``cengroup`` it pairs every failure with the group's competing failures (each
group's :math:`\\hat G` enters every risk set). The :math:`\\psi_i` of :math:`\\hat\\beta` are
``crr``'s own (its convention :math:`T_j < u \\le t_k` and, with ``cengroup``, failures of
the same group only), so that its part equals ``crr$var``; the two conventions differ only
with ties between censoring and failure times or with ``cengroup`` (measured: <= 1.5% on
SEs). The censoring KM is linearised as a Nelson-Aalen (:math:`1/Y^2`), as ``crr`` does.
No R package computes this; it is checked against an independent
dense implementation, against the jackknife, and by simulated coverage
(``benchmarks/coverage_finegray_predict.py``).

``"survfit"``. What R ``survival::survfit.coxph`` computes for a Cox model fitted to
``survival::finegray`` data (survival 3.5):
:math:`r^2[\\sum_{t_k\\le t} d_k/S_0(t_k)^2 + h(t)'Vh(t)]` with :math:`V` the fit's
variance of :math:`\\hat\\beta` (model-based or sandwich, whichever the fit uses). The
baseline part treats the weights as known and the model as true.

Confidence limits are computed on :math:`\\log\\hat\\Lambda` (the complementary log-log of
:math:`F`), so they stay in :math:`[0, 1]`:
:math:`F_{\\pm} = 1 - \\exp\\{-\\hat\\Lambda\\, e^{\\pm z_{1-\\alpha/2}\\,
\\mathrm{se}(\\hat\\Lambda)/\\hat\\Lambda}\\}` (``survfit``'s ``conf.type = "log-log"`` for
:math:`1-F`). The reported ``se`` of :math:`F` is the delta-method
:math:`e^{-\\hat\\Lambda}\\,\\mathrm{se}(\\hat\\Lambda)`. Before the first failure
:math:`\\hat F = 0` with no uncertainty (limits 0, 0).

Cost: :math:`O(n(p + T))` time and :math:`O(n\\,\\min(T, 16))` extra memory for ``T``
requested times (the influence functions are formed for 16 times at a time: at n = 1e6,
p = 10, 64 times take ~3 s with a peak of ~0.65 GB, against ~6 s and ~1.7 GB in blocks of
64). Predictions for a fit with ``cov2`` (time-varying coefficients) have point estimates
only.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from drivervte.errors import ConvergenceWarning, InputError
from drivervte.results import Result, fmt_num, format_table
from drivervte.survival.finegray_scan import (
    FGData,
    _risk_coef,
    _risk_sums,
    add_psi,
    sandwich_terms,
)

__all__ = [
    "CIFPrediction",
    "baseline_influence",
    "baseline_terms",
    "categorical_levels",
    "flag_columns",
    "influence_cross",
    "predict",
    "profile_matrix",
]

METHODS = ("influence", "survfit")
_CHUNK = 16  # times per block of influence functions (memory ~ 40 n _CHUNK bytes)


@dataclass
class CIFPrediction(Result):
    """Predicted cumulative incidence of the fitted cause for covariate profiles.

    ``to_dict()`` keys (stable): ``cause``, ``times`` (list), ``level``, ``method``
    (``"influence"`` or ``"survfit"``), ``profiles``: one object per profile with
    ``values`` (the design values used, ``{column: value}``), ``cif``, ``se``,
    ``ci_lower``, ``ci_upper``, ``cumhaz`` (:math:`\\hat\\Lambda(t\\mid z)`),
    ``se_cumhaz`` (lists over ``times``), and ``notes`` (text: how the variance was
    computed). Arrays on the object (``estimate``, ``se``, ...) are (len(times), profiles).
    """

    cause: int
    times: np.ndarray
    values: list[dict[str, float]]
    estimate: np.ndarray
    se: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    cumhaz: np.ndarray
    se_cumhaz: np.ndarray
    level: float
    method: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        from drivervte.results import jsonable

        profiles = [
            {
                "values": dict(v),
                "cif": jsonable(self.estimate[:, j]),
                "se": jsonable(self.se[:, j]),
                "ci_lower": jsonable(self.ci_lower[:, j]),
                "ci_upper": jsonable(self.ci_upper[:, j]),
                "cumhaz": jsonable(self.cumhaz[:, j]),
                "se_cumhaz": jsonable(self.se_cumhaz[:, j]),
            }
            for j, v in enumerate(self.values)
        ]
        return {
            "cause": int(self.cause),
            "times": jsonable(self.times),
            "level": float(self.level),
            "method": self.method,
            "profiles": profiles,
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        pct = f"{100 * self.level:g}% CI"
        out = [f"Predicted cumulative incidence of cause {self.cause} (Fine-Gray model; "
               f"variance: {self.method})"]
        for j, v in enumerate(self.values):
            label = ", ".join(f"{k}={fmt_num(x, 6).rstrip('0').rstrip('.')}"
                              for k, x in v.items()) or "(no covariates)"
            rows = [
                [fmt_num(t, 6).rstrip("0").rstrip("."), self.estimate[i, j], self.se[i, j],
                 f"{fmt_num(self.ci_lower[i, j])} - {fmt_num(self.ci_upper[i, j])}"]
                for i, t in enumerate(self.times)
            ]
            out += ["", format_table(["time", "CIF", "se", pct], rows, title=f"Profile {label}")]
        out += ["", *self.notes,
                "Research software, not a medical device: not for individual clinical "
                "decisions."]
        return "\n".join(out)


# ---------------------------------------------------------------- numerics
def baseline_terms(D: FGData, beta: np.ndarray, e: np.ndarray | None = None):
    """Centred baseline pieces at the distinct failure times: ``S0`` (the weighted risk-set
    sums), ``lam`` (:math:`\\hat\\Lambda_0(t_k)` at centred covariates, cumulative), ``A``
    (cumulative :math:`d_k/S_0^2`) and ``H`` (cumulative :math:`\\bar x_k d_k/S_0`, (d, p)).
    One :math:`O(n p)` scan; ``D``'s work buffer is not touched. ``e``:
    :math:`e^{x_i'\\beta}` if already computed."""
    S0, S1 = _risk_sums(D, np.exp(D.X @ beta) if e is None else e)
    dlam = D.dk / S0
    H = np.cumsum(S1 * (dlam / S0)[:, None], axis=0)
    return S0, np.cumsum(dlam), np.cumsum(D.dk / S0**2), H


def influence_cross(D: FGData, beta: np.ndarray, S0: np.ndarray, info_inv: np.ndarray,
                    kappa: np.ndarray, psi: bool, R: np.ndarray | None = None,
                    e: np.ndarray | None = None):
    """Cross-products of the influence functions of :math:`\\hat\\Lambda_0(t)` and
    :math:`\\hat\\beta` at the cut-offs ``kappa`` (number of failure times :math:`\\le t`).

    ``R`` are the fit's score residuals (:math:`\\eta_i+\\psi_i`, or :math:`\\eta_i` without
    ``psi``; recomputed by :func:`sandwich_terms` if not given; ``e`` likewise
    :math:`e^{x_i'\\beta}`). Returns ``aa`` (T,)
    :math:`\\sum_i\\phi^\\Lambda_i(t)^2`, ``C`` (p, T)
    :math:`\\sum_i\\phi^\\beta_i\\phi^\\Lambda_i(t)` and ``V`` (p, p)
    :math:`\\sum_i\\phi^\\beta_i\\phi^{\\beta\\prime}_i` (equal to the fit's sandwich
    variance), where :math:`\\phi^\\Lambda_i` includes :math:`\\psi^\\Lambda_i` if ``psi``.
    """
    if R is None:
        R = sandwich_terms(D, beta, psi=psi)[0]
    phib = R @ info_inv  # (n, p) influence of beta
    V = phib.T @ phib
    e = np.exp(D.X @ beta) if e is None else e
    aa = np.empty(kappa.size)
    C = np.empty((phib.shape[1], kappa.size))
    for lo in range(0, kappa.size, _CHUNK):
        kap = kappa[lo : lo + _CHUNK]
        Phi = baseline_influence(D, e, S0, kap, psi)
        aa[lo : lo + kap.size] = np.einsum("ij,ij->j", Phi, Phi)
        C[:, lo : lo + kap.size] = phib.T @ Phi
    return aa, C, V


def baseline_influence(D: FGData, e: np.ndarray, S0: np.ndarray, kap: np.ndarray,
                       psi: bool) -> np.ndarray:
    """(n, T) influence functions :math:`\\phi^\\Lambda_i` of :math:`\\hat\\Lambda_0` (centred) at
    the cut-offs ``kap``, rows in ``D``'s sorted order, :math:`\\beta` held fixed: the
    subject's Breslow term and, if ``psi``, the censoring-weight term
    :math:`\\psi^\\Lambda_i`. ``e`` = :math:`e^{x_i'\\hat\\beta}` (centred ``x``)."""
    d = D.uft.size
    a_full = D.dk / S0**2
    pos = np.arange(d)
    Phi = np.empty((e.size, kap.size))
    for c, kc in enumerate(kap):
        Phi[:, c] = -e * _risk_coef(D, np.where(pos < kc, a_full, 0.0))
    ev = np.flatnonzero(D.event)
    kev = D.m[ev] - 1
    Phi[ev] += (kev[:, None] < kap[None, :]) / S0[kev][:, None]
    if psi:
        add_psi(D, [_qfun(D, g, e, a_full, kap) for g in range(D.ncg)], Phi)
    return Phi


def _qfun(D: FGData, g: int, e: np.ndarray, a_full: np.ndarray, kap: np.ndarray):
    """``q_g(u; t)`` for :func:`add_psi`: columns are the cut-offs ``kap``."""
    idx = D.comp[g]
    Cg = np.concatenate((np.cumsum((D.Gk[g] * a_full)[::-1])[::-1], [0.0]))
    R0 = np.concatenate(([0.0], np.cumsum(e[idx] / D.Gown[idx])))
    comp_t = D.time[idx]

    def q(u):
        kk = np.searchsorted(D.uft, u, side="right")  # failures after u
        jj = np.searchsorted(comp_t, u, side="right")  # competing failures at or before u
        A = Cg[np.minimum(kk[:, None], kap[None, :])] - Cg[kap][None, :]
        return R0[jj][:, None] * A

    return q


# ---------------------------------------------------------------- profiles
def categorical_levels(data: pd.DataFrame, covariates: Sequence[str], names: Sequence[str],
                       rows: np.ndarray) -> dict[str, tuple[str, list[str]]]:
    """``{column: (reference level, [other levels])}`` for the covariates coded as
    treatment dummies ``column[T.level]`` (the reference is the one observed level, in the
    rows used, that has no dummy)."""
    out = {}
    for col in covariates:
        others = [nm[len(col) + 3 : -1] for nm in names
                  if nm.startswith(f"{col}[T.") and nm.endswith("]")]
        if not others:
            continue
        values = data[col]
        refs = _unseen(values, others)
        if len(refs) != 1 and len(rows) < len(values):  # a level only in excluded rows
            refs = _unseen(values.iloc[rows], others)
        if len(refs) == 1:
            out[col] = (refs[0], others)
    return out


def flag_columns(data: pd.DataFrame, covariates: Sequence[str], names: Sequence[str]) -> set[str]:
    """Covariates coded as one 0/1 column from yes/no words (``mut``/``wt``, ...) in the
    data, as :func:`~drivervte.survival.design.design_matrix` codes them."""
    from drivervte.survival.design import FLAG_NEGATIVE, FLAG_POSITIVE

    out = set()
    for col in covariates:
        values = data[col]
        if col in names and not pd.api.types.is_numeric_dtype(values.dtype):
            words = {f"{v}".strip().lower() for v in pd.unique(values.dropna())}
            if words and words <= (FLAG_POSITIVE | FLAG_NEGATIVE):
                out.add(col)
    return out


def _flag_value(value: str, i: int, key: str) -> float:
    from drivervte.survival.design import FLAG_NEGATIVE, FLAG_POSITIVE

    word = value.strip().lower()
    if word in FLAG_POSITIVE:
        return 1.0
    if word in FLAG_NEGATIVE:
        return 0.0
    try:
        return float(word)
    except ValueError:
        raise InputError(f"profile {i}: {value!r} is not a yes/no word (e.g. mut/wt, yes/no) "
                         "or 1/0", column=key) from None


def _unseen(values: pd.Series, others: list[str]) -> list[str]:
    """Observed levels (as text) of ``values`` that are not in ``others``."""
    return [lv for lv in {f"{v}" for v in pd.unique(values.dropna())} if lv not in others]


def profile_matrix(profiles: Any, names: Sequence[str],
                   levels: Mapping[str, tuple[str, list[str]]] | None = None,
                   flags: Collection[str] = ()):
    """Covariate profiles -> (m, p) matrix in the fit's design coding, and the values used.

    ``profiles``: an (m, p) array in the order of ``names``; a DataFrame or a list of
    mappings keyed by design column names (``egfr``, ``age``, ``stage[T.IV]``); a
    categorical covariate may instead be given by its level, ``{"stage": "IV"}`` (its
    dummies are then set, the reference level giving all zeros; ``levels`` maps the column
    to ``(reference, [other levels])``). A yes/no flag column (``flags``, text such as
    ``mut``/``wt`` in the data) may be given by its words too (``{"egfr": "mut"}`` is 1,
    with the words of :data:`~drivervte.survival.design.FLAG_POSITIVE` /
    :data:`~drivervte.survival.design.FLAG_NEGATIVE`). Every design column must be given.
    """
    names = list(names)
    levels = dict(levels or {})
    if isinstance(profiles, pd.DataFrame):
        profiles = profiles.to_dict("records")
    elif isinstance(profiles, Mapping):
        profiles = [profiles]
    if not (isinstance(profiles, list) and profiles and all(isinstance(p, Mapping)
                                                          for p in profiles)):
        Z = np.atleast_2d(np.asarray(profiles, dtype=float))
        if Z.shape[1] != len(names):
            raise InputError(f"profiles must have {len(names)} columns ({', '.join(names)})",
                             column="profiles")
        if not np.all(np.isfinite(Z)):
            raise InputError("profile values must be finite numbers", column="profiles")
        return Z, [dict(zip(names, map(float, row), strict=True)) for row in Z]
    rows, used = [], []
    for i, prof in enumerate(profiles, start=1):
        vals: dict[str, float] = {}
        for key, value in prof.items():
            key = str(key)
            if key in levels:
                ref, others = levels[key]
                sval = _match_level(value, [str(ref), *others])
                if sval != str(ref) and sval not in others:
                    raise InputError(
                        f"profile {i}: unknown level {sval!r}; the levels are "
                        f"{[str(ref), *others]}",
                        column=key,
                    )
                for lv in others:
                    _set_once(vals, f"{key}[T.{lv}]", float(sval == lv), i, key)
                continue
            if key not in names:
                raise InputError(f"profile {i}: not a covariate of the fit; the fit has "
                                 f"{names}", column=key)
            if key in vals:
                _set_once(vals, key, np.nan, i, key)
            if key in flags and isinstance(value, str):
                value = _flag_value(value, i, key)
            try:
                vals[key] = float(value)
            except (TypeError, ValueError):
                raise InputError(f"profile {i}: value {value!r} is not a number",
                                 column=key) from None
            if not np.isfinite(vals[key]):
                raise InputError(f"profile {i}: value must be finite", column=key)
        miss = [nm for nm in names if nm not in vals]
        if miss:
            raise InputError(f"profile {i}: no value for {miss}; give every covariate",
                             column=miss[0])
        rows.append([vals[nm] for nm in names])
        used.append({nm: vals[nm] for nm in names})
    return np.asarray(rows, dtype=float), used


def _set_once(vals: dict[str, float], name: str, value: float, i: int, key: str) -> None:
    """Set a design column of a profile; a column given twice (a categorical covariate by
    its level and by its dummy) is an error, not a silent override."""
    if name in vals:
        raise InputError(f"profile {i}: {name} is given twice (a categorical covariate "
                         "by its level and by its dummy columns); give it once", column=key)
    vals[name] = value


def _as_float(x: Any) -> float | None:
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def _match_level(value: Any, levels: list[str]) -> str:
    """The level ``value`` names: its text, or else the one level equal to it as a number
    (the CLI reads ``--profile grade=4`` as 4.0, which must find the level ``"4"``)."""
    sval = f"{value}"
    if sval in levels or (num := _as_float(value)) is None:
        return sval
    hits = [lv for lv in levels if _as_float(lv) == num]
    return hits[0] if len(hits) == 1 else sval


# ---------------------------------------------------------------- prediction
def _fit_notes(fg, t: np.ndarray, lp: np.ndarray, far: np.ndarray) -> list[str]:
    """What the reader of a prediction must know about the fit and the request: no
    convergence (also warned), no SEs, profiles whose exp(z'beta) overflows, times beyond
    the follow-up."""
    notes = []
    if not fg.converged_:
        msg = "the fit did not converge: these predictions are not reliable"
        warnings.warn(msg, ConvergenceWarning, stacklevel=4)
        notes.append(msg)
    if fg.vcov_model_ is None:
        notes.append("the information matrix is singular: no standard errors or CIs")
    for j in far:
        notes.append(
            f"profile {j + 1}: the linear predictor (centred) is {lp[j]:.4g}, so far outside "
            "the data that exp() of it overflows or underflows: the cumulative incidence is "
            f"{'1' if lp[j] > 0 else '0'} to machine precision and its SE and CI are not "
            "available (null)")
    last = float(fg._data.time.max())
    beyond = t[t > last]
    if beyond.size:
        notes.append(f"times {', '.join(f'{x:g}' for x in beyond)} are beyond the last "
                     f"follow-up time ({last:g}): the estimate there is the value at "
                     f"{last:g}, an extrapolation the data cannot support")
    return notes


def predict(fg, profiles: Any, times: Any, *, level: float | None = None,
            method: str = "influence") -> CIFPrediction:
    """Predicted cumulative incidence with SEs and CIs for a fitted
    :class:`~drivervte.survival.finegray.FineGray` (see the module docstring)."""
    if method not in METHODS:
        raise InputError(f"method must be one of {list(METHODS)}", column="method")
    level = fg.level if level is None else float(level)
    if not 0 < level < 1:
        raise InputError("level must be between 0 and 1 (e.g. 0.95)", column="level")
    D: FGData = fg._data
    if D.X2.shape[1]:
        raise InputError("standard errors of predictions are not available for a fit with "
                         "cov2 (time-varying effects); use predict_cif for point estimates",
                         column="cov2")
    t = np.atleast_1d(np.asarray(times, dtype=float))
    if t.ndim != 1:
        raise InputError("times must be a flat list of numbers (e.g. [6, 12, 24])",
                         column="times")
    if t.size == 0 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise InputError("times must be finite numbers >= 0", column="times")
    Z, values = profile_matrix(profiles, fg.names_, fg.levels_, fg.flags_)
    beta = fg.coef_
    e = np.exp(D.X @ beta)
    S0, lam, A, H = baseline_terms(D, beta, e)
    kappa = np.searchsorted(D.uft, t, side="right")  # failure times <= t
    zc = Z - D.xmean[None, : Z.shape[1]]
    lp = zc @ beta
    with np.errstate(over="ignore"):
        r = np.exp(lp)  # (m,)
    far = np.flatnonzero(~(np.isfinite(r) & (r > 0)))  # exp(z'beta) over/underflows
    pad = np.concatenate
    lam_t = pad(([0.0], lam))[kappa]  # (T,)
    A_t = pad(([0.0], A))[kappa]
    H_t = np.vstack((np.zeros((1, beta.size)), H))[kappa]  # (T, p)
    h = lam_t[:, None, None] * zc[None, :, :] - H_t[:, None, :]  # (T, m, p)
    notes = _fit_notes(fg, t, lp, far)
    if method == "survfit":
        V = fg.vcov_ if fg.variance == "sandwich" else fg.vcov_model_
        if V is None:
            V = np.full((beta.size,) * 2, np.nan)
        var0 = A_t[:, None] + np.einsum("tmp,pq,tmq->tm", h, V, h)
        notes.append("variance as R survival::survfit.coxph on survival::finegray data "
                     f"(baseline term with known weights; {fg.variance} variance of beta)")
        if fg.variance == "sandwich" and fg._psi:
            notes.append("the variance of beta is crr's sandwich, which includes the "
                         "censoring-weight term: R's coxph(..., cluster = id) has none, so "
                         "this is close to but not R's number (R's: fit with entry = 0)")
    else:
        if fg.vcov_model_ is None:
            var0 = np.full((t.size, Z.shape[0]), np.nan)
        else:
            aa, C, V = influence_cross(D, beta, S0, fg.vcov_model_, kappa, fg._psi,
                                       R=fg._resid, e=e)
            var0 = (aa[:, None] + 2 * np.einsum("tmp,pt->tm", h, C)
                    + np.einsum("tmp,pq,tmq->tm", h, V, h))
        notes.append(
            "variance from the influence functions of the baseline and of beta"
            + (" including the estimated censoring weights (Fine and Gray 1999)" if fg._psi
               else " with the delayed-entry weights treated as known"))
    zq = NormalDist().inv_cdf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cumhaz = lam_t[:, None] * r[None, :]
        se_h = np.sqrt(np.clip(var0, 0, None)) * r[None, :]
        f = np.where(cumhaz > 0, np.exp(zq * se_h / cumhaz), 1.0)
        lower = np.where(cumhaz > 0, -np.expm1(-cumhaz / f), 0.0)
        upper = np.where(cumhaz > 0, -np.expm1(-cumhaz * f), 0.0)
        est = -np.expm1(-cumhaz)
        se = np.exp(-cumhaz) * se_h
    if far.size:  # no SE/CI where exp(z'beta) is 0 or inf (see the note)
        na = np.where(lam_t[:, None] > 0, np.nan, 0.0)
        for arr in (se_h, se, lower, upper):
            arr[:, far] = na
    return CIFPrediction(
        cause=int(fg.cause), times=t, values=values, estimate=est,
        se=se, ci_lower=lower, ci_upper=upper, cumhaz=cumhaz,
        se_cumhaz=se_h, level=level, method=method, notes=notes,
    )
