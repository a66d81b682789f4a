"""Time-dependent AUC with competing risks, IPCW, and its influence-function SE.

Reference: ``riskRegression::Score(list(marker), formula = Hist(time, status) ~ 1, data,
times, cause = 1, metrics = "auc", cens.model = "km", se.fit = TRUE)`` (riskRegression
2022.11.28: ``AUC.competing.risks``, ``getInfluenceCurve.AUC``; C++ ``getIC0AUC`` and
``getInfluenceFunctionAUCKMCensoringTerm``). Blanche P, Dartigues JF, Jacqmin-Gadda H.
Estimating and comparing time-dependent areas under receiver operating characteristic curves
for censored event times with competing risks. Stat Med 2013;32:5381-5397.

Definition ("definition 2" of Blanche et al.) at horizon :math:`\\tau`, cause of interest 1:

- cases: :math:`T_i \\le \\tau,\\ \\delta_i = 1`;
- controls: :math:`T_j > \\tau` (event-free) or :math:`T_j \\le \\tau,\\ \\delta_j \\notin
  \\{0, 1\\}` (a competing event first); censored before :math:`\\tau` count in neither.

IPCW weights with the reverse Kaplan-Meier estimate :math:`\\hat G` of the censoring
distribution: :math:`w_i = 1/\\hat G(T_i-)` for cases and competing-event controls,
:math:`w_j = 1/\\hat G(\\tau)` for event-free controls, and

.. math:: \\widehat{AUC}(\\tau) = \\frac{\\sum_{i \\in \\text{cases}} \\sum_{j \\in
          \\text{controls}} w_i w_j \\{I(M_i > M_j) + \\tfrac12 I(M_i = M_j)\\}}
          {\\sum_{i \\in \\text{cases}} w_i \\sum_{j \\in \\text{controls}} w_j}

(ties in the marker count 1/2, as the trapezoidal area of riskRegression's ROC curve).

Standard error: :math:`\\sqrt{\\widehat{\\mathrm{var}}(IF_k)/n}` (``sd(IF)/sqrt(n)``, sample
variance with ``n - 1``), with :math:`IF_k` the influence function of the ratio
:math:`\\hat\\nu/\\hat\\mu` (:math:`\\hat\\mu = \\sum w_i \\sum w_j / n^2`,
:math:`\\hat\\nu = \\widehat{AUC}\\,\\hat\\mu`): the part with the weights held fixed
plus the part from the Kaplan-Meier censoring weights, where the influence of
:math:`1/\\hat G(s)` at observation k is :math:`f_k(s)/\\hat G(s)`,

.. math:: f_k(s) = \\frac{n\\,I(T_k \\le s, \\delta_k = 0)}{Y(T_k)} - \\sum_{u \\le
          \\min(T_k, s)} \\frac{n\\, dN^C(u)}{Y(u)^2}

(the Nelson-Aalen influence function of the censoring hazard; :math:`Y(u)` the number at
risk, :math:`dN^C(u)` the censorings at u; for :math:`s = T_j-` the sums stop before
:math:`T_j`). The interval is riskRegression's plain Wald interval clipped to [0, 1]:
``max(0, AUC - z SE)``, ``min(1, AUC + z SE)``. The difference of two AUCs on the same
rows (``Score(list(a, b))``'s ``contrasts``) has SE ``sd(IF_b - IF_a)/sqrt(n)``, Wald
interval (not clipped) and two-sided normal p-value.

Complexity: O(n log n) (one sort by marker with per-value weight sums for the concordance;
one sort by time with cumulative sums for the censoring term); no n x n work.

Known difference from riskRegression 2022.11.28: its influence function reads the status
codes literally (1 = case, 2 = competing event), so ``Score(..., cause = 2)`` and data
with a third cause get the right AUC but a wrong SE there. Here the cause of interest and
"every other positive code" are used throughout; the tests check that the result equals
``Score`` on the same data recoded to cause 1 vs 2 (and record the direct calls' SEs,
which differ).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from drivervte.survival.kaplan_meier import z_value

__all__ = ["AUCEstimate", "CensoringKM", "auc_competing", "auc_difference"]


@dataclass
class CensoringKM:
    """Reverse Kaplan-Meier estimate of the censoring distribution, and its IF pieces.

    ``utimes`` distinct observed times; ``at_risk`` Y(u) = #{T >= u}; ``cens`` censorings at
    u; ``G`` the estimate at u (right-continuous) as ``prodlim(..., reverse = TRUE)``:
    the product of 1 - dN^C(u) / (Y(u) - dN(u)) with dN(u) the events at u (events at a
    tied time leave the risk set before the censorings); ``mc`` cumulative sum of
    n dN^C / Y^2 (riskRegression's influence function uses Y(u), events included).
    """

    utimes: np.ndarray
    at_risk: np.ndarray
    cens: np.ndarray
    G: np.ndarray
    mc: np.ndarray
    n: int

    @classmethod
    def fit(cls, time: np.ndarray, status: np.ndarray) -> CensoringKM:
        n = time.size
        u, inv, counts = np.unique(time, return_inverse=True, return_counts=True)
        cens = np.bincount(inv, weights=(status == 0).astype(float), minlength=u.size)
        at_risk = (n - np.concatenate(([0], np.cumsum(counts)[:-1]))).astype(float)
        events = counts - cens
        # prodlim's reverse Kaplan-Meier: censorings at u come after the events at u
        with np.errstate(divide="ignore", invalid="ignore"):
            G = np.cumprod(np.where(cens > 0, 1.0 - cens / (at_risk - events), 1.0))
        mc = np.cumsum(n * cens / (at_risk * at_risk))
        return cls(u, at_risk, cens, G, mc, n)

    def _step(self, values: np.ndarray, t: np.ndarray, before: float, left: bool) -> np.ndarray:
        idx = np.searchsorted(self.utimes, t, side="left" if left else "right") - 1
        return np.where(idx >= 0, values[np.maximum(idx, 0)], before)

    def surv(self, t: np.ndarray, *, left: bool = False) -> np.ndarray:
        """G(t), or G(t-) with ``left=True``."""
        return self._step(self.G, np.asarray(t, float), 1.0, left)

    def cum_mc(self, t: np.ndarray, *, left: bool = False) -> np.ndarray:
        """sum over u <= t (u < t with ``left``) of n dN^C(u) / Y(u)^2."""
        return self._step(self.mc, np.asarray(t, float), 0.0, left)

    def full_if(self, time: np.ndarray, status: np.ndarray) -> np.ndarray:
        """f_k(s) for s >= T_k: n I(delta_k = 0) / Y(T_k) - sum_{u <= T_k} n dN^C / Y^2."""
        idx = np.searchsorted(self.utimes, time, side="left")
        return self.n * (status == 0) / self.at_risk[idx] - self.mc[idx]


@dataclass
class AUCEstimate:
    """AUC at one horizon: estimate, SE, Wald CI, counts, influence function (per row)."""

    time: float
    estimate: float
    se: float
    lower: float
    upper: float
    n_cases: int
    n_controls: int
    reason: str | None = None
    influence: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    def as_dict(self) -> dict:
        return {"time": self.time, "estimate": self.estimate, "se": self.se,
                "lower": self.lower, "upper": self.upper, "n_cases": self.n_cases,
                "n_controls": self.n_controls, "reason": self.reason}


def _nan_estimate(t: float, n_cases: int, n_controls: int, reason: str) -> AUCEstimate:
    nan = float("nan")
    return AUCEstimate(t, nan, nan, nan, nan, n_cases, n_controls, reason)


def auc_competing(time: np.ndarray, status: np.ndarray, marker: np.ndarray, t: float,
                  cause: int = 1, level: float = 0.95,
                  km: CensoringKM | None = None, se: bool = True) -> AUCEstimate:
    """IPCW time-dependent AUC at ``t`` with competing risks; see the module docstring.

    Parameters
    ----------
    time, status, marker: arrays (n,); status 0 censored, ``cause`` the event of interest,
        any other code a competing event. Higher marker = higher predicted risk.
    t: the horizon.
    km: a :class:`CensoringKM` already fitted on (time, status), to share between horizons.
    se: compute the influence function and the SE (``False``: the estimate only, SE and CI
        NaN, no influence; what a bootstrap replicate needs).

    Returns
    -------
    AUCEstimate
        NaN (with ``reason``) when there is no case or no control at ``t``.
    """
    time = np.asarray(time, float)
    status = np.asarray(status)
    marker = np.asarray(marker, float)
    n = time.size
    km = km if km is not None else CensoringKM.fit(time, status)
    early = time <= t
    case = early & (status == cause)
    comp = early & (status != 0) & (status != cause)
    late = ~early
    ctrl = comp | late
    n_cases, n_controls = int(case.sum()), int(ctrl.sum())
    if n_cases == 0:
        return _nan_estimate(t, n_cases, n_controls,
                             f"no event of cause {cause} by time {t:g}: AUC undefined")
    if n_controls == 0:
        return _nan_estimate(t, n_cases, n_controls,
                             f"no control (event-free or competing event) at time {t:g}: "
                             "AUC undefined")
    g_t = float(km.surv(np.array([t]))[0])
    w = np.zeros(n)
    ev = case | comp
    w[ev] = 1.0 / km.surv(time[ev], left=True)
    if late.any():  # G(t) > 0 whenever someone is still followed after t
        w[late] = 1.0 / g_t
    # weighted concordance by marker value (ties 1/2)
    uniq, inv = np.unique(marker, return_inverse=True)
    w_case_v = np.bincount(inv, weights=w * case, minlength=uniq.size)
    w_ctrl_v = np.bincount(inv, weights=w * ctrl, minlength=uniq.size)
    ctrl_below = np.cumsum(w_ctrl_v) - w_ctrl_v
    case_above = w_case_v.sum() - np.cumsum(w_case_v)
    a = (ctrl_below + 0.5 * w_ctrl_v)[inv]   # cases: control weight below, half of ties
    b = (case_above + 0.5 * w_case_v)[inv]   # controls: case weight above, half of ties
    mu_case = float(np.sum(w[case]))
    mu_ctrl = float(np.sum(w[ctrl]))
    auc = float(np.sum(w[case] * a[case]) / (mu_case * mu_ctrl))
    if not se:
        nan = float("nan")
        return AUCEstimate(float(t), auc, nan, nan, nan, n_cases, n_controls, None)
    mu = mu_case * mu_ctrl / n**2
    nu = auc * mu
    # part with fixed weights
    num0 = np.where(case, w * a, np.where(ctrl, w * b, 0.0)) / n
    den0 = np.where(case, w * mu_ctrl, np.where(ctrl, w * mu_case, 0.0)) / n
    ic = (num0 * mu - den0 * nu) / mu**2
    # part from the Kaplan-Meier censoring weights
    c = np.where(case, w * a, np.where(comp, w * b, 0.0))
    d = np.where(case, w * mu_ctrl, np.where(comp, w * mu_case, 0.0))
    ej = np.flatnonzero(ev)
    order = ej[np.argsort(time[ej], kind="stable")]
    te = time[order]
    mc_before = km.cum_mc(te, left=True)
    c_e, d_e = c[order], d[order]
    cum_c_mc = np.concatenate(([0.0], np.cumsum(c_e * mc_before)))
    cum_d_mc = np.concatenate(([0.0], np.cumsum(d_e * mc_before)))
    tot_c = np.concatenate(([0.0], np.cumsum(c_e)))
    tot_d = np.concatenate(([0.0], np.cumsum(d_e)))
    pos = np.searchsorted(te, time, side="right")  # events with T_j <= T_k
    f_full = km.full_if(time, status)
    num = f_full * (tot_c[-1] - tot_c[pos]) - cum_c_mc[pos]
    den = f_full * (tot_d[-1] - tot_d[pos]) - cum_d_mc[pos]
    if late.any():
        f_tau = np.where(early, f_full, -float(km.cum_mc(np.array([t]))[0]))
        num = num + f_tau * float(np.sum(w[late] * b[late]))
        den = den + f_tau * mu_case * float(np.sum(w[late]))
    ic = ic + (num / n**2 * mu - den / n**2 * nu) / mu**2
    sd = float(np.std(ic, ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    z = z_value(level)
    return AUCEstimate(float(t), auc, sd, max(0.0, auc - z * sd), min(1.0, auc + z * sd),
                       n_cases, n_controls, None, ic)


@dataclass
class AUCDifference:
    """AUC(new) - AUC(reference) at one horizon, paired influence-function SE."""

    time: float
    estimate: float
    se: float
    lower: float
    upper: float
    p: float
    reason: str | None = None

    def as_dict(self) -> dict:
        return {"time": self.time, "estimate": self.estimate, "se": self.se,
                "lower": self.lower, "upper": self.upper, "p": self.p, "reason": self.reason}


def auc_difference(new: AUCEstimate, reference: AUCEstimate,
                   level: float = 0.95) -> AUCDifference:
    """``Score(list(reference, new))`` contrast: delta, sd(IF_ref - IF_new)/sqrt(n), Wald."""
    from scipy.stats import norm

    nan = float("nan")
    if new.reason or reference.reason:
        return AUCDifference(new.time, nan, nan, nan, nan, nan,
                             new.reason or reference.reason)
    n = new.influence.size
    delta = new.estimate - reference.estimate
    se = float(np.std(reference.influence - new.influence, ddof=1) / np.sqrt(n))
    z = z_value(level)
    p = float(2 * norm.sf(abs(delta) / se)) if se > 0 else nan
    return AUCDifference(new.time, delta, se, delta - z * se, delta + z * se, p, None)
