"""``drivervte evidence``: list, validate and add evidence records.

- ``drivervte evidence list [--gene G] [--include-only] [--json] [--db PATH]``
- ``drivervte evidence validate FILE`` (YAML or CSV; checks, writes nothing)
- ``drivervte evidence add FILE [--db PATH]`` (validated as a whole, written atomically;
  a record with a shipped id supersedes the shipped record)
- ``drivervte evidence export OUT.yaml [--id ID ...] [--gene G] [--db PATH]`` (records as
  YAML that ``add`` accepts: the way to start a correction)

The database defaults to ``$DRIVERVTE_DB``, else ``$XDG_DATA_HOME/drivervte/evidence.duckdb``,
else ``~/.local/share/drivervte/evidence.duckdb``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from drivervte.cli._common import handles_input_errors, out_console, print_json
from drivervte.errors import InputError

# The evidence modules (pydantic schema, DuckDB) load inside the commands, so that
# `drivervte <other command>` does not pay for them at start-up.


def _read_file(path: Path):
    from drivervte.evidence.load import read_file

    return read_file(path)


def _store(db: Path | None):
    from drivervte.evidence.store import EvidenceStore

    return EvidenceStore(db)


def _genes() -> list[str]:
    from drivervte.evidence.schema import Gene

    return [g.value for g in Gene]

evidence_app = typer.Typer(help="The evidence base: list, validate and add records.",
                           no_args_is_help=True)

DB_HELP = ("Evidence database (default: $DRIVERVTE_DB, else "
           "$XDG_DATA_HOME/drivervte/evidence.duckdb, else ~/.local/share/drivervte/evidence.duckdb).")


@evidence_app.command("list")
@handles_input_errors
def list_cmd(
    gene: Annotated[str | None, typer.Option("--gene", "-g",
                                             help="Only this gene (EGFR, ALK, ROS1, KRAS).")] = None,
    include_only: Annotated[bool, typer.Option("--include-only",
                                               help="Only included records.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    db: Annotated[Path | None, typer.Option("--db", help=DB_HELP)] = None,
) -> None:
    """List the evidence records (shipped and user), user corrections marked."""
    if gene is not None and gene.strip().upper() not in set(_genes()):
        raise InputError(f"unknown gene '{gene}'; accepted: {', '.join(_genes())}",
                         column="--gene")
    from drivervte.evidence.review import numbers_text

    store = _store(db)
    recs = store.records(gene=gene, include_only=include_only)
    if as_json:
        print_json({"db": str(store.path), "records": [
            {**s.record.to_dict(), "origin": s.origin,
             "supersedes_shipped": s.supersedes_shipped, "form": s.record.form}
            for s in recs]})
        return
    table = Table(title=f"Evidence records ({len(recs)})", show_lines=False)
    for col in ("id", "study", "gene", "vs", "outcome", "numbers", "incl.", "origin"):
        table.add_column(col, overflow="fold")
    for s in recs:
        r = s.record
        origin = "user (corrects shipped)" if s.supersedes_shipped else s.origin
        table.add_row(r.id, r.label, r.gene.value, r.comparator, r.outcome.value, numbers_text(r),
                      "yes" if r.include else "no", origin)
    out_console.print(table)


@evidence_app.command("validate")
@handles_input_errors
def validate_cmd(
    file: Annotated[Path, typer.Argument(help="YAML or CSV file of records.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Validate a file of records (schema and cross-record checks); writes nothing."""
    es = _read_file(file)
    if as_json:
        print_json({"file": str(file), "valid": True, "records": [r.id for r in es.records]})
    else:
        out_console.print(f"{file}: {len(es.records)} record(s) valid")


@evidence_app.command("add")
@handles_input_errors
def add_cmd(
    file: Annotated[Path, typer.Argument(help="YAML or CSV file of records.")],
    db: Annotated[Path | None, typer.Option("--db", help=DB_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Add or correct records: all validated first, then written in one transaction."""
    es = _read_file(file)
    if es.other_sources:
        raise InputError("other_sources are documentation of the shipped file and are not "
                         "stored; remove them from the file you add", column="other_sources")
    store = _store(db)
    rep = store.add(es)
    if as_json:
        print_json({"db": str(store.path), "added": rep.added,
                    "supersedes_shipped": rep.supersedes_shipped,
                    "replaced_user": rep.replaced_user})
        return
    out_console.print(f"{store.path}: {len(rep.added)} added, "
                      f"{len(rep.supersedes_shipped)} correcting shipped records, "
                      f"{len(rep.replaced_user)} replacing earlier user records")
    for rid in rep.supersedes_shipped:
        out_console.print(f"  {rid}: user version supersedes the shipped record")


@evidence_app.command("export")
@handles_input_errors
def export_cmd(
    out: Annotated[Path, typer.Argument(help="YAML file to write (records that 'add' accepts).")],
    ids: Annotated[list[str] | None, typer.Option("--id", help="Only this record id (repeatable).")] = None,
    gene: Annotated[str | None, typer.Option("--gene", "-g", help="Only this gene.")] = None,
    db: Annotated[Path | None, typer.Option("--db", help=DB_HELP)] = None,
) -> None:
    """Write records (shipped or user) as YAML, ready to edit and 'add' back as corrections."""
    import yaml

    store = _store(db)
    recs = store.records(gene=gene)
    if ids:
        known = {s.record.id for s in recs}
        missing = [i for i in ids if i not in known]
        if missing:
            raise InputError(f"no record with id {', '.join(missing)}", column="--id")
        recs = [s for s in recs if s.record.id in set(ids)]
    docs = [s.record.model_dump(mode="json", exclude_none=True) for s in recs]
    out.write_text(yaml.safe_dump({"records": docs}, sort_keys=False, allow_unicode=True),
                   encoding="utf-8")
    out_console.print(f"wrote {len(docs)} record(s) to {out}")


def register(app: typer.Typer) -> None:
    app.add_typer(evidence_app, name="evidence")
