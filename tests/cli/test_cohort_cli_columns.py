"""``cox``, ``logistic`` and ``cuminc`` read only the columns they use (as ``finegray``,
see test_finegray_cli_columns.py): the same JSON from a wide file with junk in unused
columns, and a missing column still lists every column of the file."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from drivervte.cli.main import app

runner = CliRunner()

COMMANDS = {
    "cox": ["--time", "t", "--status", "s", "--covariates", "age,stage", "--strata", "site",
            "--weights", "w", "--reference", "stage=IVA"],
    "logistic": ["--outcome", "vte", "--covariates", "age,stage,grade", "--categorical", "grade"],
    "cuminc": ["--time", "t", "--status", "s", "--group", "egfr", "--strata", "site",
               "--times", "6,12"],
}


def _narrow(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(9)
    return pd.DataFrame({
        "t": np.ceil(rng.exponential(12, n)),
        "s": rng.choice([0, 1, 2], n, p=[0.4, 0.3, 0.3]),
        "age": rng.integers(35, 85, n),
        "egfr": rng.choice(["mut", "wt"], n),
        "stage": rng.choice(["IIIB", "IVA", "IVB"], n),
        "grade": rng.integers(1, 4, n),
        "site": rng.integers(1, 3, n),
        "w": rng.uniform(0.5, 2, n).round(3),
        "vte": rng.integers(0, 2, n),
    })


@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_wide_file_same_result_as_narrow(tmp_path, cmd):
    narrow = _narrow()
    wide = narrow.assign(
        id=[f"p{i}" for i in range(len(narrow))],
        mixed=["1"] * (len(narrow) - 1) + ["n/a?"],  # unused: text among numbers
    )
    narrow.to_csv(tmp_path / "narrow.csv", index=False)
    wide.to_csv(tmp_path / "wide.csv", index=False)
    args = [*COMMANDS[cmd], "--json"]
    a = runner.invoke(app, [cmd, str(tmp_path / "narrow.csv"), *args])
    b = runner.invoke(app, [cmd, str(tmp_path / "wide.csv"), *args])
    assert a.exit_code == 0 and b.exit_code == 0, (a.output, b.output)
    assert json.loads(a.stdout) == json.loads(b.stdout)


@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_missing_column_lists_the_file_columns(tmp_path, cmd):
    path = tmp_path / "c.csv"
    _narrow().assign(id=1).to_csv(path, index=False)
    args = [a.replace("stage", "kras") if a.startswith("age,") else a for a in COMMANDS[cmd]]
    if cmd == "cuminc":
        args = [a.replace("egfr", "kras") for a in args]
    r = runner.invoke(app, [cmd, str(path), *args])
    assert r.exit_code == 2, r.output
    assert "kras" in r.output and "'id'" in r.output
