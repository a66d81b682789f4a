r"""Q-profile confidence intervals for tau², I² and H² (metafor ``confint.rma.uni``).

The generalised Q statistic :math:`Q(\tau^2) = y' P(\tau^2) y` with weights
:math:`1/(v_i + \tau^2)` follows a :math:`\chi^2_{k-p}` distribution at the true tau² and
decreases monotonically in tau². The Q-profile interval (Viechtbauer 2007) collects the
tau² values not rejected:

.. math:: Q(\tau^2_{lb}) = \chi^2_{k-p;\,1-\alpha/2}, \qquad
          Q(\tau^2_{ub}) = \chi^2_{k-p;\,\alpha/2}.

Search interval ``[0, tau2_max]`` with ``tau2_max = max(100, 10 tau2)`` (metafor). Boundary
rules, as metafor:

- ``Q(0) < chi2_{alpha/2}``: both bounds are 0, the interval is the null/empty set
  (``ci_null = True``);
- ``Q(0) < chi2_{1-alpha/2}``: the lower bound is truncated at 0;
- ``Q(tau2_max) > chi2_{alpha/2}``: the upper bound is beyond ``tau2_max`` and reported as
  ``tau2_max`` with sign ``">"`` (both bounds when even the lower one lies beyond).

I² and H² bounds follow from the tau² bounds with metafor's "typical" within-study
variance :math:`\tilde v = (k-p)/\operatorname{tr} P` (``W = V^{-1}``):
``I2 = 100 tau2 / (vt + tau2)``, ``H2 = tau2 / vt + 1``. metafor uses the Q-profile method
for every tau² estimator (also ML/REML).

References
----------
Viechtbauer W (2007). Confidence intervals for the amount of heterogeneity in
meta-analysis. Stat Med 26:37-52.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special

from drivervte.meta.regression import Proj, qe_at
from drivervte.results import Result, fmt_num, format_table

__all__ = ["Tau2CI", "qprofile_ci", "typical_variance"]


def typical_variance(vi: np.ndarray, X: np.ndarray) -> float:
    """metafor's typical within-study variance ``(k - p) / tr(P)`` with ``W = diag(1/vi)``."""
    k, p = X.shape
    return (k - p) / Proj(X, 1.0 / vi).trP()


@dataclass
class Tau2CI(Result):
    """Q-profile CI for tau² and the implied I² (percent) and H² bounds.

    ``to_dict()`` keys: ``level, tau2, tau2_lower, tau2_upper, I2_lower, I2_upper,
    H2_lower, H2_upper, lower_sign, upper_sign, ci_null, converged, notes``.
    ``lower_sign``/``upper_sign`` are ``""``, ``"<"`` or ``">"`` as in metafor (a bound
    that lies beyond the search interval is reported at its edge with the sign).
    """

    level: float
    tau2: float
    tau2_lower: float
    tau2_upper: float
    I2_lower: float
    I2_upper: float
    H2_lower: float
    H2_upper: float
    lower_sign: str = ""
    upper_sign: str = ""
    ci_null: bool = False
    converged: bool = True
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lvl = f"{self.level:g}%"
        rows = [
            ["tau^2", self.tau2, self.lower_sign + fmt_num(self.tau2_lower),
             self.upper_sign + fmt_num(self.tau2_upper)],
            ["I^2(%)", "", self.lower_sign + fmt_num(self.I2_lower),
             self.upper_sign + fmt_num(self.I2_upper)],
            ["H^2", "", self.lower_sign + fmt_num(self.H2_lower),
             self.upper_sign + fmt_num(self.H2_upper)],
        ]
        out = format_table(["", "estimate", "ci.lb", "ci.ub"], rows,
                           title=f"Q-profile {lvl} confidence interval")
        return "\n".join([out, *self.notes])


def qprofile_ci(yi, vi, X=None, *, tau2: float, level: float = 95.0,
                tau2_max: float | None = None) -> Tau2CI:
    """Q-profile confidence interval for tau² (metafor ``confint(res)`` for ``rma.uni``).

    Parameters
    ----------
    yi, vi : array_like
        Effect sizes and sampling variances (validated: ``vi > 0``).
    X : ndarray, optional
        Design matrix (``None``: intercept only).
    tau2 : float
        The model's tau² estimate (sets the default search interval and is reported).
    level : float
        Confidence level in percent.
    tau2_max : float, optional
        Upper end of the search interval; default ``max(100, 10 tau2)`` as metafor.

    Roots are found with Brent's method to machine precision (metafor: ``uniroot`` with
    ``tol = eps^0.25`` unless ``control=list(tol=...)``).
    """
    yi = np.asarray(yi, float)
    vi = np.asarray(vi, float)
    k = len(yi)
    X = np.ones((k, 1)) if X is None else np.asarray(X, float)
    p = X.shape[1]
    if k - p < 1:
        raise ValueError("Q-profile CI needs k > p")
    alpha = _alpha(level)
    hi = max(100.0, 10.0 * tau2) if tau2_max is None else float(tau2_max)
    lo = 0.0
    crit_u = special.chdtri(k - p, alpha / 2)
    crit_l = 2 * special.gammaincinv((k - p) / 2, alpha / 2)

    def q(t):
        return qe_at(t, yi, vi, X)

    q_lo, q_hi = q(lo), q(hi)
    notes: list[str] = []
    lb = ub = math.nan
    lb_sign = ub_sign = ""
    ci_null = False
    converged = True

    def root(target):
        nonlocal converged
        r, info = optimize.brentq(lambda t: q(t) - target, lo, hi, xtol=1e-300,
                                  rtol=4 * np.finfo(float).eps, maxiter=1000,
                                  full_output=True, disp=False)
        converged = converged and info.converged
        return float(r)

    if q_lo < crit_l:
        lb = ub = lo
        lb_sign = ub_sign = "<"
        ci_null = True
    elif q_hi > crit_l:
        ub, ub_sign = hi, ">"
    else:
        ub = root(crit_l)
    if q_hi > crit_u:
        lb = ub = hi
        lb_sign = ub_sign = ">"
    elif q_lo < crit_u:
        lb = lo
    else:
        lb = root(crit_u)
    if ci_null:
        notes.append("the upper and lower Q-profile bounds for tau^2 both fall below 0: "
                     "the confidence interval is the null/empty set (reported as 0 to 0)")
    elif lb == lo and lb_sign == "":
        notes.append("the lower Q-profile bound for tau^2 is truncated at 0")
    if ub_sign == ">":
        notes.append(f"the upper bound for tau^2 lies above the search limit {hi:g}; "
                     "pass a larger tau2_max")
    if not converged:
        notes.append("root search for a Q-profile bound did not converge")
    vt = typical_variance(vi, X)
    return Tau2CI(
        level=float(level), tau2=float(tau2), tau2_lower=lb, tau2_upper=ub,
        I2_lower=100 * lb / (vt + lb), I2_upper=100 * ub / (vt + ub),
        H2_lower=lb / vt + 1, H2_upper=ub / vt + 1, lower_sign=lb_sign, upper_sign=ub_sign,
        ci_null=ci_null, converged=converged, notes=notes,
    )


def _alpha(level: float) -> float:
    """metafor's ``.level``: 95 -> 0.05; 0.95 -> 0.05; 0.05 -> 0.05."""
    level = float(level)
    if level == 0:
        return 1.0
    if level >= 1:
        return (100 - level) / 100
    return 1 - level if level > 0.5 else level
