"""``drivervte meta``: meta-analysis of a table of studies (CSV or Parquet).

A thin layer over :func:`drivervte.meta.rma` and the functions around it. The input kind is
recognised from the column names (see :mod:`drivervte.effects.table`); ``study`` labels
rows. ``--json`` prints one object:

- every key of :meth:`drivervte.meta.result.MetaResult.to_dict` (``k, measure, method,
  test, estimate, se, ci_lower, ci_upper, pvalue, pi_lower, pi_upper, tau2, tau2_ci_lower,
  tau2_ci_upper, I2, I2_ci_lower, I2_ci_upper, H2, Q, Q_df, Q_pvalue, transformed,
  studies, moderators, excluded, warnings, ...``), on the model scale, I² in percent;
- ``bias`` with ``--bias``: ``{egger: EggerResult.to_dict(), begg:
  RankTestResult.to_dict(), trimfill: TrimFillResult.to_dict()}`` (``egger.t``,
  ``egger.pvalue``, ``begg.tau``, ``begg.pvalue``, ``trimfill.k0``, ``trimfill.side``,
  ``trimfill.estimate``, ``trimfill.tau2`` among them); a test that cannot run (k < 3, or a
  Mantel-Haenszel/Peto model) is ``{"error": "<reason>"}``;
- ``leave_one_out`` with ``--leave-one-out``: a list of ``{study, estimate, se, tau2, I2,
  Q, ...}``;
- ``subgroups`` with ``--subgroup COL``: ``{groups: {<value>: {k, estimate, ci_lower,
  ci_upper, tau2, I2, ...}}, Q_between, Q_between_df, Q_between_pvalue, ...}``;
- ``outputs``: the files written (forest / funnel plots).

Bad input exits with code 2 and a message naming the column and rows; nothing is written.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from drivervte.cli._common import (
    LEVEL_HELP,
    handles_input_errors,
    level_fraction,
    out_console,
    parse_list,
    print_json,
)
from drivervte.errors import InputError

if TYPE_CHECKING:  # pandas loads inside the command (start-up time)
    import pandas as pd

MEASURES = ("OR", "RR", "RD", "PLO", "PFT", "PR", "HR", "SHR", "IRR", "GEN")
METHODS = ("EE", "FE", "DL", "REML", "ML", "PM", "SJ", "HE", "EB", "HS", "MH", "PETO")
TESTS = ("z", "knha")
PLOT_SUFFIXES = (".svg", ".png")


def read_studies(path: Path) -> pd.DataFrame:
    """Read a studies table (CSV with ``,``/``;``/tab separators, TSV or Parquet)."""
    from drivervte.survival.cohort import read_table

    if not path.exists():
        raise InputError(f"file not found: {path}", column="FILE")
    return read_table(path)


def _choice(value: str | None, allowed: tuple[str, ...], option: str, *, upper: bool = True):
    if value is None:
        return None
    v = value.upper() if upper else value.lower()
    if v not in allowed:
        raise InputError(f"'{value}' is not one of {', '.join(allowed)}", column=option)
    return v


def _check_plot_path(path: Path | None, option: str) -> None:
    if path is None:
        return
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise InputError(f"'{path}' must end in .svg or .png", column=option)
    if not path.parent.is_dir():
        raise InputError(f"the directory {path.parent} does not exist; create it first",
                         column=option)


#: Measures each count-based method pools (metafor rma.mh / rma.peto).
_METHOD_MEASURES = {"MH": ("OR", "RR", "RD"), "PETO": ("OR", "PETO")}


class Skipped:
    """An optional analysis that could not run, with the reason (e.g. k < 3)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def to_dict(self) -> dict[str, str]:
        return {"error": self.reason}

    def summary(self) -> str:
        return f"not run: {self.reason}"


def _safe(label: str, func, *args, **kwargs) -> Any:
    """Run an optional analysis; an InputError becomes a :class:`Skipped` with its reason."""
    try:
        return func(*args, **kwargs)
    except InputError as exc:
        return Skipped(f"{label}: {exc.reason}")


