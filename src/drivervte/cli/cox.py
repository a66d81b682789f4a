"""``drivervte cox``: cause-specific Cox proportional hazards (survival::coxph).

``drivervte cox FILE --time COL --status COL --covariates a,b,c [--cause K]
[--ties efron|breslow] [--strata COL] [--entry COL] [--cluster COL] [--weights COL]
[--robust/--no-robust] [--reference col=level,...] [--categorical COLS]
[--missing error|exclude] [--level 0.95] [--json]
[--causes 1,2] [--table NAME]``

FILE is CSV, Parquet or a DuckDB database (with ``--table``). Status codes: 0 censored,
``--cause`` (default 1) the event; other codes are competing causes, censored in this
cause-specific model. ``--causes 1,2`` declares the causes: any other non-zero code is then
an error naming the status column and the data rows (1-based) instead of one more competing
cause, ``--cause`` must be one of them, and a declared cause without events is allowed.
``--json`` prints :meth:`drivervte.survival.cox.CoxResult.to_dict`.
Bad input exits with code 2, naming the column and rows.

The variance follows ``coxph``'s default unless ``--robust``/``--no-robust`` forces it:
robust (sandwich) with ``--cluster`` or non-integer ``--weights``, model-based otherwise;
``variance`` and ``variance_reason`` in the output say which and why. Warnings go to stderr
as ``warning: ...`` lines (and are in the output's ``warnings``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from drivervte.cli._common import (
    CategoricalOpt,
    CausesOpt,
    CohortFileArg,
    CovariatesOpt,
    JsonOpt,
    LevelOpt,
    MissingOpt,
    ReferenceOpt,
    TableOpt,
    check_missing,
    handles_input_errors,
    level_fraction,
    parse_causes,
    parse_covariates,
    parse_list,
    parse_reference,
)
from drivervte.cli._warnings import capture_warnings, emit_result


@handles_input_errors
def cox_cmd(
    file: CohortFileArg,
    time: Annotated[str, typer.Option("--time", help="Follow-up (exit) time column.")],
    status: Annotated[str, typer.Option("--status", help="Status column: 0 censored, 1..m.")],
    covariates: CovariatesOpt,
    cause: Annotated[int, typer.Option("--cause", help="Status code of the event.")] = 1,
    ties: Annotated[str, typer.Option("--ties", help="'efron' (default) or 'breslow'.")] = "efron",
    strata: Annotated[str | None, typer.Option("--strata", help="Strata column.")] = None,
    entry: Annotated[
        str | None, typer.Option("--entry", help="Entry-time column (delayed entry).")
    ] = None,
    cluster: Annotated[
        str | None, typer.Option("--cluster", help="Cluster column (robust variance).")
    ] = None,
    weights: Annotated[str | None, typer.Option("--weights", help="Case-weight column.")] = None,
    robust: Annotated[
        bool | None,
        typer.Option(
            "--robust/--no-robust",
            help="Force the robust (sandwich) or the model-based variance. Default: as "
            "coxph, robust with --cluster or non-integer --weights.",
        ),
    ] = None,
    reference: ReferenceOpt = None,
    categorical: CategoricalOpt = None,
    missing: MissingOpt = "error",
    level: LevelOpt = 0.95,
    as_json: JsonOpt = False,
    table: TableOpt = None,
    causes: CausesOpt = None,
) -> None:
    """Cause-specific Cox model (survival::coxph): hazard ratios, CIs, global tests."""
    covs = parse_covariates(covariates)
    check_missing(missing)
    declared = parse_causes(causes, cause=cause)
    from drivervte.survival.cohort import read_table
    from drivervte.survival.cox import CoxPH

    model = CoxPH(ties=ties, robust=robust, level=level_fraction(level))
    with capture_warnings() as caught:
        ref = parse_reference(reference)
        cats = parse_list(categorical, option="--categorical")
        extra = (strata, cluster, weights, entry)
        used = [time, status, *covs, *(c for c in extra if c), *ref, *cats]
        df = read_table(file, table=table, columns=used)  # only the columns used
        model.fit(
            df, time=time, status=status, covariates=covs, cause=cause, strata=strata,
            cluster=cluster, weights=weights, entry=entry,
            reference=ref, missing=missing, causes=declared, categorical=cats,
        )  # fmt: skip
    emit_result(model.result_, caught, as_json=as_json)


def register(app: typer.Typer) -> None:
    app.command("cox")(cox_cmd)
