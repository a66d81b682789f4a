"""``drivervte review [--db PATH] [--out DIR]``: the per-gene synthesis of the evidence base.

Writes ``DIR/summary.json`` (byte-identical for the same data) and ``DIR/report.html`` (one
self-contained file with inline SVG plots, :mod:`drivervte.report`). Progress goes to stderr,
and only on a terminal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from drivervte.cli._common import err_console, handles_input_errors, out_console
from drivervte.cli.evidence import DB_HELP


@handles_input_errors
def review_cmd(
    db: Annotated[Path | None, typer.Option("--db", help=DB_HELP)] = None,
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("out/review"),
    combine_measures: Annotated[bool, typer.Option(
        "--combine-measures",
        help="Pool ORs and hazard ratios together (one per study); default: separately.",
    )] = False,
) -> None:
    """Run the per-gene meta-analysis of the evidence base; write summary.json and report.html."""
    from drivervte.evidence.review import run_review, write_review
    from drivervte.evidence.store import EvidenceStore
    from drivervte.evidence.synthesis import SynthesisOptions

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err_console,
                  transient=True, disable=not err_console.is_terminal) as prog:
        task = prog.add_task("loading the evidence store", total=None)
        store = EvidenceStore(db)
        stored = store.records()

        def step(msg: str) -> None:
            prog.update(task, description=f"synthesis: {msg}")

        review = run_review(stored, SynthesisOptions(combine_measures=combine_measures),
                            other_sources=store.shipped.other_sources, progress=step)
        prog.update(task, description="writing outputs")
        paths = write_review(review, out)
    out_console.print(f"wrote {paths['summary']} and {paths['report']}")
    for g in review.genes.values():
        out_console.print(f"  {g.certainty.statement}")


def register(app: typer.Typer) -> None:
    app.command("review")(review_cmd)
