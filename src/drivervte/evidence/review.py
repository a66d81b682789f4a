"""The whole review: per-gene synthesis of the store's records, and its outputs.

:func:`run_review` returns a :class:`ReviewSynthesis` holding, per gene, every comparative
pool, the incidence analyses, the vote count and the certainty statement, plus the
PRISMA-style counts and the excluded records with their reasons: everything the report
needs, as result dataclasses with ``to_dict()``.

:func:`write_review` writes ``summary.json`` (sorted keys, no timestamps: the same data give
byte-identical files) and ``report.html``, the full report built by :mod:`drivervte.report`
(inline SVG forest plots, the evidence table with corrections, methods).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivervte import DISCLAIMER, __version__
from drivervte.evidence.certainty import Certainty, assess
from drivervte.evidence.load import OtherSource, check_records, load_shipped
from drivervte.evidence.store import StoredRecord
from drivervte.evidence.synthesis import (
    PoolResult,
    SynthesisOptions,
    comparative_pools,
    genes,
    headline_pool,
)
from drivervte.evidence.tables import IncidenceResult, VoteCount, incidence, vote_count
from drivervte.results import Result, jsonable

INCIDENCE_OUTCOMES = ("VTE", "TE")


@dataclass
class GeneSynthesis(Result):
    """Everything about one gene.

    ``to_dict()`` keys: ``gene, k, measure, pooled (the headline pool's headline: estimate,
    ci/pi on the ratio and log scales, tau2, I2, record_ids...), studies_used [ids of
    records in any pool], conclusion (text), other_pools [one-line summaries of the pools
    besides the headline one], certainty (Certainty), pools [PoolResult],
    incidence [IncidenceResult], vote_count (VoteCount)``.
    """

    gene: str
    headline: PoolResult | None
    pools: list[PoolResult]
    incidence: list[IncidenceResult]
    vote_count: VoteCount
    certainty: Certainty

    def to_dict(self) -> dict[str, Any]:
        used = sorted({s.id for p in self.pools for s in p.studies})
        h = None if self.headline is None else self.headline.headline()
        return {
            "gene": self.gene, "k": 0 if h is None else h["k"],
            "measure": None if h is None else h["measure"], "pooled": h,
            "studies_used": used, "conclusion": self.certainty.statement,
            "other_pools": [p.summary() for p in self.pools if p is not self.headline],
            "certainty": self.certainty.to_dict(),
            "pools": [p.to_dict() for p in self.pools],
            "incidence": [i.to_dict() for i in self.incidence],
            "vote_count": self.vote_count.to_dict(),
        }

    def summary(self) -> str:
        lines = [f"== {self.gene} ==", self.certainty.statement]
        lines += [p.summary() for p in self.pools]
        return "\n".join(lines)


@dataclass
class ReviewSynthesis(Result):
    """The review. ``to_dict()`` keys: ``drivervte_version, disclaimer, options, data
    {fingerprint, n_records, n_shipped, n_user, user_supersedes}, prisma {...}, genes
    {gene: GeneSynthesis}, excluded [{id, study, gene, reason, alternative_to, origin}],
    other_sources [...], evidence_table (see :meth:`evidence_table`)``."""

    options: SynthesisOptions
    genes: dict[str, GeneSynthesis]
    stored: list[StoredRecord] = field(repr=False)
    other_sources: list[OtherSource] = field(default_factory=list)

    def fingerprint(self) -> str:
        """SHA-256 of the merged records (origin + validated JSON), in a fixed order."""
        h = hashlib.sha256()
        for s in sorted(self.stored, key=lambda s: s.record.id):
            h.update(f"{s.origin}\n{s.record.model_dump_json()}\n".encode())
        return h.hexdigest()

    def prisma(self) -> dict[str, Any]:
        """Counts for a PRISMA-style flow: sources, records, exclusions by reason."""
        recs = [s.record for s in self.stored]
        used = {i for g in self.genes.values() for p in g.pools for i in
                (s.id for s in p.studies)}
        used |= {i for g in self.genes.values() for inc in g.incidence for a in inc.arms
                 for i in a["record_ids"]}
        used |= {r["id"] for g in self.genes.values() for r in g.vote_count.rows}
        studies = sorted({r.study for r in recs})
        studies_used = sorted({r.study for r in recs if r.id in used})
        return {
            "sources_screened": len(studies) + len(self.other_sources),
            "sources_without_estimates": len(self.other_sources),
            "studies_with_records": len(studies),
            "studies_contributing": len(studies_used),
            "studies_not_contributing": sorted(set(studies) - set(studies_used)),
            "records": len(recs),
            "records_included": sum(r.include for r in recs),
            "records_excluded": sum(not r.include for r in recs),
            "records_alternative_estimates": sum(r.alternative_to is not None for r in recs),
            "records_used_in_analyses": len(used),
        }

    def evidence_table(self) -> list[dict[str, Any]]:
        """One row per study, in the layout of the seed's Table 1, corrections attached.

        Keys: ``study, label, in_seed, population, design, setting, country,
        ethnicity_group, n_total, genes, followup, outcomes, results [{id, gene,
        comparator, outcome, numbers, include, exclusion_reason, origin}], corrections
        [{item, seed_says, correction, record}]``. Seed Table 1 rows first, in the seed's
        order of first appearance in the data file, then the others by study key.
        """
        rows: dict[str, dict[str, Any]] = {}
        shipped = load_shipped().records
        pos = {r.id: i for i, r in enumerate(shipped)}
        canonical = sorted(self.stored, key=lambda s: (pos.get(s.record.id, 10**6), s.record.id))
        for s in canonical:
            r = s.record
            row = rows.setdefault(r.study, {
                "study": r.study, "label": r.label.split(" (")[0], "in_seed": r.in_seed,
                "population": r.population, "design": None if r.design is None
                else r.design.value, "setting": r.setting.value, "country": [],
                "ethnicity_group": None if r.ethnicity_group is None
                else r.ethnicity_group.value, "n_total": 0, "genes": [],
                "followup": [], "outcomes": [], "results": [], "corrections": []})
            if r.country and r.country not in row["country"]:
                row["country"].append(r.country)
            if r.gene.value not in row["genes"]:
                row["genes"].append(r.gene.value)
            if r.outcome.value not in row["outcomes"]:
                row["outcomes"].append(r.outcome.value)
            if r.followup and r.followup not in row["followup"]:
                row["followup"].append(r.followup)
            row["results"].append({"id": r.id, "gene": r.gene.value, "comparator": r.comparator,
                                   "outcome": r.outcome.value, "numbers": numbers_text(r),
                                   "include": r.include,
                                   "exclusion_reason": r.exclusion_reason, "origin": s.origin})
            for d in r.seed_discrepancy:
                c = {"item": d.item, "seed_says": d.seed_says, "correction": d.correction}
                if c not in [{k: v for k, v in x.items() if k != "record"}
                             for x in row["corrections"]]:
                    row["corrections"].append({**c, "record": r.id})
        cohorts: dict[str, dict[str, int]] = {}
        for s in self.stored:  # N: the study's N, else the sum over its cohorts
            r = s.record
            if r.n_total is not None:
                cohorts.setdefault(r.study, {})[r.cohort] = r.n_total
        for key, row in rows.items():
            row["n_total"] = sum(cohorts[key].values()) if key in cohorts else None
        for row in rows.values():
            row["country"] = "; ".join(row["country"]) or None
        order = {"table1": 0, "text": 1, "no": 2}
        first: dict[str, int] = {}  # the shipped file's order (the seed's Table 1 order)
        for i, r in enumerate(shipped):
            first.setdefault(r.study, i)
        return [rows[k] for k in sorted(rows, key=lambda k: (
            order[rows[k]["in_seed"]],
            first.get(k, 10**6) if rows[k]["in_seed"] == "table1" else 0, k))]

    def to_dict(self) -> dict[str, Any]:
        n_user = sum(s.origin == "user" for s in self.stored)
        return jsonable({
            "drivervte_version": __version__, "disclaimer": DISCLAIMER,
            "options": {"method": self.options.method, "test": self.options.test,
                        "level": self.options.level,
                        "sensitivity_methods": list(self.options.sensitivity_methods),
                        "combine_measures": self.options.combine_measures},
            "data": {"fingerprint": self.fingerprint(), "n_records": len(self.stored),
                     "n_shipped": len(self.stored) - n_user, "n_user": n_user,
                     "user_supersedes": sorted(s.record.id for s in self.stored
                                               if s.supersedes_shipped)},
            "prisma": self.prisma(),
            "genes": {g: v.to_dict() for g, v in self.genes.items()},
            "excluded": [{"id": s.record.id, "study": s.record.study,
                          "gene": s.record.gene.value, "reason": s.record.exclusion_reason,
                          "alternative_to": s.record.alternative_to, "origin": s.origin}
                         for s in sorted(self.stored, key=lambda s: s.record.id)
                         if not s.record.include],
            "other_sources": [vars(o) for o in self.other_sources],
            "evidence_table": self.evidence_table(),
        })

    def summary(self) -> str:
        return "\n\n".join(g.summary() for g in self.genes.values())


def numbers_text(r) -> str:
    """The record's reported numbers in short text: '6/29 vs 13/266', 'HR 3.7 (2.51-5.44)'."""
    if r.form in ("counts", "single_arm"):
        out = f"{r.events_gene}/{r.n_gene}"
        if r.events_comparator is not None:
            out += f" vs {r.events_comparator}/{r.n_comparator}"
        return out
    if r.estimate is not None:
        out = f"{r.measure.value} {r.estimate:g}"
        if r.ci_lower is not None:
            out += f" ({r.ci_lower:g}-{r.ci_upper:g})"
        elif r.pvalue is not None:
            out += f", p {r.pvalue_relation} {r.pvalue:g}"
        if r.orientation == "comparator_vs_gene":
            out += " [comparator vs gene]"
        return out
    if r.pvalue is not None:
        return f"p {r.pvalue_relation} {r.pvalue:g}"
    return "no usable numbers"


