"""Per-gene synthesis of the evidence base: the analysis plan, run on the meta-analysis engine.

Analysis plan (deterministic; every number comes from :func:`drivervte.meta.rma.fit_rma`
and :func:`drivervte.effects.from_table`, nothing is pooled by hand here):

1. **Comparative pools.** Included records with a usable ratio (2x2 counts, ratio + CI) are
   grouped by gene, comparator family (``negative``: gene-negative or wild-type;
   ``vs_<GENE>+``: another driver), outcome (VTE, TE, ATE, ... never mixed) and measure
   family (``OR``: reported ORs and ORs from counts; ``HR``: HR and SHR). ORs and hazard
   ratios are pooled separately; ``combine_measures=True`` pools them together (one estimate
   per study, the hazard ratio preferred) as an explicitly labelled option.
2. **Model.** Log scale, REML with Knapp-Hartung (t with k-1 df) by default; tau², I² and
   H² with Q-profile CIs, and the prediction interval. Sensitivity: DL and EE (z tests);
   each included estimate swapped for its recorded alternative (``alternative_to``: crude
   vs adjusted, SHR vs HR; an alternative given only as ratio + p-value enters with its
   approximate SE, the p-value sensitivity analysis); possibly overlapping cohorts
   (``overlap_group``) swapped.
3. **Subgroups** (k >= 3 and at least two groups): East Asian vs Western (mixed and unknown
   left out), prospective (incl. trials) vs retrospective (incl. case-control), and VTE vs
   any TE (the VTE and TE pools of the same gene, comparator and measure together), by
   :func:`drivervte.meta.subgroup.subgroup_analysis` (a model per group; Q between groups
   and the common-tau² meta-regression QM).
4. **Leave-one-out** for k >= 3 (:func:`drivervte.meta.influence.leave_one_out`).
5. **Small-study tests** (Egger's regression test, the rank correlation test, trim-and-fill
   from :mod:`drivervte.meta.bias` / :mod:`drivervte.meta.trimfill`) only for k >= 10;
   below that the result says so.
   Included estimates with a ratio and p-value but no CI join their pool only in the
   ``p_value_estimates`` sensitivity analysis (approximate SE); with no pool to join they
   count in the vote count only.
6. **Incidence** in gene-positive cohorts (:mod:`drivervte.evidence.tables`) and a
   **vote count** of every comparative estimate, p-value-only ones included.
7. **Certainty** per gene (:mod:`drivervte.evidence.certainty`) from the headline pool:
   the negative-comparator VTE pool with the most studies (ties: hazard ratios first, then
   more patients); without one, the largest other-driver pool (same tie rules).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from drivervte.evidence.effects import StudyEffect, effect_of
from drivervte.evidence.load import measure_family
from drivervte.evidence.schema import Gene
from drivervte.evidence.store import StoredRecord
from drivervte.meta.result import MetaResult
from drivervte.meta.rma import fit_rma
from drivervte.meta.subgroup import subgroup_analysis
from drivervte.results import Result, fmt_num, jsonable

SMALL_STUDY_MIN_K = 10
LOO_MIN_K = 3
SUBGROUP_MIN_K = 3


@dataclass(frozen=True)
class SynthesisOptions:
    """Settings of the analysis plan (recorded in the output)."""

    method: str = "REML"
    test: str = "knha"
    level: float = 95.0
    sensitivity_methods: tuple[str, ...] = ("DL", "EE")
    combine_measures: bool = False


@dataclass
class PoolSubgroups(Result):
    """A subgroup analysis of a pool, run by :func:`drivervte.meta.subgroup.subgroup_analysis`.

    ``to_dict()`` keys: ``factor, record_ids {group: [ids]}, left_out [ids] (group unknown
    or mixed), ratio {group: {estimate, ci_lower, ci_upper}} (back-transformed)`` plus the
    engine's keys (``groups`` on the model scale, ``Q_between``, ``Q_between_df``,
    ``Q_between_pvalue``, ``common_tau2``, ``method``, ``test``, ``level``, ``notes``).
    """

    factor: str
    record_ids: dict[str, list[str]]
    left_out: list[str]
    result: Any

    def to_dict(self) -> dict[str, Any]:
        ratio = {g: jsonable({"estimate": np.exp(f.estimate), "ci_lower": np.exp(f.ci_lower),
                              "ci_upper": np.exp(f.ci_upper)})
                 for g, f in self.result.fits.items()}
        return {"factor": self.factor, "record_ids": self.record_ids,
                "left_out": self.left_out, "ratio": ratio, **self.result.to_dict()}

    def summary(self) -> str:
        return f"Subgroups by {self.factor}\n" + self.result.summary()


@dataclass
class PoolResult(Result):
    """One comparative pool: the studies, the main fit, sensitivity fits, subgroups, LOO.

    ``to_dict()`` keys: ``key, gene, comparator_family, outcome, family, measure, k,
    studies [StudyEffect], main (MetaResult dict or null for k = 1), sensitivity {name:
    {description, record_ids, notes, fit}}, subgroups [PoolSubgroups], leave_one_out (list or
    null), small_study (text), small_study_tests ({egger, begg, trimfill} for k >= 10, else
    null), notes``.
    """

    key: str
    gene: str
    comparator_family: str
    outcome: str
    family: str
    measure: str
    studies: list[StudyEffect]
    main: MetaResult | None
    sensitivity: dict[str, dict[str, Any]] = field(default_factory=dict)
    subgroups: list[PoolSubgroups] = field(default_factory=list)
    leave_one_out: Any = None
    small_study: str = ""
    small_study_tests: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def k(self) -> int:
        return len(self.studies)

    def headline(self) -> dict[str, Any]:
        """Pooled estimate, CI, PI on both scales, tau², I², the record ids (k = 1: the study)."""
        out: dict[str, Any] = {"key": self.key, "k": self.k, "measure": self.measure,
                               "outcome": self.outcome, "comparator_family": self.comparator_family,
                               "record_ids": [s.id for s in self.studies]}
        if self.main is None:
            s = self.studies[0]
            out.update(estimate=s.estimate, ci_lower=s.ci_lower, ci_upper=s.ci_upper,
                       pi_lower=None, pi_upper=None, log_estimate=s.yi,
                       log_ci_lower=float(np.log(s.ci_lower)),
                       log_ci_upper=float(np.log(s.ci_upper)), log_pi_lower=None,
                       log_pi_upper=None, tau2=None, I2=None, pvalue=None, pooled=False)
            return jsonable(out)
        m, tr = self.main, self.main.transformed
        out.update(estimate=tr["estimate"], ci_lower=tr["ci_lower"], ci_upper=tr["ci_upper"],
                   pi_lower=tr["pi_lower"], pi_upper=tr["pi_upper"], log_estimate=m.estimate,
                   log_ci_lower=m.ci_lower, log_ci_upper=m.ci_upper, log_pi_lower=m.pi_lower,
                   log_pi_upper=m.pi_upper, tau2=m.tau2, tau2_ci=[m.tau2_ci_lower,
                   m.tau2_ci_upper], I2=m.I2, I2_ci=[m.I2_ci_lower, m.I2_ci_upper],
                   pvalue=m.pvalue, method=m.method, test=m.test, pooled=True)
        return jsonable(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "gene": self.gene, "comparator_family": self.comparator_family,
            "outcome": self.outcome, "family": self.family, "measure": self.measure,
            "k": self.k, "headline": self.headline(),
            "studies": [s.to_dict() for s in self.studies],
            "main": None if self.main is None else self.main.to_dict(),
            "sensitivity": {name: {"description": v["description"],
                                   "record_ids": v["record_ids"],
                                   "notes": list(v.get("notes", [])),
                                   "fit": None if v["fit"] is None else v["fit"].to_dict()}
                            for name, v in sorted(self.sensitivity.items())},
            "subgroups": [g.to_dict() for g in self.subgroups],
            "leave_one_out": None if self.leave_one_out is None else self.leave_one_out.to_dict(),
            "small_study": self.small_study,
            "small_study_tests": None if self.small_study_tests is None else
            {k: v.to_dict() for k, v in sorted(self.small_study_tests.items())},
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        h = self.headline()
        pi = (f"; PI {fmt_num(h['pi_lower'], 2)}-{fmt_num(h['pi_upper'], 2)}"
              if h.get("pi_lower") is not None else "")
        i2 = f"; I2 {fmt_num(h['I2'], 1)}%" if h.get("I2") is not None else ""
        return (f"{self.key}: k = {self.k}, {self.measure} {fmt_num(h['estimate'], 2)} "
                f"({fmt_num(h['ci_lower'], 2)}-{fmt_num(h['ci_upper'], 2)}){pi}{i2}")


def pool_key(gene: str, comparator_family: str, outcome: str, family: str) -> str:
    return f"{gene}|{comparator_family}|{outcome}|{family}"


def _fit(effects: list[StudyEffect], measure: str, opts: SynthesisOptions, *,
         method: str | None = None, test: str | None = None) -> tuple[MetaResult, list[str]]:
    """fit_rma on the effects; engine warnings are returned as notes (never hidden)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fit_rma(np.array([e.yi for e in effects]), np.array([e.vi for e in effects]),
                      method=method or opts.method, test=test or opts.test, level=opts.level,
                      study=[e.label for e in effects], measure=measure)
    return res, [str(w.message) for w in caught]


