"""``drivervte logistic``: logistic regression for a binary outcome (R ``glm``; Firth option).

``drivervte logistic FILE --outcome COL --covariates a,b [--firth] [--reference col=level,...] [--categorical COLS]
[--missing error|exclude] [--level 0.95] [--json] [--table NAME]``

The outcome column holds 0/1 (or true/false). ``--json`` prints
:meth:`drivervte.survival.logistic.LogisticResult.to_dict`; perfect separation is reported
in ``separation``/``separated``/``warnings`` (refit with ``--firth``). Bad input exits with
code 2, naming the column and rows. Warnings go to stderr as ``warning: ...`` lines (and are
in the output's ``warnings``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from drivervte.cli._common import (
    CategoricalOpt,
    CovariatesOpt,
    JsonOpt,
    LevelOpt,
    MissingOpt,
    ReferenceOpt,
    TableOpt,
    handles_input_errors,
    level_fraction,
    parse_covariates,
    parse_list,
    parse_reference,
)
from drivervte.cli._warnings import capture_warnings, emit_result


@handles_input_errors
def logistic_cmd(
    file: Annotated[Path, typer.Argument(help="Table: .csv, .parquet or .duckdb.")],
    outcome: Annotated[str, typer.Option("--outcome", help="Binary (0/1) outcome column.")],
    covariates: CovariatesOpt,
    firth: Annotated[
        bool, typer.Option("--firth", help="Firth's penalised likelihood (separation).")
    ] = False,
    reference: ReferenceOpt = None,
    categorical: CategoricalOpt = None,
    missing: MissingOpt = "error",
    level: LevelOpt = 0.95,
    as_json: JsonOpt = False,
    table: TableOpt = None,
) -> None:
    """Logistic regression: odds ratios with Wald CIs, LR test, separation check."""
    covs = parse_covariates(covariates)
    from drivervte.survival.cohort import read_table
    from drivervte.survival.logistic import Logistic

    model = Logistic(method="firth" if firth else "ml", level=level_fraction(level))
    with capture_warnings() as caught:
        ref = parse_reference(reference)
        cats = parse_list(categorical, option="--categorical")
        df = read_table(file, table=table, columns=[outcome, *covs, *ref, *cats])
        model.fit(df, outcome=outcome, covariates=covs, reference=ref, categorical=cats,
                  missing=missing)  # fmt: skip
    emit_result(model.result_, caught, as_json=as_json)


def register(app: typer.Typer) -> None:
    app.command("logistic")(logistic_cmd)
