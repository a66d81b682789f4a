"""``drivervte validate-score``: validate a VTE risk score on a cohort with competing risks.

``drivervte validate-score FILE --time COL --status COL [--score khorana] [--cause 1]
[--times 3,6,12] [--column ITEM=COL ...] [--unit ITEM=UNIT ...] [--predicted COL]
[--compare COL] [--gene-column COL] [--nri-cutoffs 0.05,0.1] [--groups 4] [--level 0.95]
[--bootstrap B] [--seed S] [--json] [--plot out.svg] [--table NAME]``

FILE is CSV, Parquet or DuckDB (``--table``). Reports the time-dependent AUC with competing
risks (as ``riskRegression::Score``), Wolbers' C-index, observed vs expected cumulative
incidence per risk group, and with ``--gene-column`` or ``--compare`` the AUC difference and
NRI (see :func:`drivervte.scores.validation.validate_score`). ``--json`` prints
:meth:`ValidationResult.to_dict`. ``--plot out.svg`` writes the calibration plot there and
the cumulative incidence by risk group to ``out_cif.svg``. ``--bootstrap 200 --seed 1``
adds bootstrap SEs and percentile intervals (at ``--level``) to the C-index, the NRI and
the AUC: B resamples of the patients, censoring weights and estimates recomputed in each
(:mod:`drivervte.scores.validation_bootstrap`); the same seed gives the same output. Bad
input exits with code 2 naming the column and rows (or the option).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from drivervte.cli._common import (
    CohortFileArg,
    JsonOpt,
    LevelOpt,
    TableOpt,
    handles_input_errors,
    level_fraction,
    out_console,
    parse_floats,
    print_json,
)
from drivervte.errors import InputError

PLOT_SUFFIXES = (".svg", ".png", ".pdf")


def _pairs(items: list[str] | None, option: str) -> dict[str, str]:
    out = {}
    for it in items or []:
        if "=" not in it:
            raise InputError(f"'{it}' is not ITEM=VALUE", column=option)
        k, v = it.split("=", 1)
        if not k.strip() or not v.strip():
            raise InputError(f"'{it}' is not ITEM=VALUE", column=option)
        out[k.strip()] = v.strip()
    return out


@handles_input_errors
def validate_score_cmd(
    file: CohortFileArg,
    time: Annotated[str, typer.Option("--time", help="Follow-up time column (months).")],
    status: Annotated[str, typer.Option("--status", help="Status: 0 censored, 1.. causes.")],
    score: Annotated[str, typer.Option("--score", help="khorana or vienna_cats.")] = "khorana",
    cause: Annotated[int, typer.Option("--cause", help="Status code of VTE.")] = 1,
    times: Annotated[str, typer.Option("--times", help="Horizons, e.g. 3,6,12.")] = "3,6,12",
    column: Annotated[list[str] | None, typer.Option(
        "--column", help="ITEM=COL: read a score item from another column.")] = None,
    unit: Annotated[list[str] | None, typer.Option(
        "--unit", help="ITEM=UNIT for plain-number item columns, e.g. hb=g/L.")] = None,
    predicted: Annotated[str | None, typer.Option(
        "--predicted", help="Column of predicted risks (0-1) to validate instead.")] = None,
    compare: Annotated[str | None, typer.Option(
        "--compare", help="Second predicted-risk column to compare with.")] = None,
    gene_column: Annotated[str | None, typer.Option(
        "--gene-column", help="Driver gene column: compare the gene-adjusted risk.")] = None,
    nri_cutoffs: Annotated[str, typer.Option(
        "--nri-cutoffs", help="Risk cut-offs of the category NRI.")] = "0.05,0.1",
    groups: Annotated[int, typer.Option(
        "--groups", help="Calibration groups (quantiles) with --predicted.")] = 4,
    level: LevelOpt = 0.95,
    bootstrap: Annotated[int, typer.Option(
        "--bootstrap", help="Bootstrap resamples of the patients for SEs and percentile "
        "intervals of C, NRI and AUC (0: none; e.g. 200, 1000 for reported intervals).")] = 0,
    seed: Annotated[int | None, typer.Option(
        "--seed", help="Random seed of the bootstrap (same seed, same output).")] = None,
    as_json: JsonOpt = False,
    plot: Annotated[Path | None, typer.Option(
        "--plot", help="Calibration plot (.svg/.png/.pdf); CIF plot beside it.")] = None,
    table: TableOpt = None,
) -> None:
    """Validate a risk score: AUC (riskRegression::Score), Wolbers' C, calibration, NRI;
    --bootstrap B for bootstrap intervals of C and NRI."""
    from drivervte.scores.validation import validate_score
    from drivervte.scores.validation_bootstrap import check_bootstrap_options
    from drivervte.survival.cohort import read_table

    tq = parse_floats(times, option="--times")
    cuts = parse_floats(nri_cutoffs, option="--nri-cutoffs") or None
    if plot is not None and plot.suffix.lower() not in PLOT_SUFFIXES:
        raise InputError(f"plot file must end in {', '.join(PLOT_SUFFIXES)}", column="--plot")
    if groups < 1:
        raise InputError("must be at least 1", column="--groups")
    check_bootstrap_options(bootstrap, seed, ("--bootstrap", "--seed"))
    df = read_table(file, table=table)
    res = validate_score(
        df, time=time, status=status, score=score, cause=cause, times=tq,
        column_map=_pairs(column, "--column"), units=_pairs(unit, "--unit"),
        predicted=predicted, gene_column=gene_column, compare=compare, nri_cutoffs=cuts,
        n_groups=groups, level=level_fraction(level), bootstrap=bootstrap, seed=seed,
    )
    written = []
    if plot is not None:
        from drivervte.scores.validation_plot import write_validation_plots

        written = write_validation_plots(res, plot)
    if as_json:
        print_json(res.to_dict())
        return
    out_console.print(res.summary(), markup=False)
    for p in written:
        out_console.print(f"wrote {p}", markup=False)


def register(app: typer.Typer) -> None:
    app.command("validate-score")(validate_score_cmd)