def _sens_test(method: str, opts: SynthesisOptions) -> str:
    return "z" if method == "EE" else opts.test if method == opts.method else "z"


class _Index:
    """Lookups over the merged records."""

    def __init__(self, stored: list[StoredRecord]) -> None:
        self.stored = stored
        self.by_id = {s.record.id: s for s in stored}
        self.alternatives: dict[str, list[StoredRecord]] = defaultdict(list)
        self.overlaps: dict[str, list[StoredRecord]] = defaultdict(list)
        self._effects: dict[str, StudyEffect] = {}
        for s in stored:
            if s.record.alternative_to:
                self.alternatives[s.record.alternative_to].append(s)
            if s.record.overlap_group:
                self.overlaps[s.record.overlap_group].append(s)

    def effect(self, s: StoredRecord) -> StudyEffect:
        """The record's effect (computed once per run; a copy, callers may set ``n``)."""
        if s.record.id not in self._effects:
            self._effects[s.record.id] = effect_of(s.record, s.origin)
        return dataclasses.replace(self._effects[s.record.id])


def _family(rec, opts: SynthesisOptions) -> str:
    fam = measure_family(rec)
    return "ratio" if opts.combine_measures and fam in ("OR", "HR") else fam


def comparative_pools(stored: list[StoredRecord], opts: SynthesisOptions) -> list[PoolResult]:
    """All comparative pools of the included records (see the module docstring)."""
    idx = _Index(stored)
    groups: dict[tuple, list[StoredRecord]] = defaultdict(list)
    p_only: dict[tuple, list[StoredRecord]] = defaultdict(list)
    for s in stored:
        r = s.record
        key = (r.gene.value, r.comparator_family, r.outcome.value, _family(r, opts))
        if r.include and r.form in ("counts", "ratio_ci"):
            groups[key].append(s)
        elif r.include and r.form == "ratio_p":
            p_only[key].append(s)
    pools = []
    for key, members in sorted(groups.items()):
        gene, cfam, outcome, fam = key
        if fam == "ratio":
            members = _one_per_study(members)
        pool = _run_pool(gene, cfam, outcome, fam, members, idx, opts)
        _pvalue_sensitivity(pool, members, p_only.get(key, []), idx, opts)
        pools.append(pool)

    _add_outcome_subgroups(pools, opts)
    return pools


