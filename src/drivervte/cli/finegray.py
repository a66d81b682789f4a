"""``drivervte finegray``: Fine-Gray subdistribution hazards regression (R ``cmprsk::crr``).

``drivervte finegray FILE --time COL --status COL --cause K --covariates a,b,c
[--cencode 0] [--cengroup COL] [--entry COL] [--reference col=level,...] [--categorical COLS]
[--missing error|exclude] [--level 0.95] [--variance sandwich|model] [--causes 1,2]
[--times 6,12,24 --profile egfr=1,age=65 [--profile ...] [--predict-method influence|survfit]]
[--json] [--table NAME]``

FILE is CSV, Parquet or DuckDB (``--table``), read by
:func:`drivervte.survival.cohort.read_table` and validated by
:func:`~drivervte.survival.cohort.prepare_cohort` (errors name the column and rows).
``--json`` prints :meth:`FineGrayResult.to_dict` (keys ``n, events, coef, se, hr,
ci_lower, ci_upper, pvalue, loglik, loglik_null, converged, iterations, se_model,
excluded, warnings``). Bad input exits with code 2.

Predicted cumulative incidence: ``--times`` with one ``--profile`` per covariate profile
(``col=value`` pairs for every covariate of the model; a categorical covariate by its level,
``stage=IVB``, or by its dummies ``stage[T.IVB]=1``) adds
:meth:`~drivervte.survival.finegray.FineGray.predict` at those times, with SEs and CIs at
``--level``: the JSON gets a ``prediction`` key holding
:meth:`~drivervte.survival.finegray_predict.CIFPrediction.to_dict` (``cause, times, level,
method, profiles: [{values, cif, se, ci_lower, ci_upper, cumhaz, se_cumhaz}], notes``);
without ``--profile`` there is no ``prediction`` key. ``--predict-method influence`` (default)
includes the estimated censoring weights; ``survfit`` is R ``survfit.coxph`` on
``survival::finegray`` data.

Status codes: ``--cencode`` is censoring, ``--cause`` the event; by default every other code
is a competing cause (as ``crr``). ``--causes 1,2`` declares the causes: any other code is
then an error naming the status column and the data rows (1-based), ``--cause`` must be one
of them, and a declared cause without events is allowed.

Warnings (non-convergence, e.g. a separated covariate) never reach Python's raw
``file.py:123: ConvergenceWarning: ...`` printer: they are caught and written to stderr as
``warning: <message>`` lines. With ``--json`` every entry of the result's ``warnings`` is
written that way (stdout holds only the JSON); in text output they are in the summary, and
stderr gets only warnings the result does not already carry (those are also appended to
the JSON ``warnings``).
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
    parse_floats,
    parse_list,
    parse_pairs,
    parse_reference,
)
from drivervte.cli._warnings import capture_warnings, emit_result
from drivervte.errors import InputError


@handles_input_errors
def finegray_cmd(
    file: CohortFileArg,
    time: Annotated[str, typer.Option("--time", help="Follow-up time column.")],
    status: Annotated[str, typer.Option("--status", help="Status column (codes).")],
    covariates: CovariatesOpt,
    cause: Annotated[int, typer.Option("--cause", help="Status code of the event.")] = 1,
    cencode: Annotated[int, typer.Option("--cencode", help="Status code of censoring.")] = 0,
    cengroup: Annotated[
        str | None,
        typer.Option("--cengroup", help="Column of groups with separate censoring KMs."),
    ] = None,
    entry: Annotated[
        str | None, typer.Option("--entry", help="Delayed-entry (left truncation) column.")
    ] = None,
    reference: ReferenceOpt = None,
    categorical: CategoricalOpt = None,
    missing: MissingOpt = "error",
    level: LevelOpt = 0.95,
    variance: Annotated[
        str, typer.Option("--variance", help="'sandwich' (crr's var, default) or 'model'.")
    ] = "sandwich",
    as_json: JsonOpt = False,
    table: TableOpt = None,
    causes: CausesOpt = None,
    times: Annotated[
        str | None,
        typer.Option("--times", help="Predict the cumulative incidence at these times "
                     "(with --profile), e.g. 6,12,24."),
    ] = None,
    profile: Annotated[
        list[str] | None,
        typer.Option("--profile", help="A covariate profile to predict for, col=value,... "
                     "(every covariate; repeat the option for more profiles)."),
    ] = None,
    predict_method: Annotated[
        str,
        typer.Option("--predict-method", help="'influence' (default; includes the estimated "
                     "censoring weights) or 'survfit' (R survfit.coxph on finegray data)."),
    ] = "influence",
) -> None:
    """Fine-Gray regression for one cause (cmprsk::crr), linear in the number of rows."""
    check_missing(missing)
    level = level_fraction(level)
    covs = parse_covariates(covariates)
    declared = parse_causes(causes, cause=cause, cencode=cencode)
    pred_times, profiles = _prediction_options(times, profile, predict_method)
    from drivervte.survival.cohort import read_table
    from drivervte.survival.finegray import FineGray

    fg = FineGray(cause=cause, cencode=cencode, variance=variance, level=level)
    with capture_warnings() as caught:
        ref = parse_reference(reference) or None
        # only the columns the model uses: a wide CSV is parsed in those columns only
        cats = parse_list(categorical, option="--categorical")
        used = [time, status, *covs, *(c for c in (cengroup, entry) if c), *(ref or {}), *cats]
        df = read_table(file, table=table, columns=used)
        fg.fit(
            df,
            time=time,
            status=status,
            covariates=covs,
            cengroup=cengroup,
            entry=entry,
            reference=ref,
            categorical=cats,
            missing=missing,
            causes=declared,
        )
    res = fg.result_
    # FineGray warns "FineGray: a; b" for reasons a, b that the result already carries
    joined = "; ".join(res.warnings)
    caught = [w for w in caught if str(w.message).removeprefix("FineGray: ") not in joined]
    pred = None
    if profiles:
        if not res.converged:
            raise InputError("the model did not converge: no predictions (see the warnings)",
                             column="--profile")
        pred = fg.predict(profiles, pred_times, level=level, method=predict_method)
    emit_result(res, caught, as_json=as_json, extra=pred, key="prediction")


def _prediction_options(times: str | None, profile: list[str] | None, method: str):
    """``--times``/``--profile``/``--predict-method`` -> (times, [{col: value}]) or (None, [])."""
    if method not in ("influence", "survfit"):
        raise InputError("must be 'influence' or 'survfit'", column="--predict-method")
    tq = parse_floats(times, option="--times")
    if not profile:
        if tq:
            raise InputError("--times predicts for covariate profiles: give at least one "
                             "--profile col=value,...", column="--profile")
        return None, []
    if not tq:
        raise InputError("--profile needs --times (the times to predict at, e.g. 6,12,24)",
                         column="--times")
    if any(not x >= 0 for x in tq):
        raise InputError("times must be >= 0", column="--times")
    profiles = []
    for text in profile:
        prof: dict[str, float | str] = {}
        for col, value in parse_pairs(text, option="--profile",
                                      what="value (profiles are col=value,...)"):
            if col in prof:
                raise InputError(f"'{col}' is given twice in the profile '{text}'",
                                 column="--profile")
            try:
                prof[col] = float(value)
            except ValueError:
                prof[col] = value  # a level of a categorical covariate
        profiles.append(prof)
    return tq, profiles


def register(app: typer.Typer) -> None:
    app.command("finegray", help="Fine-Gray subdistribution hazards regression (cmprsk::crr).")(
        finegray_cmd
    )
