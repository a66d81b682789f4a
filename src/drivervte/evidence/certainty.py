r"""A GRADE-spirited certainty statement per gene, computed from the numbers.

This is not a GRADE assessment by a panel: it applies fixed, written-down rules to the
headline pool of a gene (:func:`drivervte.evidence.synthesis.headline_pool`), so the same
data always give the same statement.

Rules
-----
- **Start**: ``high`` if every study is a randomised or single-arm *trial*, else ``low``
  (observational evidence, GRADE's starting point).
- **Risk of bias** (serious, -1): at least half of the model weight comes from estimates
  not reported as adjusted (crude counts, unadjusted or unstated adjustment) or from
  case-control designs.
- **Inconsistency** (serious, -1): I² >= 50 %, or (k >= 3) the prediction interval crosses
  1 while the CI does not.
- **Imprecision** (serious, -1; very serious, -2 when both hold): the CI crosses 1; the
  patients in the pool fall short of the optimal information size (OIS).
- **Large effect** (+1): pooled ratio >= 2 or <= 0.5, CI excluding 1, and neither
  inconsistency nor imprecision serious.
- **More data could change the conclusion** when the CI crosses 1, the OIS is not met, or
  the prediction interval crosses 1.

Optimal information size (the required information size of a single adequately powered
trial; Guyatt et al. 2011, GRADE guidelines 6): for a control-group risk :math:`p_0` and
the pooled odds ratio :math:`\mathrm{OR}` (a hazard ratio is used as an approximate odds
ratio), the gene-positive risk is

.. math::  p_1 = \frac{\mathrm{OR}\,p_0}{1 - p_0 + \mathrm{OR}\,p_0}

and, for a two-sided test at :math:`\alpha = 0.05` with power :math:`1-\beta = 0.8` and
equal groups,

.. math::  n_{\text{group}} = \frac{(z_{1-\alpha/2} + z_{1-\beta})^2\,[p_0(1-p_0) +
           p_1(1-p_1)]}{(p_1 - p_0)^2}, \qquad \mathrm{OIS} = 2\,n_{\text{group}}.

:math:`p_0` is the pooled crude risk of the comparator arms with counts for the same gene,
comparator family and outcome (events / patients summed); without such arms it is 10 %
(VTE in NSCLC: 3-12 % at 6-12 months), flagged ``assumed``. The information in the pool
is the sum of the patients in its comparisons (both arms, else the study's N).

References
----------
Guyatt GH, Oxman AD, Kunz R, et al. (2011). GRADE guidelines 6. Rating the quality of
evidence: imprecision. J Clin Epidemiol 64:1283-1293.
Guyatt GH, Oxman AD, Sultan S, et al. (2011). GRADE guidelines 9. Rating up the quality
of evidence. J Clin Epidemiol 64:1311-1316.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from drivervte.errors import InputError
from drivervte.evidence.store import StoredRecord
from drivervte.evidence.synthesis import PoolResult
from drivervte.results import Result

LEVELS = ("very low", "low", "moderate", "high")
ASSUMED_CONTROL_RISK = 0.10


def required_information_size(ratio: float, p0: float, *, alpha: float = 0.05,
                              power: float = 0.8) -> float:
    """Total patients (both groups) to detect odds ratio ``ratio`` at control risk ``p0``.

    See the module docstring for the formula. ``inf`` when ``ratio == 1``.

    Examples
    --------
    >>> round(required_information_size(2.0, 0.10))
    560
    """
    if not (0 < p0 < 1):
        raise InputError(f"control-group risk must lie in (0, 1), got {p0}", column="p0")
    if not ratio > 0:
        raise InputError(f"ratio must be > 0, got {ratio}", column="ratio")
    if not (0 < alpha < 1 and 0 < power < 1):
        raise InputError("alpha and power must lie in (0, 1)", column="alpha")
    p1 = ratio * p0 / (1 - p0 + ratio * p0)
    if p1 == p0:
        return math.inf
    z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)
    n = z**2 * (p0 * (1 - p0) + p1 * (1 - p1)) / (p1 - p0) ** 2
    return 2 * n


@dataclass
class Certainty(Result):
    """The certainty statement for one gene.

    ``to_dict()`` keys: ``gene, pool_key, level, direction, estimate, ci_lower, ci_upper,
    pi_lower, pi_upper, I2, k, total_n, control_risk, control_risk_source, ois, ois_met,
    domains {risk_of_bias, inconsistency, imprecision, large_effect: {rating, reason}},
    more_data_could_change, reasons_more_data, statement``.
    """

    gene: str
    pool_key: str | None
    level: str
    direction: str
    estimate: float | None
    ci_lower: float | None
    ci_upper: float | None
    pi_lower: float | None
    pi_upper: float | None
    I2: float | None
    k: int
    total_n: int
    control_risk: float | None
    control_risk_source: str
    ois: float | None
    ois_met: bool | None
    domains: dict[str, dict[str, Any]] = field(default_factory=dict)
    more_data_could_change: bool = True
    reasons_more_data: list[str] = field(default_factory=list)
    statement: str = ""

    def summary(self) -> str:
        return self.statement


def control_risk(stored: list[StoredRecord], pool: PoolResult) -> tuple[float, str]:
    """Pooled crude comparator risk for the pool's gene, comparator family and outcome."""
    ev = n = 0
    for s in stored:
        r = s.record
        if (r.include and r.gene.value == pool.gene and r.comparator_family ==
                pool.comparator_family and r.outcome.value == pool.outcome
                and r.events_comparator is not None):
            ev += r.events_comparator
            n += r.n_comparator
    if n > 0 and 0 < ev < n:
        return ev / n, f"comparator arms with counts: {ev}/{n}"
    return ASSUMED_CONTROL_RISK, "assumed (no comparator counts)"


