"""Incidence in gene-positive cohorts (proportion meta-analysis) and the vote count.

Incidence. For each gene and outcome (VTE and TE apart), the gene-positive arms of the
included records: single-arm cohorts, the gene arm of comparative counts, and the
comparator arm of comparisons against that gene (``comparator: ALK+`` gives ALK+ counts).
One arm per (study, cohort, gene, outcome); the same arm read from two records must agree
(else :class:`InputError`). Pooled on the logit scale (``PLO``, REML + Knapp-Hartung by
default) with the Freeman-Tukey double arcsine (``PFT``, back-transformed with the harmonic
mean of the study sizes as ``metafor::transf.ipft.hm``) as sensitivity. Follow-up differs
between cohorts (from +-90 days to 36 months), so each row carries its follow-up and the
pooled proportion is a crude summary, not a risk at a fixed time.

Vote count. Every included comparative estimate of a gene, whatever its form (p-value-only
records included), one per study, comparator and outcome (a printed ratio before counts): direction (from the ratio, or the record's ``direction``) and whether it
is statistically significant at 5 % (CI excluding 1, or p < 0.05 as printed).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from drivervte.effects import from_table
from drivervte.errors import InputError
from drivervte.evidence.effects import effect_of, oriented_ratio
from drivervte.evidence.store import StoredRecord
from drivervte.meta.result import MetaResult
from drivervte.meta.rma import fit_rma
from drivervte.results import Result, fmt_num, format_table, jsonable


@dataclass
class IncidenceResult(Result):
    """Proportion meta-analysis of one gene and outcome.

    ``to_dict()`` keys: ``gene, outcome, k, arms [{study, cohort, label, record_ids, events,
    n, proportion, followup, followup_months, design, ethnicity_group}], main (PLO
    MetaResult or null for k = 1), pft (PFT MetaResult or null), headline {estimate,
    ci_lower, ci_upper, pi_lower, pi_upper} (proportion scale), notes``.
    """

    gene: str
    outcome: str
    arms: list[dict[str, Any]]
    main: MetaResult | None = None
    pft: MetaResult | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def k(self) -> int:
        return len(self.arms)

    def headline(self) -> dict[str, Any]:
        if self.main is None:
            a = self.arms[0]
            return {"estimate": a["proportion"], "ci_lower": None, "ci_upper": None,
                    "pi_lower": None, "pi_upper": None, "pooled": False}
        tr = self.main.transformed
        return jsonable({k: tr[k] for k in ("estimate", "ci_lower", "ci_upper", "pi_lower",
                                            "pi_upper")} | {"pooled": True})

    def to_dict(self) -> dict[str, Any]:
        return {"gene": self.gene, "outcome": self.outcome, "k": self.k,
                "arms": jsonable(self.arms), "headline": self.headline(),
                "main": None if self.main is None else self.main.to_dict(),
                "pft": None if self.pft is None else self.pft.to_dict(), "notes": self.notes}

    def summary(self) -> str:
        rows = [[a["label"], a["events"], a["n"], a["proportion"], a["followup"] or "NA"]
                for a in self.arms]
        h = self.headline()
        t = format_table(["cohort", "events", "n", "prop", "follow-up"], rows,
                         title=f"{self.gene} {self.outcome} incidence, k = {self.k}")
        return t + (f"\npooled {fmt_num(h['estimate'])} ({fmt_num(h['ci_lower'])}-"
                    f"{fmt_num(h['ci_upper'])})")


def gene_arms(stored: list[StoredRecord], gene: str, outcome: str) -> list[dict[str, Any]]:
    """The gene-positive arms (events/n) of the included records, one per cohort."""
    arms: dict[tuple, dict[str, Any]] = {}
    for s in stored:
        r = s.record
        if not r.include or r.outcome.value != outcome:
            continue
        if r.gene.value == gene and r.events_gene is not None:
            ev, n = r.events_gene, r.n_gene
        elif r.comparator == f"{gene}+" and r.events_comparator is not None:
            ev, n = r.events_comparator, r.n_comparator
        else:
            continue
        key = (r.study, r.cohort)
        if key in arms:
            a = arms[key]
            if (a["events"], a["n"]) != (ev, n):
                raise InputError(f"{gene} arm of {r.study} ({r.cohort}) differs between records "
                                 f"{a['record_ids'][0]} ({a['events']}/{a['n']}) and {r.id} "
                                 f"({ev}/{n}); correct one of them", column="events_gene")
            a["record_ids"].append(r.id)
            continue
        arms[key] = {"study": r.study, "cohort": r.cohort, "label": r.label,
                     "record_ids": [r.id], "events": ev, "n": n, "proportion": ev / n,
                     "followup": r.followup, "followup_months": r.followup_months,
                     "design": None if r.design is None else r.design.value,
                     "ethnicity_group": None if r.ethnicity_group is None
                     else r.ethnicity_group.value, "year": r.year}
    for a in arms.values():
        a["record_ids"].sort()
    return sorted(arms.values(), key=lambda a: (a["year"] or 9999, a["label"], a["study"]))


def incidence(stored: list[StoredRecord], gene: str, outcome: str, *, method: str = "REML",
              test: str = "knha", level: float = 95.0) -> IncidenceResult | None:
    """Pooled proportion of ``outcome`` in ``gene``-positive cohorts (None if no arm)."""
    arms = gene_arms(stored, gene, outcome)
    if not arms:
        return None
    res = IncidenceResult(gene, outcome, arms)
    if len(arms) == 1:
        res.notes.append("k = 1: a single cohort, reported as is")
        return res
    table = {"xi": [a["events"] for a in arms], "ni": [a["n"] for a in arms],
             "study": [a["label"] for a in arms]}
    fits = []
    for measure in ("PLO", "PFT"):
        es = from_table(table, measure)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fits.append(fit_rma(es.yi, es.vi, method=method, test=test, level=level,
                                study=es.study, measure=measure, ni=es.ni))
        res.notes.extend(f"{measure}: {w.message}" for w in caught)
        res.notes.extend(f"{measure}: {n}" for n in es.notes)
    res.main, res.pft = fits
    months = [a["followup_months"] for a in arms if a["followup_months"] is not None]
    if len(months) == len(arms) and min(months) == max(months):
        res.notes.append(f"follow-up {min(months):g} months in every cohort")
    elif months:
        span = (f"{min(months):g} months" if min(months) == max(months)
                else f"ranges {min(months):g}-{max(months):g} months")
        res.notes.append(f"follow-up {span} where given ({len(months)} of {len(arms)} "
                         "cohorts): the pooled proportion mixes follow-up lengths")
    return res


@dataclass
class VoteCount(Result):
    """Direction and significance of every included comparative estimate of a gene.

    ``to_dict()`` keys: ``gene, rows [{id, label, comparator, outcome, form, estimate,
    pvalue, pvalue_relation, direction, significant, significance_basis, origin}], tally
    {outcome: {direction/significance: count}}``.
    """

    gene: str
    rows: list[dict[str, Any]]

    @property
    def tally(self) -> dict[str, dict[str, int]]:
        """Counts by outcome, then 'direction/significance'."""
        out: dict[str, dict[str, int]] = {}
        for r in self.rows:
            sig = {True: "significant", False: "not_significant", None: "unknown"}[
                r["significant"]]
            cell = out.setdefault(r["outcome"], {})
            key = f"{r['direction']}/{sig}"
            cell[key] = cell.get(key, 0) + 1
        return {o: dict(sorted(c.items())) for o, c in sorted(out.items())}

    def to_dict(self) -> dict[str, Any]:
        return {"gene": self.gene, "rows": jsonable(self.rows), "tally": self.tally}

    def summary(self) -> str:
        rows = [[r["label"], r["comparator"], r["outcome"], r["form"], r["direction"],
                 str(r["significant"])] for r in self.rows]
        return format_table(["study", "vs", "outcome", "form", "direction", "sig."], rows,
                            title=f"{self.gene}: vote count")


def _significant(r) -> tuple[bool | None, str]:
    """(significant at 5 %, basis): printed CI, then printed p, then the Woolf CI of counts."""
    _, lo, hi = oriented_ratio(r)
    if lo is not None:
        return bool(lo > 1 or hi < 1), "printed CI"
    if r.pvalue is not None:
        if r.pvalue_relation == ">":
            return (False if r.pvalue >= 0.05 else None), "printed p"
        if r.pvalue_relation == "<":
            return (True if r.pvalue <= 0.05 else None), "printed p"
        return bool(r.pvalue < 0.05), "printed p"
    if r.form == "counts":
        e = effect_of(r)
        return bool(e.ci_lower > 1 or e.ci_upper < 1), "Wald CI of the log OR from counts"
    return None, "none"


def _direction(r) -> str:
    if r.form == "counts":
        p1 = r.events_gene / r.n_gene
        p0 = r.events_comparator / r.n_comparator
        return "gene_higher" if p1 > p0 else "gene_lower" if p1 < p0 else "no_difference"
    e, _, _ = oriented_ratio(r)
    if e is not None:
        return "gene_higher" if e > 1 else "gene_lower" if e < 1 else "no_difference"
    return r.direction.value if r.direction is not None else "not_reported"


def vote_count(stored: list[StoredRecord], gene: str) -> VoteCount:
    """Vote count over the included comparative records of ``gene``."""
    rows = []
    for s in stored:
        r = s.record
        if not r.include or r.gene.value != gene or r.comparator == "none" or r.form == "none":
            continue
        e, _, _ = oriented_ratio(r)
        sig, basis = _significant(r)
        rows.append({"id": r.id, "label": r.label, "comparator": r.comparator,
                     "outcome": r.outcome.value, "form": r.form, "estimate": e,
                     "pvalue": r.pvalue, "pvalue_relation": r.pvalue_relation,
                     "direction": _direction(r), "significant": sig,
                     "significance_basis": basis, "origin": s.origin,
                     "_unit": r.overlap_group or f"{r.study}/{r.cohort}"})
    # One vote per study, comparison and outcome: the printed ratio first, then counts.
    rank = {"ratio_ci": 0, "counts": 1, "ratio_p": 2, "p_only": 3}
    best: dict[tuple, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda x: (rank[x["form"]], x["id"])):
        best.setdefault((row.pop("_unit"), row["comparator"], row["outcome"]), row)
    rows = sorted(best.values(), key=lambda x: (x["comparator"], x["outcome"], x["label"],
                                                 x["id"]))
    return VoteCount(gene, rows)
