"""``drivervte logistic`` through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from drivervte.cli.main import app
from drivervte.survival.logistic import Logistic
from drivervte.survival.simulate import simulate_cohort

runner = CliRunner()


@pytest.fixture(scope="module")
def table_csv(tmp_path_factory) -> Path:
    df = simulate_cohort(400, seed=12)
    df["vte"] = (df["status"] == 1).astype(int)
    path = tmp_path_factory.mktemp("logit") / "t.csv"
    df.to_csv(path, index=False)
    return path


def _run(*args):
    return runner.invoke(app, ["logistic", *map(str, args)])


def test_json_matches_the_api(table_csv):
    res = _run(table_csv, "--outcome", "vte", "--covariates", "age,gene",
               "--reference", "gene=none", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    api = Logistic().fit(pd.read_csv(table_csv), outcome="vte", covariates=["age", "gene"],
                         reference={"gene": "none"}).result_  # fmt: skip
    np.testing.assert_allclose([out["coef"][k] for k in api.names], api.coef, rtol=1e-12)
    assert out["method"] == "ml" and "(Intercept)" in out["or"]


def test_separation_and_firth(tmp_path):
    path = tmp_path / "sep.csv"
    pd.DataFrame({"vte": [1, 1, 1, 0, 1, 0, 0, 0, 1, 0], "alk": [1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
                  "age": [50, 61, 72, 58, 66, 70, 45, 62, 59, 68]}).to_csv(path, index=False)  # fmt: skip
    res = _run(path, "--outcome", "vte", "--covariates", "alk,age", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["separation"] is True and out["separated"] == ["alk"]
    assert out["converged"] is False and out["pvalue"]["alk"] is None
    res = _run(path, "--outcome", "vte", "--covariates", "alk,age", "--firth")
    assert res.exit_code == 0, res.output
    assert "Firth" in res.stdout


@pytest.mark.parametrize(
    "extra, needle",
    [(["--outcome", "nope", "--covariates", "age"], "nope"),
     (["--outcome", "status", "--covariates", "age"], "status"),
     (["--outcome", "vte", "--covariates", ""], "--covariates"),
     (["--outcome", "vte", "--covariates", "age,alk,gene"], "linear combination")],
)  # fmt: skip
def test_bad_input_exits_2(table_csv, extra, needle):
    res = _run(table_csv, *extra)
    assert res.exit_code == 2
    assert needle in res.output


def test_subprocess_entry_point(table_csv):
    proc = subprocess.run(
        [sys.executable, "-m", "drivervte.cli.main", "logistic", str(table_csv), "--outcome",
         "vte", "--covariates", "age,egfr", "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert set(json.loads(proc.stdout)["coef"]) == {"(Intercept)", "age", "egfr"}