def _crosses(lo: float | None, hi: float | None) -> bool:
    return lo is None or hi is None or (lo < 1 < hi)


def _ratio(x: float) -> str:
    """A ratio for text: 2 decimals, 2 significant digits below 0.01, none from 100."""
    if x < 0.01:
        return f"{x:.2g}"
    return f"{x:.0f}" if x >= 100 else f"{x:.2f}"


def assess(gene: str, pool: PoolResult | None, stored: list[StoredRecord]) -> Certainty:
    """Apply the rules of the module docstring to the gene's headline pool."""
    if pool is None:
        return Certainty(gene=gene, pool_key=None, level="very low", direction="unknown",
                         estimate=None, ci_lower=None, ci_upper=None, pi_lower=None,
                         pi_upper=None, I2=None, k=0, total_n=0, control_risk=None,
                         control_risk_source="none", ois=None, ois_met=None,
                         reasons_more_data=["no comparative estimate with a CI"],
                         statement=f"{gene}: no comparative estimate can be pooled; the "
                         "question is open.")
    h = pool.headline()
    est, lo, hi = h["estimate"], h["ci_lower"], h["ci_upper"]
    pil, piu, i2 = h.get("pi_lower"), h.get("pi_upper"), h.get("I2")
    designs = [e.design for e in pool.studies]
    start = 3 if designs and all(d == "trial" for d in designs) else 1
    weights = (np.asarray(pool.main.weights, float) if pool.main is not None
               else np.array([100.0]))
    weak = np.array([(e.adjusted is not True) or e.design == "case_control"
                     for e in pool.studies])
    weak_share = float(weights[weak].sum() / weights.sum()) if weights.sum() > 0 else 1.0
    domains: dict[str, dict[str, Any]] = {}
    rob = weak_share >= 0.5
    mix = ", ".join(f"{n} {d.replace('_', '-')}" for d, n in sorted(
        {d or "design not stated": designs.count(d) for d in designs}.items(),
        key=lambda kv: (-kv[1], kv[0])))
    domains["risk_of_bias"] = {
        "rating": "serious" if rob else "not serious",
        "reason": f"design mix: {mix}; {100 * weak_share:.0f}% of the weight from "
                  "unadjusted/unstated-adjustment or case-control estimates"}
    pi_flag = pool.k >= 3 and _crosses(pil, piu) and not _crosses(lo, hi)
    incons = (i2 is not None and i2 >= 50) or pi_flag
    domains["inconsistency"] = {
        "rating": "serious" if incons else "not serious",
        "reason": ("single study: not assessable" if pool.k == 1 else
                   f"I2 = {i2:.1f}%" + ("; prediction interval crosses 1" if pi_flag else ""))}
    p0, p0_src = control_risk(stored, pool)
    total_n = int(sum(e.n or 0 for e in pool.studies))
    ois = required_information_size(est, p0)
    ois_met = bool(total_n >= ois)
    ci_cross = _crosses(lo, hi)
    n_impr = int(ci_cross) + int(not ois_met)
    domains["imprecision"] = {
        "rating": ["not serious", "serious", "very serious"][n_impr],
        "reason": (("CI crosses 1; " if ci_cross else "CI excludes 1; ")
                   + f"N = {total_n} vs OIS = {_fmt_ois(ois)} (control risk {p0:.3f})"
                   + ("; k = 2 under Knapp-Hartung (t with 1 df) gives a very wide CI"
                      if pool.k == 2 and pool.main is not None and pool.main.test == "knha"
                      else ""))}
    large = (est >= 2 or est <= 0.5) and not ci_cross and not incons and n_impr == 0
    domains["large_effect"] = {"rating": "upgrade" if large else "none",
                               "reason": f"pooled {pool.measure} {est:.2f}"}
    score = start - int(rob) - int(incons) - n_impr + int(large)
    level = LEVELS[max(0, min(3, score))]
    direction = ("higher" if lo is not None and lo > 1 else "lower" if hi is not None
                 and hi < 1 else "unclear")
    reasons = []
    if ci_cross:
        reasons.append("the CI includes 1")
    if not ois_met:
        reasons.append(f"N = {total_n} is below the optimal information size {_fmt_ois(ois)}")
    if pil is not None and _crosses(pil, piu):
        reasons.append("the prediction interval includes 1")
    if level in ("low", "very low"):
        reasons.append(f"certainty is {level}")
    comp = pool.comparator_family.removeprefix("vs_")
    comp = f"{gene}-negative" if comp == "negative" else comp
    risk = {"higher": "a higher", "lower": "a lower", "unclear": "no clear difference in"}[direction]
    ci_txt = f"{_ratio(lo)}-{_ratio(hi)}"
    pi_txt = f"; 95% PI {_ratio(pil)}-{_ratio(piu)}" if pil is not None else ""
    statement = (f"{gene}+ vs {comp} ({pool.outcome}): {risk} risk; pooled {pool.measure} "
                 f"{_ratio(est)} (95% CI {ci_txt}{pi_txt}), k = {pool.k}, N = {total_n}. "
                 f"Certainty {level}. " + ("More data could change this conclusion ("
                 + "; ".join(reasons) + ")." if reasons else
                 "More data are unlikely to change its direction."))
    return Certainty(gene=gene, pool_key=pool.key, level=level, direction=direction,
                     estimate=est, ci_lower=lo, ci_upper=hi, pi_lower=pil, pi_upper=piu,
                     I2=i2, k=pool.k, total_n=total_n, control_risk=p0,
                     control_risk_source=p0_src, ois=ois, ois_met=ois_met, domains=domains,
                     more_data_could_change=bool(reasons), reasons_more_data=reasons,
                     statement=statement)


def _fmt_ois(x: float) -> str:
    return "infinite" if not math.isfinite(x) else f"{math.ceil(x)}"
