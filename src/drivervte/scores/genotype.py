r"""Genotype-aware absolute VTE risk: a baseline risk combined with a gene's pooled effect.

The baseline is an absolute risk :math:`p_0` at a horizon (a score group's published risk,
or one the user supplies) with an effective sample size :math:`n_0`. The relative effect is
the driver gene's pooled ratio versus gene-negative patients from the evidence base
(:mod:`drivervte.evidence.synthesis`, the same numbers ``drivervte review`` reports).

Point estimate, on the scale of the pooled measure:

- hazard ratio (HR/SHR, proportional (sub)hazards): :math:`p = 1 - (1 - p_0)^{HR}`;
- odds ratio: :math:`\mathrm{odds} = \mathrm{OR}\,p_0/(1-p_0)`, :math:`p = \mathrm{odds}/(1+\mathrm{odds})`.

Interval: Monte Carlo with a fixed seed (deterministic). The log ratio is drawn from the
*predictive* distribution of the pooled model, :math:`\hat\mu + \sqrt{\mathrm{SE}^2 +
\tau^2}\,T`, with :math:`T` standard normal (z-test models) or :math:`t_{k-1}`
(Knapp-Hartung models), so its quantiles reproduce the prediction interval: between-study
heterogeneity is carried into the patient's interval. The baseline is drawn as
:math:`\mathrm{logit}\,p_0 \sim N(\mathrm{logit}\,\hat p_0, 1/(n_0 \hat p_0 (1-\hat p_0)))`
(delta method for a binomial proportion; a cumulative incidence with censoring has a larger
variance, so this understates the baseline's uncertainty). The interval is the
equal-tailed quantiles of the combined draws. A second interval, from the confidence
interval of the pooled effect (no heterogeneity), is reported beside it.

Assumptions (stated in every output): the relative effect is transportable to the score's
population and horizon; the baseline group risk already reflects the average gene mix of the
score's cohort, so applying the gene effect to it slightly double-counts when gene-positive
patients were common there; and a HR applied over a horizon assumes proportional hazards.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from drivervte.errors import InputError

GENES = ("EGFR", "ALK", "ROS1", "KRAS")
SEED = 20261126
DRAWS = 200_000

ASSUMPTIONS = (
    "the gene's pooled relative effect (vs gene-negative NSCLC) is transportable to the "
    "score's population and horizon",
    "the baseline risk already reflects the average gene mix of the score's cohort",
    "a hazard ratio is applied as 1 - (1 - p0)^HR (proportional hazards); an odds ratio on "
    "the odds of the baseline risk",
    "the interval carries the pooled effect's prediction interval (heterogeneity between "
    "studies) and the baseline risk's binomial uncertainty",
)


@dataclass(frozen=True)
class RelativeEffect:
    """A gene's pooled ratio vs gene-negative patients (log scale), with its model."""

    gene: str
    measure: str
    log_estimate: float
    se: float
    tau2: float
    df: float | None
    k: int
    pool_key: str
    record_ids: tuple[str, ...]
    #: The gene's other pooled VTE estimates vs gene-negative patients, as
    #: (pool key, measure, k, estimate, ci_lower, ci_upper) on the ratio scale.
    other_pools: tuple[tuple[str, str, int, float, float, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        crit = _crit(self.df)
        half_pi = crit * float(np.sqrt(self.se**2 + self.tau2))
        half_ci = crit * self.se
        return {
            "gene": self.gene, "measure": self.measure, "estimate": float(np.exp(self.log_estimate)),
            "ci_lower": float(np.exp(self.log_estimate - half_ci)),
            "ci_upper": float(np.exp(self.log_estimate + half_ci)),
            "pi_lower": float(np.exp(self.log_estimate - half_pi)),
            "pi_upper": float(np.exp(self.log_estimate + half_pi)),
            "k": self.k, "pool": self.pool_key, "record_ids": list(self.record_ids),
            "source": "drivervte evidence base: the gene's headline pool in drivervte review",
            "other_pools": [{"pool": key, "measure": m, "k": k, "estimate": e, "ci_lower": lo,
                             "ci_upper": hi} for key, m, k, e, lo, hi in self.other_pools],
        }


def _crit(df: float | None, level: float = 95.0) -> float:
    q = 1 - (1 - level / 100) / 2
    return float(stats.norm.ppf(q) if df is None else stats.t.ppf(q, df))


def effect_from_pool(pool: Any, others: tuple = ()) -> RelativeEffect:
    """The :class:`RelativeEffect` of a pooled ``PoolResult`` (k >= 2)."""
    m = pool.main
    return RelativeEffect(gene=pool.gene, measure=pool.measure, log_estimate=float(m.estimate),
                          se=float(m.se), tau2=float(m.tau2),
                          df=None if m.df is None else float(m.df), k=int(m.k),
                          pool_key=pool.key, record_ids=tuple(s.id for s in pool.studies),
                          other_pools=others)


def _summary(pool: Any) -> tuple[str, str, int, float, float, float]:
    tr = pool.main.transformed
    return (pool.key, pool.measure, pool.k, float(tr["estimate"]), float(tr["ci_lower"]),
            float(tr["ci_upper"]))


def pooled_relative_effect(gene: str, db: Any = None) -> tuple[RelativeEffect | None, str]:
    """The gene's pooled VTE effect vs gene-negative patients, or None with the reason.

    The pool is the one ``drivervte review`` reports as the gene's headline
    (:func:`drivervte.evidence.synthesis.headline_pool`: most studies, then hazard ratios),
    so the risk and the review never rest on different evidence; the gene's other VTE pools
    vs gene-negative patients are listed beside it (``other_pools``). Single-study "pools"
    are not used.
    """
    key = str(gene).strip().upper()
    if key not in GENES:
        raise InputError(f"unknown gene '{gene}'; accepted: {', '.join(GENES)}", column="gene")
    from drivervte.evidence.store import EvidenceStore
    from drivervte.evidence.synthesis import SynthesisOptions, comparative_pools, headline_pool

    store = EvidenceStore(db)
    pools = [p for p in comparative_pools(store.records(), SynthesisOptions())
             if p.gene == key and p.comparator_family == "negative" and p.outcome == "VTE"
             and p.main is not None and p.k >= 2]
    if not pools:
        return None, (f"the evidence base has no pooled VTE estimate (k >= 2) for {key}+ vs "
                      f"{key}-negative patients; the risk is not adjusted for {key}")
    chosen = headline_pool(pools, key)
    others = tuple(_summary(p) for p in sorted(pools, key=lambda p: p.key) if p is not chosen)
    return effect_from_pool(chosen, others), ""


def _apply(p0: np.ndarray, log_ratio: np.ndarray, measure: str) -> np.ndarray:
    if measure in ("HR", "SHR", "IRR", "RR"):
        # exp() of a heavy-tailed t draw can overflow; beyond e^700 the risk is 1 anyway.
        return -np.expm1(np.exp(np.clip(log_ratio, -700.0, 700.0)) * np.log1p(-p0))
    if measure == "OR":
        return special.expit(special.logit(p0) + log_ratio)
    raise InputError(f"cannot apply a {measure} to an absolute risk", column="measure")


def gene_adjusted_risk(p0: float, n0: int | None, effect: RelativeEffect, *,
                       level: float = 95.0, draws: int = DRAWS,
                       seed: int = SEED) -> dict[str, Any]:
    """Absolute risk for a gene-positive patient, with prediction and confidence intervals.

    Results are memoised on all arguments (a table of patients shares a few baseline risks),
    and a fresh copy is returned each time.
    """
    return copy.deepcopy(_gene_adjusted_risk(float(p0), n0, effect, float(level), int(draws),
                                             int(seed)))


@functools.lru_cache(maxsize=1024)
def _gene_adjusted_risk(p0: float, n0: int | None, effect: RelativeEffect, level: float,
                        draws: int, seed: int) -> dict[str, Any]:
    if not (0.0 < p0 < 1.0):
        raise InputError(f"baseline risk must be strictly between 0 and 1, got {p0}",
                         column="baseline_risk")
    rng = np.random.default_rng(seed)
    t = rng.standard_normal(draws) if effect.df is None else rng.standard_t(effect.df, draws)
    pred = effect.log_estimate + np.sqrt(effect.se**2 + effect.tau2) * t
    conf = effect.log_estimate + effect.se * t
    if n0 is not None and n0 > 0:
        sd = 1.0 / np.sqrt(n0 * p0 * (1 - p0))
        base = special.expit(special.logit(p0) + sd * rng.standard_normal(draws))
    else:
        base = np.full(draws, p0)
    a = (1 - level / 100) / 2
    est = float(_apply(np.array([p0]), np.array([effect.log_estimate]), effect.measure)[0])
    lo, hi = np.quantile(_apply(base, pred, effect.measure), [a, 1 - a])
    clo, chi = np.quantile(_apply(base, conf, effect.measure), [a, 1 - a])
    return {
        "gene": effect.gene, "relative_effect": effect.to_dict(), "estimate": est,
        "lower": float(lo), "upper": float(hi),
        "lower_without_heterogeneity": float(clo), "upper_without_heterogeneity": float(chi),
        "level": level, "method": f"Monte Carlo ({draws} draws, seed {seed})",
        "assumptions": list(ASSUMPTIONS),
    }
