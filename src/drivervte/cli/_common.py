"""Helpers shared by the CLI commands: error handling, JSON output, list parsing."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from drivervte.errors import InputError
from drivervte.results import jsonable

F = TypeVar("F", bound=Callable[..., Any])

err_console = Console(stderr=True, highlight=False, soft_wrap=True)  # paths never broken
out_console = Console(highlight=False, soft_wrap=True)

EXIT_INPUT = 2


def fail(message: str, code: int = EXIT_INPUT) -> None:
    """Print an error to stderr and exit with ``code`` (2 for bad input)."""
    err_console.print(f"[bold red]error:[/] {message}", markup=True)
    raise typer.Exit(code)


def handles_input_errors(func: F) -> F:
    """Turn :class:`InputError` (and file-not-found) into a message and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            fail(str(exc))
        except FileNotFoundError as exc:
            fail(f"file not found: {exc.filename or exc}")

    return wrapper  # type: ignore[return-value]


def print_json(obj: Any) -> None:
    """Print one JSON object (sorted keys, NaN as null) to stdout."""
    # Keys in construction order (coefficients in model order); deterministic all the same.
    sys.stdout.write(json.dumps(jsonable(obj), indent=2, allow_nan=False))
    sys.stdout.write("\n")


def parse_list(text: str | None, *, option: str) -> list[str]:
    """Parse 'a,b,c' into ['a', 'b', 'c']; empty or None gives []."""
    if text is None or not text.strip():
        return []
    items = [t.strip() for t in text.split(",")]
    if any(not t for t in items):
        raise InputError(f"empty item in '{text}'; give a comma-separated list", column=option)
    return items


def parse_floats(text: str | None, *, option: str) -> list[float]:
    """Parse '6,12,24' into floats, naming the option on error."""
    out = []
    for t in parse_list(text, option=option):
        try:
            out.append(float(t))
        except ValueError:
            raise InputError(f"'{t}' is not a number", column=option) from None
    return out


LEVEL_HELP = "Confidence level: 0.95 or 95 (both mean 95%)."


def level_fraction(value: float, *, option: str = "--level") -> float:
    """A confidence level given as 0.95 or 95 -> 0.95 (metafor's rule: values < 1 are
    proportions, values >= 1 percentages). Every command accepts both spellings; levels
    below 50% are refused as a likely typo."""
    v = float(value)
    frac = v if v < 1 else round(v / 100.0, 12)  # 99.9 -> 0.999, not 0.9990000000000001
    if not (0.5 <= frac < 1.0):
        raise InputError(f"{value:g} is not a usable confidence level; give e.g. 0.95 or 95 "
                         "(between 50% and 100%)", column=option)
    return frac


def parse_pairs(text: str | None, *, option: str, what: str = "value") -> list[tuple[str, str]]:
    """Parse 'a=1,b=x' into [('a', '1'), ('b', 'x')] (blanks stripped), naming the option
    and the item that is not ``col=<what>``."""
    out = []
    for item in parse_list(text, option=option):
        col, sep, value = item.partition("=")
        if not sep or not col.strip() or not value.strip():
            raise InputError(f"'{item}' is not col={what}", column=option)
        out.append((col.strip(), value.strip()))
    return out


def parse_reference(text: str | None, *, option: str = "--reference") -> dict[str, str]:
    """Parse 'gene=WT,stage=I' into {'gene': 'WT', 'stage': 'I'} (reference levels)."""
    return dict(parse_pairs(text, option=option, what="level"))


# Options shared by the cohort commands (cuminc, finegray, cox, logistic, validate-score):
# one declaration each, so that they read and behave the same everywhere.
CohortFileArg = Annotated[Path, typer.Argument(help="Cohort table: .csv, .parquet or .duckdb.")]
CovariatesOpt = Annotated[str, typer.Option("--covariates", help="Comma-separated columns.")]
ReferenceOpt = Annotated[
    str | None, typer.Option("--reference", help="Reference levels: col=level,...")]
CategoricalOpt = Annotated[
    str | None,
    typer.Option("--categorical", help="Numeric covariate columns to code as categories "
                 "(treatment dummies), e.g. a stage coded 1-4: comma-separated."),
]
MissingOpt = Annotated[
    str, typer.Option("--missing", help="'error' (default) or 'exclude' rows with gaps.")]
LevelOpt = Annotated[float, typer.Option("--level", help=LEVEL_HELP)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
TableOpt = Annotated[str | None, typer.Option("--table", help="Table name inside a DuckDB file.")]
CAUSES_HELP = (
    "Allowed cause codes (comma-separated); any other non-zero status code is an error. "
    "Default: every non-zero code present is a cause."
)
CausesOpt = Annotated[str | None, typer.Option("--causes", help=CAUSES_HELP)]


def parse_covariates(text: str) -> list[str]:
    """``--covariates a,b,c`` -> ``['a', 'b', 'c']``; at least one is required."""
    covs = parse_list(text, option="--covariates")
    if not covs:
        raise InputError("give at least one covariate", column="--covariates")
    return covs


def check_missing(value: str) -> str:
    """``--missing``: ``error`` (default) or ``exclude``."""
    if value not in ("error", "exclude"):
        raise InputError("must be 'error' or 'exclude'", column="--missing")
    return value


def parse_causes(
    text: str | None, *, cause: int | str | None = None, cencode: int = 0
) -> list[int] | None:
    """``--causes 1,2`` -> ``[1, 2]`` (sorted, distinct); not given or empty -> None.

    Each item must be an integer code, not the censoring code (``--cencode``). When the
    command has a ``--cause`` (the event of interest, or the cause to plot), it must be one
    of the declared causes; the error then names ``--cause``. The codes are then passed as
    ``causes=`` to the API (see :mod:`drivervte.survival.causes`), which refuses any other
    status code, naming the status column and the rows.
    """
    items = parse_list(text, option="--causes")
    if not items:
        return None
    codes = []
    for t in items:
        try:
            codes.append(int(t))
        except ValueError:
            raise InputError(f"'{t}' is not an integer status code", column="--causes") from None
    if isinstance(cause, str):
        try:
            cause = int(cause)
        except ValueError:
            raise InputError(
                f"'{cause}' is not a status code of --causes {codes}", column="--cause"
            ) from None
    from drivervte.survival.causes import normalize_causes

    return normalize_causes(
        codes, cause=cause, cencode=cencode, column="--causes", cause_column="--cause"
    )