def run_meta(
    table: pd.DataFrame,
    *,
    measure: str | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    mods: list[str] | None = None,
    subgroup: str | None = None,
    bias: bool = False,
    leave_one_out: bool = False,
    forest: Path | None = None,
    funnel: Path | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Fit the model and the requested extras: ``(MetaResult, {key: result object})``.

    Extras' keys are the JSON keys (``subgroups``, ``bias``, ``leave_one_out``,
    ``outputs``). Everything is computed before any file is written, so bad input writes
    nothing.
    """
    import numpy as np

    from drivervte.effects import from_table
    from drivervte.meta import rma, subgroup_analysis

    _check_plot_path(forest, "--forest")
    _check_plot_path(funnel, "--funnel")
    if method in _METHOD_MEASURES and measure is not None \
            and measure not in _METHOD_MEASURES[method]:
        raise InputError(f"{method} pools {' / '.join(_METHOD_MEASURES[method])} only, not "
                         f"{measure}; change --measure or --method", column="--measure")
    if mods and method in ("MH", "PETO"):
        raise InputError("moderators need an inverse-variance model; use --method REML (or "
                         "another tau² estimator) with --mods", column="--mods")
    res = rma(table, measure=measure, method=method, test=test, level=level,
              mods=mods or None)
    extras: dict[str, Any] = {}
    sub = None
    if subgroup is not None:
        if subgroup not in table.columns:
            raise InputError(f"subgroup column '{subgroup}' is not in the table; columns are: "
                             + ", ".join(map(str, table.columns)), column="--subgroup")
        es = from_table(table, measure=measure)
        rows = np.asarray(es.rows, int)
        groups = table[subgroup].iloc[rows]
        missing = np.flatnonzero(groups.isna().to_numpy())
        if missing.size:
            raise InputError("subgroup values are missing; fill them in",
                             column=subgroup, rows=rows[missing])
        # Subgroup models are inverse-variance models (MH/Peto have no tau²): REML then.
        sub_method = "REML" if method in ("MH", "PETO") else method
        sub = subgroup_analysis(es.yi, es.vi, groups.astype(str).to_numpy(),
                                method=sub_method, test=test, level=level,
                                study=list(es.study), measure=es.measure, ni=es.ni)
        extras["subgroups"] = sub
    if bias:
        extras["bias"] = {
            "egger": _safe("Egger's test", res.egger),
            "begg": _safe("rank test", res.begg),
            "trimfill": _safe("trim-and-fill", res.trimfill),
        }
    if leave_one_out:
        extras["leave_one_out"] = _safe("leave-one-out", res.leave_one_out)
    outputs = []
    if forest is not None:
        if sub is not None:
            res.forest(forest, subgroups=sub)
        else:
            res.forest(forest)
        outputs.append(str(forest))
    if funnel is not None:
        res.funnel(funnel)
        outputs.append(str(funnel))
    if outputs:
        extras["outputs"] = outputs
    return res, extras


def _reported(res: Any, extras: dict[str, Any]) -> set[str]:
    """Warnings already carried by the results (so they are not printed twice)."""
    objs = [res, extras.get("subgroups"), extras.get("leave_one_out"),
            *extras.get("bias", {}).values()]
    return {str(w) for o in objs if o is not None for w in (getattr(o, "warnings", None) or [])}


def _jsonify(extras: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, val in extras.items():
        if key == "bias":
            out[key] = {name: r.to_dict() for name, r in val.items()}
        elif key == "outputs":
            out[key] = list(val)
        else:
            out[key] = val.to_dict()
    return out


def register(app: typer.Typer) -> None:
    @app.command("meta")
    @handles_input_errors
    def meta_command(
        file: Path = typer.Argument(..., help="CSV (or Parquet) with one row per study.",
                                    show_default=False),
        measure: str = typer.Option(None, "--measure", help="OR|RR|RD|PLO|PFT|PR|HR|SHR|IRR|GEN "
                                    "(default: OR for 2x2 counts, PLO for events/total, GEN "
                                    "for yi/vi; required for estimate/lower/upper tables)."),
        method: str = typer.Option("REML", "--method",
                                   help="EE|DL|REML|ML|PM|SJ|HE|EB|MH|PETO"),
        test: str = typer.Option("z", "--test", help="z or knha (Knapp-Hartung)."),
        level: float = typer.Option(95.0, "--level", help=LEVEL_HELP),
        mods: str = typer.Option(None, "--mods", help="Moderator columns, comma-separated."),
        subgroup: str = typer.Option(None, "--subgroup", help="Column defining subgroups."),
        bias: bool = typer.Option(False, "--bias", help="Egger, Begg and trim-and-fill."),
        leave_one_out: bool = typer.Option(False, "--leave-one-out",
                                           help="Leave-one-out analysis."),
        forest: Path = typer.Option(None, "--forest", help="Write a forest plot (.svg/.png)."),
        funnel: Path = typer.Option(None, "--funnel", help="Write a funnel plot (.svg/.png)."),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Meta-analysis of FILE (metafor rma / rma.mh / rma.peto equivalents)."""
        m = _choice(measure, MEASURES, "--measure")
        meth = _choice(method, METHODS, "--method")
        tst = _choice(test, TESTS, "--test", upper=False)
        level = 100.0 * level_fraction(level)
        table = read_studies(file)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res, extras = run_meta(
                table, measure=m, method=meth, test=tst, level=level,
                mods=parse_list(mods, option="--mods"), subgroup=subgroup, bias=bias,
                leave_one_out=leave_one_out, forest=forest, funnel=funnel)
        reported = _reported(res, extras)
        text = "\n".join(reported)
        runtime_warnings = sorted(
            w for w in {str(c.message) for c in caught} - reported
            if not all(part in text for part in w.split("; ")))  # a join of reported ones
        if json_out:
            out = res.to_dict()
            out.update(_jsonify(extras))
            if runtime_warnings:
                out["warnings"] = list(out["warnings"]) + runtime_warnings
            print_json(out)
            return
        blocks = [res.summary()]
        blocks += [f"warning: {w}" for w in runtime_warnings]
        if "subgroups" in extras:
            blocks.append(extras["subgroups"].summary())
        for r in extras.get("bias", {}).values():
            blocks.append(r.summary())
        if "leave_one_out" in extras:
            blocks.append(extras["leave_one_out"].summary())
        blocks += [f"wrote {p}" for p in extras.get("outputs", [])]
        out_console.print("\n\n".join(blocks), markup=False)