def _one_per_study(members: list[StoredRecord]) -> list[StoredRecord]:
    """Combined-measure pools keep one estimate per study: hazard ratio, then OR."""
    best: dict[str, StoredRecord] = {}
    for s in members:
        unit = s.record.overlap_group or s.record.study
        cur = best.get(unit)
        if cur is None or (measure_family(s.record) == "HR" and measure_family(cur.record) != "HR"):
            best[unit] = s
    return [s for s in members if best.get(s.record.overlap_group or s.record.study) is s]


def _sorted_effects(members: list[StoredRecord], idx: _Index | None = None) -> list[StudyEffect]:
    effs = []
    for s in members:
        e = idx.effect(s) if idx is not None else effect_of(s.record, s.origin)
        if idx is not None and s.record.n_gene is None:
            # Patients in the comparison from an alternative record with arm sizes (Ng 2019:
            # the adjusted OR has none, its crude counterpart does); else the study's N.
            for a in idx.alternatives.get(s.record.id, []):
                if a.record.n_gene is not None and a.record.n_comparator is not None:
                    e.n = a.record.n_gene + a.record.n_comparator
                    break
        effs.append(e)
    return sorted(effs, key=lambda e: (e.year or 9999, e.label, e.id))


def _run_pool(gene, cfam, outcome, fam, members, idx: _Index, opts) -> PoolResult:
    effects = _sorted_effects(members, idx)
    measure = "OR" if fam == "OR" else "HR" if fam == "HR" else fam
    if fam == "ratio":
        measure = "HR"
    pool = PoolResult(key=pool_key(gene, cfam, outcome, fam), gene=gene, comparator_family=cfam,
                      outcome=outcome, family=fam, measure=measure, studies=effects, main=None)
    labels = {e.measure for e in effects}
    if fam == "HR" and labels == {"HR", "SHR"}:
        pool.notes.append("HR family: cause-specific HRs and Fine-Gray SHRs pooled together "
                          "on the log scale")
    if fam == "ratio":
        pool.notes.append("ORs and hazard ratios combined (combine_measures=True): "
                          "one estimate per study, hazard ratio preferred")
    if len(effects) == 1:
        pool.notes.append("k = 1: a single study, reported as is (no pooling)")
        pool.small_study = "not assessed: k = 1"
        return pool
    pool.main, notes = _fit(effects, measure, opts)
    pool.notes.extend(notes)
    if len(effects) == 2 and opts.test == "knha":
        pool.notes.append("k = 2: Knapp-Hartung uses a t distribution with 1 df, so the CI is "
                          "very wide; the DL/EE sensitivity fits show the z-based intervals")
    for meth in opts.sensitivity_methods:
        fit, n2 = _fit(effects, measure, opts, method=meth, test=_sens_test(meth, opts))
        pool.sensitivity[f"method_{meth}"] = {
            "description": f"{meth} estimator, z test", "record_ids": [e.id for e in effects],
            "fit": fit, "notes": n2}
    _swap_sensitivity(pool, members, idx, opts, measure)
    if len(effects) >= LOO_MIN_K:
        from drivervte.meta.influence import leave_one_out

        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            pool.leave_one_out = leave_one_out(pool.main)
    for factor in ("ethnicity_group", "design_group"):
        sg = _subgroup(effects, factor, measure, opts)
        if sg is not None:
            pool.subgroups.append(sg)
    if len(effects) >= SMALL_STUDY_MIN_K:
        _small_study_tests(pool)
    else:
        pool.small_study = (f"not done: k = {len(effects)} < {SMALL_STUDY_MIN_K} (Egger/Begg "
                            "tests and funnel plots need at least 10 studies)")
    return pool


