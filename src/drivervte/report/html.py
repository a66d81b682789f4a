"""The review report: one self-contained HTML file (inline CSS and SVG, no scripts, no
network), rendered with Jinja2 from :class:`drivervte.evidence.review.ReviewSynthesis`.

Sections: the headline table (one row per gene), per gene the conclusion with its certainty
domains, forest plots of every comparative pool with two or more studies, single-study
estimates, incidence in gene-positive cohorts, sensitivity analyses, leave-one-out, small-study
assessment, the vote count; then the evidence table in the layout of the seed review's Table 1
with corrections marked, the PRISMA-style counts with every exclusion and its reason, the
methods and the disclaimer. The same review gives byte-identical HTML.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from drivervte import DISCLAIMER, __version__
from drivervte.report.figures import (
    FUNNEL_MIN_K,
    incidence_forest_svg,
    outcome_words,
    pool_forest_svg,
    pool_funnel_svg,
)

__all__ = ["render_report"]


def _fmt(x: Any, digits: int = 2) -> str:
    if x is None:
        return "–"
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(f):
        return "–"
    if f != 0 and (abs(f) >= 1000 or abs(f) < 0.01):
        return f"{f:.2g}"
    return f"{f:.{digits}f}"


def _pct(x: Any, digits: int = 1) -> str:
    return "–" if x is None else f"{100 * float(x):.{digits}f}%"


def _p(x: Any) -> str:
    if x is None:
        return "–"
    x = float(x)
    return "< 0.001" if x < 0.001 else f"{x:.3f}"


def _interval(lo: Any, hi: Any) -> str:
    if lo is None or hi is None:
        return "–"
    return f"{_fmt(lo)} to {_fmt(hi)}"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("drivervte.report", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(fmt=_fmt, pct=_pct, p=_p, outcome=outcome_words)
    env.globals.update(interval=_interval)
    return env


def _gene_view(gene: Any) -> dict[str, Any]:
    """What the template shows of one gene (plain values; SVG marked safe)."""
    d = gene.to_dict()
    pools = []
    for pool in gene.pools:
        pd_ = pool.to_dict()
        forest = pool_forest_svg(pool)
        funnel = pool_funnel_svg(pool)
        pools.append({
            "key": pool.key, "k": pool.k, "measure": pool.measure, "outcome": pool.outcome,
            "comparator": pool.comparator_family.replace("vs_", ""),
            "headline": pd_["headline"], "studies": pd_["studies"],
            "sensitivity": pd_["sensitivity"], "subgroups": pd_.get("subgroups") or [],
            "leave_one_out": pd_.get("leave_one_out"), "small_study": pd_["small_study"],
            "notes": pd_["notes"],
            "forest": Markup(forest) if forest else None,
            "funnel": Markup(funnel) if funnel else None,
            "anchor": "pool-" + pool.key.replace("|", "-").replace("+", "pos"),
        })
    incidence = []
    for inc in gene.incidence:
        svg = incidence_forest_svg(inc)
        incidence.append({**inc.to_dict(), "headline": inc.headline(),
                          "forest": Markup(svg) if svg else None})
    return {"gene": gene.gene, "summary": d, "certainty": d["certainty"], "pools": pools,
            "incidence": incidence, "vote_count": d["vote_count"]}


def render_report(review: Any) -> str:
    """The report HTML for a :class:`~drivervte.evidence.review.ReviewSynthesis`."""
    data = review.to_dict()
    genes = [_gene_view(g) for g in review.genes.values()]
    template = _environment().get_template("report.html")
    return template.render(
        version=__version__, disclaimer=DISCLAIMER, data=data, genes=genes,
        options=data["options"], prisma=data["prisma"], excluded=data["excluded"],
        other_sources=data["other_sources"], evidence_table=data["evidence_table"],
        funnel_min_k=FUNNEL_MIN_K,
    )


def write_report(review: Any, path: str | Path) -> Path:
    """Render and write the report to ``path`` (atomically: a temporary file, then rename)."""
    import os
    import tempfile

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(render_report(review))
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
