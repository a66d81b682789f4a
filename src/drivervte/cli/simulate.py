"""``drivervte simulate``: write a synthetic NSCLC cohort (CSV or Parquet).

``drivervte simulate --n N --seed S --out cohort.csv [--setting east_asian|western]
[--left-truncation] [--json]``

The model and its parameter sources are in :mod:`drivervte.survival.simulate`. The file
type follows the extension (``.csv``, ``.csv.gz``, ``.parquet``); anything else exits with
code 2 before anything is written. The file is written to a temporary name and renamed,
so a failed write leaves no partial file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from drivervte.cli._common import handles_input_errors, out_console, print_json
from drivervte.errors import InputError


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    raise InputError("output must end in .csv, .csv.gz or .parquet", column="--out")


@handles_input_errors
def simulate_cmd(
    n: Annotated[int, typer.Option("--n", help="Number of patients.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same file).")],
    out: Annotated[Path, typer.Option("--out", help="Output file: .csv or .parquet.")],
    setting: Annotated[
        str, typer.Option("--setting", help="east_asian or western (driver prevalence).")
    ] = "east_asian",
    left_truncation: Annotated[
        bool, typer.Option("--left-truncation", help="Delayed entry (adds an 'entry' column).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Simulate a synthetic NSCLC cohort with driver genes, VTE and death."""
    from drivervte.survival.simulate import simulate_cohort  # lazy: keeps start-up fast

    kind = _kind(out)
    if not out.parent.exists():
        raise InputError(f"directory {out.parent} does not exist", column="--out")
    df = simulate_cohort(n, seed, setting, left_truncation=left_truncation)  # type: ignore[arg-type]
    tmp = out.with_name(out.name + ".part")
    try:
        if kind == "csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    summary = {
        "path": str(out),
        "n": len(df),
        "seed": seed,
        "setting": setting,
        "events": {str(k): int(v) for k, v in df["status"].value_counts().sort_index().items()},
        "genes": {str(k): int(v) for k, v in df["gene"].value_counts().sort_index().items()},
    }
    if as_json:
        print_json(summary)
    else:
        out_console.print(
            f"wrote {len(df)} patients ({setting}, seed {seed}) to {out}; status counts "
            f"(0 censored, 1 VTE, 2 death): {summary['events']}",
            markup=False,
        )


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate_cmd)