def run_review(stored: list[StoredRecord], options: SynthesisOptions | None = None, *,
               other_sources: list[OtherSource] | None = None,
               progress: Callable[[str], None] | None = None) -> ReviewSynthesis:
    """Run the analysis plan of :mod:`drivervte.evidence.synthesis` on ``stored``.

    Raises :class:`InputError` if the merged records double-count a comparison (see
    :func:`drivervte.evidence.load.check_records`).
    """
    opts = options or SynthesisOptions()
    step = progress or (lambda _msg: None)
    # The merged set is checked again: a shipped update may conflict with older user records.
    check_records([s.record for s in stored])
    step("comparative pools")
    pools = comparative_pools(stored, opts)
    out: dict[str, GeneSynthesis] = {}
    for gene in genes():
        step(f"{gene}")
        mine = [p for p in pools if p.gene == gene]
        head = headline_pool(pools, gene)
        incs = [r for o in INCIDENCE_OUTCOMES
                if (r := incidence(stored, gene, o, method=opts.method, test=opts.test,
                                   level=opts.level)) is not None]
        out[gene] = GeneSynthesis(gene=gene, headline=head, pools=mine, incidence=incs,
                                  vote_count=vote_count(stored, gene),
                                  certainty=assess(gene, head, stored))
    return ReviewSynthesis(options=opts, genes=out, stored=stored,
                           other_sources=list(other_sources or []))


def summary_json(review: ReviewSynthesis) -> str:
    """The summary.json text: sorted keys, 2-space indent, NaN as null, final newline."""
    return json.dumps(review.to_dict(), indent=2, sort_keys=True, allow_nan=False) + "\n"


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_review(review: ReviewSynthesis, out_dir: str | Path) -> dict[str, Path]:
    """Write ``summary.json`` and ``report.html`` (:mod:`drivervte.report`) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"summary": out / "summary.json", "report": out / "report.html"}
    _atomic_write(paths["summary"], summary_json(review))
    from drivervte.report import render_report

    _atomic_write(paths["report"], render_report(review))
    return paths
