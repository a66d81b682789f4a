"""The whole review: per-gene synthesis of the store's records, and its outputs.

:func:`run_review` returns a :class:`ReviewSynthesis` holding, per gene, every comparative
pool, the incidence analyses, the vote count and the certainty statement, plus the
PRISMA-style counts and the excluded records with their reasons: everything the report
needs, as result dataclasses with ``to_dict()``.

:func:`write_review` writes ``summary.json`` (sorted keys, no timestamps: the same data give
byte-identical files) and a plain ``report.html`` **placeholder** (the full report with
forest plots is built by :mod:`drivervte.report`, later).
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivervte import DISCLAIMER, __version__
from drivervte.evidence.certainty import Certainty, assess
from drivervte.evidence.load import OtherSource
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
    records in any pool], conclusion (text), certainty (Certainty), pools [PoolResult],
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
    {gene: GeneSynthesis}, excluded [{id, study, gene, reason, origin}], other_sources
    [...]``."""

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
                         for s in self.stored if not s.record.include],
            "other_sources": [vars(o) for o in self.other_sources],
        })

    def summary(self) -> str:
        return "\n\n".join(g.summary() for g in self.genes.values())


def run_review(stored: list[StoredRecord], options: SynthesisOptions | None = None, *,
               other_sources: list[OtherSource] | None = None,
               progress: Callable[[str], None] | None = None) -> ReviewSynthesis:
    """Run the analysis plan of :mod:`drivervte.evidence.synthesis` on ``stored``."""
    opts = options or SynthesisOptions()
    step = progress or (lambda _msg: None)
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


def _placeholder_html(review: ReviewSynthesis) -> str:
    esc = html.escape
    rows = []
    for g in review.genes.values():
        rows.append(f"<h2>{esc(g.gene)}</h2><p>{esc(g.certainty.statement)}</p><ul>")
        rows += [f"<li>{esc(p.summary())}</li>" for p in g.pools]
        rows.append("</ul>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>drivervte review (placeholder)</title></head><body>\n"
            "<h1>Driver genes and VTE in NSCLC: review summary</h1>\n"
            "<p><strong>Placeholder report.</strong> The full report (forest and funnel "
            "plots, evidence table, methods) is not built yet; all numbers are in "
            "summary.json.</p>\n" + "\n".join(rows)
            + f"\n<p><small>{esc(DISCLAIMER)}</small></p>\n</body></html>\n")


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
    """Write ``summary.json`` and the placeholder ``report.html`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"summary": out / "summary.json", "report": out / "report.html"}
    _atomic_write(paths["summary"], summary_json(review))
    _atomic_write(paths["report"], _placeholder_html(review))
    return paths
