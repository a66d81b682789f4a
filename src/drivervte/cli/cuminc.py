"""``drivervte cuminc``: cumulative incidence with competing risks and Gray's test.

``drivervte cuminc FILE --time COL --status COL [--group COL] [--strata COL] [--rho R]
[--times 6,12,24] [--cencode 0] [--missing error|exclude] [--level 0.95] [--json]
[--plot out.svg] [--cause 1] [--causes 1,2] [--table NAME]``

FILE is CSV, Parquet or a DuckDB database (with ``--table``). The table is validated by
:func:`drivervte.survival.cohort.prepare_cohort` (errors name the column and rows; with
``--missing exclude`` the excluded rows are reported). ``--json`` prints
:meth:`CumIncResult.to_dict` plus ``"cohort"`` (rows used and excluded). ``--plot`` writes the
curves of one cause (``--cause``, default the first) with a number-at-risk table at
``--times``. Bad input exits with code 2 and writes nothing.

Status codes: ``--cencode`` (default 0) is censoring; by default every other code present
is a cause (as ``cmprsk::cuminc``), so an unexpected code (a typo) becomes one more curve.
``--causes 1,2`` declares the causes: any other code is then an error (exit code 2) naming
the status column and the data rows (1-based, as in a spreadsheet), a declared cause
without events is shown with a curve that is 0 throughout, and ``--cause`` must be one of
them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from drivervte.cli._common import (
    CausesOpt,
    CohortFileArg,
    JsonOpt,
    LevelOpt,
    MissingOpt,
    TableOpt,
    check_missing,
    handles_input_errors,
    level_fraction,
    out_console,
    parse_causes,
    parse_floats,
    print_json,
)
from drivervte.errors import InputError

PLOT_SUFFIXES = (".svg", ".png", ".pdf")


@handles_input_errors
def cuminc_cmd(
    file: CohortFileArg,
    time: Annotated[str, typer.Option("--time", help="Follow-up time column.")],
    status: Annotated[
        str, typer.Option("--status", help="Status column: censoring code or cause code.")
    ],
    group: Annotated[str | None, typer.Option("--group", help="Group column.")] = None,
    strata: Annotated[
        str | None, typer.Option("--strata", help="Strata column (Gray's test only).")
    ] = None,
    rho: Annotated[float, typer.Option("--rho", help="Gray's test weight power.")] = 0.0,
    times: Annotated[
        str | None, typer.Option("--times", help="Report at these times, e.g. 6,12,24.")
    ] = None,
    cencode: Annotated[int, typer.Option("--cencode", help="Status code of censoring.")] = 0,
    missing: MissingOpt = "error",
    level: LevelOpt = 0.95,
    as_json: JsonOpt = False,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write the curves (.svg, .png or .pdf).")
    ] = None,
    cause: Annotated[
        str | None, typer.Option("--cause", help="Cause to plot (default: the first).")
    ] = None,
    table: TableOpt = None,
    causes: CausesOpt = None,
) -> None:
    """Cumulative incidence per group and cause (cmprsk::cuminc) and Gray's test."""
    # imported here so that other commands do not pay for pandas/scipy at start-up
    from drivervte.survival.cohort import prepare_cohort, read_table
    from drivervte.survival.cuminc import cumulative_incidence

    tq = parse_floats(times, option="--times") or None
    if plot is not None and plot.suffix.lower() not in PLOT_SUFFIXES:
        raise InputError(f"plot file must end in {', '.join(PLOT_SUFFIXES)}", column="--plot")
    check_missing(missing)
    declared = parse_causes(causes, cause=cause, cencode=cencode)
    used = [time, status, *(c for c in (group, strata) if c)]
    df = read_table(file, table=table, columns=used)  # only the columns used
    if cencode != 0:
        if status not in df.columns:
            raise InputError(f"no such column; the table has {list(df.columns)}", column=status)
        s = df[status]
        if (s == 0).any():
            raise InputError(
                f"status 0 appears while --cencode is {cencode}; recode the causes to 1..m",
                column=status,
                rows=(s == 0).to_numpy().nonzero()[0],
            )
        df = df.assign(**{status: s.where(s != cencode, 0)})
    cohort = prepare_cohort(
        df,
        time=time,
        status=status,
        strata=strata,
        group=group,
        missing=missing,
        causes=declared,
    )
    kept = cohort.rows
    res = cumulative_incidence(
        cohort.time,
        cohort.status,
        group=None if group is None else df[group].iloc[kept].to_numpy(),
        strata=None if strata is None else df[strata].iloc[kept].to_numpy(),
        rho=rho,
        times=tq,
        level=level_fraction(level),
        causes=declared,
    )
    if plot is not None:
        if cause is not None and cause not in res.causes:
            raise InputError(f"unknown cause; causes are {res.causes}", column="--cause")
        from drivervte.plots.cuminc import cumulative_incidence_plot

        cumulative_incidence_plot(res, plot, at_risk=True if tq else None, times=tq, cause=cause)
    if as_json:
        out = res.to_dict()
        out["cohort"] = {
            "n_input": cohort.n_input,
            "n_used": cohort.n,
            "excluded": cohort.excluded,
        }
        print_json(out)
        return
    out_console.print(res.summary(), markup=False)
    if cohort.excluded:
        out_console.print(
            f"{len(cohort.excluded)} of {cohort.n_input} rows excluded "
            f"(first: row {cohort.excluded[0]['row'] + 1}, {cohort.excluded[0]['reason']})",
            markup=False,
        )
    if plot is not None:
        out_console.print(f"wrote {plot}", markup=False)


def register(app: typer.Typer) -> None:
    app.command("cuminc")(cuminc_cmd)