def _swap_sensitivity(pool: PoolResult, members, idx: _Index, opts, measure) -> None:
    """Swap in recorded alternatives (same family) and overlapping cohorts, one fit each."""
    fam = pool.family
    for name, desc, finder in (
        ("alternative_estimates", "each estimate swapped for its recorded alternative of "
         "the same measure family (crude/adjusted, SHR/HR; ratio + p-value with approximate SE)",
         lambda s: idx.alternatives.get(s.record.id, [])),
        ("overlapping_cohorts", "each cohort swapped for a possibly overlapping cohort "
         "(overlap_group) reporting the same comparison",
         lambda s: [o for o in idx.overlaps.get(s.record.overlap_group or "", [])
                    if o.record.study != s.record.study]),
    ):
        swapped, changed = [], []
        for s in members:
            alt = [a for a in sorted(finder(s), key=lambda a: a.record.id)
                   if a.record.form in ("counts", "ratio_ci", "ratio_p")
                   and a.record.gene == s.record.gene
                   and a.record.comparator_family == s.record.comparator_family
                   and a.record.outcome == s.record.outcome and _family(a.record, opts) == fam]
            if alt:
                swapped.append(alt[0])
                changed.append(f"{s.record.id} -> {alt[0].record.id}")
            else:
                swapped.append(s)
        if changed:
            effs = _sorted_effects(swapped, idx)
            fit, notes = _fit(effs, measure, opts)
            pool.sensitivity[name] = {"description": desc + ": " + "; ".join(changed),
                                      "record_ids": [e.id for e in effs], "fit": fit,
                                      "notes": notes}


