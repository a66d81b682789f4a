"""From evidence records to effect sizes on the model scale, through :mod:`drivervte.effects`.

Each record's numbers go to the effects engine in their original form (metafor ``escalc``):

- per-arm counts -> 2x2 table ``ai = events_gene``, ``bi = n_gene - events_gene``,
  ``ci = events_comparator``, ``di = n_comparator - events_comparator``, log odds ratio
  (``escalc(measure="OR")``, 1/2 added to all cells of a table with a zero cell);
- ratio + CI -> log ratio, SE = (log upper - log lower) / (2 z_{0.975});
- ratio + p-value -> log ratio, SE = |log ratio| / z_{1 - p/2} (approximate; ``p < x`` uses
  the bound, ``p > x`` is refused);
- single-arm events/total -> logit proportion (``PLO``) or Freeman-Tukey (``PFT``).

A ratio printed comparator-vs-gene (``orientation: comparator_vs_gene``) is inverted first:
estimate 1/e, CI (1/upper, 1/lower), so every effect reads gene-positive vs comparator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from drivervte.effects import from_table
from drivervte.evidence.schema import EvidenceRecord
from drivervte.results import Result


@dataclass
class StudyEffect(Result):
    """One record's effect on the model scale, oriented gene-positive vs comparator.

    ``to_dict()`` keys: ``id, study, label, year, design, ethnicity_group, outcome,
    comparator, form, measure, yi, vi, estimate, ci_lower, ci_upper, approximate, adjusted,
    n, origin, notes`` (``estimate`` and CI on the ratio scale, 95 %; ``notes`` from the
    effects engine, e.g. a zero-cell correction).
    """

    id: str
    study: str
    label: str
    year: int | None
    design: str | None
    ethnicity_group: str | None
    outcome: str
    comparator: str
    form: str
    measure: str
    yi: float
    vi: float
    estimate: float
    ci_lower: float
    ci_upper: float
    approximate: bool
    adjusted: bool | None
    n: int | None
    origin: str = "shipped"
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.label}: {self.measure} {self.estimate:.3f} "
                f"({self.ci_lower:.3f}-{self.ci_upper:.3f})")


def oriented_ratio(rec: EvidenceRecord) -> tuple[float | None, float | None, float | None]:
    """(estimate, ci_lower, ci_upper) read gene vs comparator (inverted if printed reversed)."""
    e, lo, hi = rec.estimate, rec.ci_lower, rec.ci_upper
    if rec.orientation == "comparator_vs_gene" and e is not None:
        e = 1.0 / e
        lo, hi = (None, None) if lo is None else (1.0 / hi, 1.0 / lo)
    return e, lo, hi


def record_n(rec: EvidenceRecord) -> int | None:
    """Patients in the comparison: both arms when known, else the study's N."""
    if rec.n_gene is not None and rec.n_comparator is not None:
        return rec.n_gene + rec.n_comparator
    return rec.n_total


def effect_of(rec: EvidenceRecord, origin: str = "shipped") -> StudyEffect:
    """The record's log-ratio effect via the effects engine (counts, ratio + CI, ratio + p)."""
    form = rec.form
    if form == "counts":
        table = {"ai": [rec.events_gene], "bi": [rec.n_gene - rec.events_gene],
                 "ci": [rec.events_comparator],
                 "di": [rec.n_comparator - rec.events_comparator], "study": [rec.label]}
        measure = "OR"
    elif form == "ratio_ci":
        e, lo, hi = oriented_ratio(rec)
        table = {"estimate": [e], "lower": [lo], "upper": [hi], "study": [rec.label]}
        measure = rec.measure.value
    elif form == "ratio_p":
        e, _, _ = oriented_ratio(rec)
        p = rec.pvalue if rec.pvalue_relation == "=" else f"{rec.pvalue_relation}{rec.pvalue}"
        table = {"estimate": [e], "pvalue": [p], "study": [rec.label]}
        measure = rec.measure.value
    else:
        raise ValueError(f"record {rec.id} ({form}) has no ratio effect")
    level = rec.ci_level if form == "ratio_ci" else 95.0
    es = from_table(table, measure, level=level)
    yi, vi = float(es.yi[0]), float(es.vi[0])
    half = 1.959963984540054 * np.sqrt(vi)
    est, lo, hi = float(np.exp(yi)), float(np.exp(yi - half)), float(np.exp(yi + half))
    if form == "ratio_ci" and rec.ci_level == 95.0:  # show the interval as printed
        est, lo, hi = oriented_ratio(rec)
    return StudyEffect(
        id=rec.id, study=rec.study, label=rec.label, year=rec.year,
        design=None if rec.design is None else rec.design.value,
        ethnicity_group=None if rec.ethnicity_group is None else rec.ethnicity_group.value,
        outcome=rec.outcome.value, comparator=rec.comparator, form=form, measure=measure,
        yi=yi, vi=vi, estimate=est, ci_lower=lo, ci_upper=hi, approximate=bool(es.approximate[0]),
        adjusted=rec.adjusted, n=record_n(rec), origin=origin, notes=list(es.notes),
    )
