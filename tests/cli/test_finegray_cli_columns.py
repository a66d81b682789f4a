"""``drivervte finegray`` reads only the columns it uses: same result on a wide file, and the
errors still name what is wrong (a missing column lists every column of the file)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from drivervte.cli.main import app

runner = CliRunner()
ARGS = ["--time", "t", "--status", "s", "--covariates", "age,egfr,stage", "--json"]


def _narrow(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "t": np.ceil(rng.exponential(12, n)),
            "s": rng.choice([0, 1, 2], n, p=[0.4, 0.3, 0.3]),
            "age": rng.integers(35, 85, n),
            "egfr": rng.choice(["mut", "wt"], n),
            "stage": rng.choice(["IIIB", "IVA", "IVB"], n),
        }
    )


def _run(path) -> dict:
    r = runner.invoke(app, ["finegray", str(path), *ARGS])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_wide_file_same_result_as_narrow(tmp_path):
    narrow = _narrow()
    wide = narrow.assign(
        id=[f"p{i}" for i in range(len(narrow))],
        note=['said "no", then yes'] * len(narrow),  # quoted commas in an unused column
        mixed=["1"] * (len(narrow) - 1) + ["n/a?"],  # unused: text among numbers
    )[["id", "note", "t", "mixed", "s", "age", "egfr", "stage"]]
    narrow.to_csv(tmp_path / "narrow.csv", index=False)
    wide.to_csv(tmp_path / "wide.csv", index=False)
    wide.to_parquet(tmp_path / "wide.parquet")
    ref = _run(tmp_path / "narrow.csv")
    assert ref["converged"] and ref["n"] == 200
    assert _run(tmp_path / "wide.csv") == ref
    assert _run(tmp_path / "wide.parquet") == ref


def test_missing_column_lists_the_file_columns(tmp_path):
    path = tmp_path / "wide.csv"
    _narrow().assign(id=1).to_csv(path, index=False)
    r = runner.invoke(app, ["finegray", str(path), "--time", "t", "--status", "s",
                            "--covariates", "age,kras"])  # fmt: skip
    assert r.exit_code == 2
    assert "kras" in r.output and "'id'" in r.output  # the full list, not only the ones asked


def test_bad_value_in_used_column_names_rows(tmp_path):
    df = _narrow()
    df["t"] = df["t"].astype(object)
    df.loc[[3, 8], "t"] = -1.0
    path = tmp_path / "neg.csv"
    df.assign(id=1).to_csv(path, index=False)
    r = runner.invoke(app, ["finegray", str(path), *ARGS])
    assert r.exit_code == 2
    assert "negative" in r.output and "4, 9" in r.output  # rows shown 1-based


def test_cengroup_entry_and_reference_columns_are_read(tmp_path):
    narrow = _narrow()
    narrow["site"] = np.arange(len(narrow)) % 2
    narrow["e"] = np.where(np.arange(len(narrow)) % 3 == 0, 0.5, 0.0)  # t >= 1
    narrow.to_csv(tmp_path / "narrow.csv", index=False)
    narrow.assign(id=1, note="x")[["id", *narrow.columns, "note"]].to_csv(
        tmp_path / "wide.csv", index=False
    )
    extra = ["--reference", "stage=IVA"]
    for opts in (["--cengroup", "site"], ["--entry", "e"]):
        got = [
            runner.invoke(app, ["finegray", str(tmp_path / f), *ARGS, *opts, *extra])
            for f in ("narrow.csv", "wide.csv")
        ]
        assert got[0].exit_code == 0, got[0].output
        assert json.loads(got[1].stdout) == json.loads(got[0].stdout)
        assert "stage[T.IIIB]" in json.loads(got[0].stdout)["coef"]  # reference IVA honoured
    # a reference for a column that exists but is not a covariate: the same error as before
    r = runner.invoke(app, ["finegray", str(tmp_path / "wide.csv"), *ARGS, "--reference", "id=1"])
    assert r.exit_code == 2 and "not in covariates" in r.output