def _pvalue_sensitivity(pool: PoolResult, members, extra: list[StoredRecord], idx: _Index,
                        opts: SynthesisOptions) -> None:
    """Included ratio + p-value records (no CI) join the pool with approximate SEs.

    Only here: they never enter the main analysis (an SE from a p-value is approximate, and
    p < x gives only a bound). A study already in the pool keeps its CI-based estimate.
    """
    present = {s.record.overlap_group or s.record.study for s in members}
    add = [s for s in extra if (s.record.overlap_group or s.record.study) not in present]
    if not add:
        return
    effs = _sorted_effects(list(members) + add, idx)
    fit, notes = _fit(effs, pool.measure, opts)
    pool.sensitivity["p_value_estimates"] = {
        "description": "adds estimates reported with a p-value only (SE = |log ratio| / "
                       "z(1 - p/2), approximate): " + ", ".join(s.record.id for s in add),
        "record_ids": [e.id for e in effs], "fit": fit, "notes": notes}


def _small_study_tests(pool: PoolResult) -> None:
    """Egger's regression test, the rank correlation test and trim-and-fill (k >= 10)."""
    from drivervte.meta.bias import egger_test, rank_test
    from drivervte.meta.trimfill import trimfill

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pool.small_study_tests = {"egger": egger_test(pool.main), "begg": rank_test(pool.main),
                                  "trimfill": trimfill(pool.main)}
    pool.notes.extend(f"small-study tests: {w.message}" for w in caught)
    pool.small_study = (f"k = {pool.k} >= {SMALL_STUDY_MIN_K}: Egger, rank correlation and "
                        "trim-and-fill in small_study_tests")


def _group_of(e: StudyEffect, factor: str) -> str | None:
    if factor == "ethnicity_group":
        return e.ethnicity_group if e.ethnicity_group in ("east_asian", "western") else None
    if factor == "design_group":
        if e.design in ("prospective", "trial"):
            return "prospective"
        if e.design in ("retrospective", "case_control"):
            return "retrospective"
        return None
    if factor == "outcome":
        return e.outcome
    raise ValueError(factor)


def _subgroup(effects: list[StudyEffect], factor: str, measure: str,
              opts: SynthesisOptions) -> PoolSubgroups | None:
    """Subgroups by ``factor`` when k >= 3 studies fall in at least two known groups."""
    keep = [e for e in effects if _group_of(e, factor) is not None]
    names = sorted({_group_of(e, factor) for e in keep})
    if len(keep) < SUBGROUP_MIN_K or len(names) < 2:
        return None
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        res = subgroup_analysis(np.array([e.yi for e in keep]), np.array([e.vi for e in keep]),
                                [_group_of(e, factor) for e in keep], method=opts.method,
                                test=opts.test, level=opts.level,
                                study=[e.label for e in keep], measure=measure)
    return PoolSubgroups(
        factor=factor,
        record_ids={g: [e.id for e in keep if _group_of(e, factor) == g] for g in names},
        left_out=sorted(e.id for e in effects if _group_of(e, factor) is None), result=res)


def _add_outcome_subgroups(pools: list[PoolResult], opts: SynthesisOptions) -> None:
    """VTE vs any TE: for pools differing only in outcome, a subgroup analysis on the VTE pool."""
    by = {(p.gene, p.comparator_family, p.family, p.outcome): p for p in pools}
    for (gene, cfam, fam, outcome), p in by.items():
        if outcome != "VTE" or (gene, cfam, fam, "TE") not in by:
            continue
        te = by[(gene, cfam, fam, "TE")]
        sg = _subgroup(p.studies + te.studies, "outcome", p.measure, opts)
        if sg is not None:
            p.subgroups.append(sg)
            te.subgroups.append(sg)


def headline_pool(pools: list[PoolResult], gene: str) -> PoolResult | None:
    """The pool a gene's conclusion rests on (module docstring, step 7)."""
    mine = [p for p in pools if p.gene == gene]
    neg = [p for p in mine if p.comparator_family == "negative" and p.outcome == "VTE"]
    cands = neg or [p for p in mine if p.comparator_family.startswith("vs_")]
    if not cands:
        return None
    def total_n(p: PoolResult) -> int:
        return sum(e.n or 0 for e in p.studies)

    return sorted(cands, key=lambda p: (-p.k, p.family != "HR", -total_n(p), p.key))[0]


def genes() -> list[str]:
    return [g.value for g in Gene]
