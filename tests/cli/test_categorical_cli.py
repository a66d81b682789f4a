"""``--categorical`` on finegray, cox and logistic, through the real entry point."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from drivervte.cli.main import app

runner = CliRunner()


@pytest.fixture
def csv(tmp_path):
    rng = np.random.default_rng(3)
    n = 250
    p = tmp_path / "c.csv"
    pd.DataFrame({"time": rng.exponential(10, n).round(2) + 0.01,
                  "status": rng.choice([0, 1, 2], n, p=[0.3, 0.4, 0.3]),
                  "stage": rng.integers(1, 4, n), "age": rng.normal(64, 9, n).round(),
                  "vte": rng.integers(0, 2, n)}).to_csv(p, index=False)
    return p


@pytest.mark.parametrize("cmd", [
    ["finegray", "--time", "time", "--status", "status"],
    ["cox", "--time", "time", "--status", "status"],
    ["logistic", "--outcome", "vte"],
])
def test_categorical_codes_dummies(csv, cmd):
    base = [cmd[0], str(csv), *cmd[1:], "--covariates", "stage,age", "--json"]
    r = runner.invoke(app, [*base, "--categorical", "stage", "--reference", "stage=2"])
    assert r.exit_code == 0, r.output
    coef = json.loads(r.stdout)["coef"]
    assert {"stage[T.1]", "stage[T.3]", "age"} <= set(coef) and "stage" not in coef
    r = runner.invoke(app, base)
    assert r.exit_code == 0, r.output
    assert "stage" in json.loads(r.stdout)["coef"]


def test_reference_on_numeric_column_points_to_the_option(csv):
    r = runner.invoke(app, ["cox", str(csv), "--time", "time", "--status", "status",
                            "--covariates", "stage,age", "--reference", "stage=2"])
    assert r.exit_code == 2
    assert "--categorical" in r.output


def test_finegray_profile_by_level_of_a_categorical_number(csv):
    r = runner.invoke(app, ["finegray", str(csv), "--time", "time", "--status", "status",
                            "--covariates", "stage,age", "--categorical", "stage",
                            "--times", "5", "--profile", "stage=3,age=60", "--json"])
    assert r.exit_code == 0, r.output
    vals = json.loads(r.stdout)["prediction"]["profiles"][0]["values"]
    assert vals == {"stage[T.2]": 0.0, "stage[T.3]": 1.0, "age": 60.0}
