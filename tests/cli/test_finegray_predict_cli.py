"""``drivervte finegray --profile ... --times ...``: predicted cumulative incidence with CIs.

Through the real entry point: the ``prediction`` JSON block equals R ``survfit.coxph`` on
``survival::finegray`` data (``--predict-method survfit``) and the Python API (default
``influence``); bad profiles exit with code 2 naming the covariate.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import load_reference
from drivervte.cli.main import app
from drivervte.survival.finegray import FineGray
from tolerances import RTOL_ITER

REF = load_reference("survival_finegray_predict")
CASES = {c["name"]: c for c in REF["cases"]}
runner = CliRunner()


@pytest.fixture
def cont_csv(tmp_path):
    df = pd.DataFrame(REF["data"]["cont"]).assign(entry0=0.0)
    p = tmp_path / "cont.csv"
    df.to_csv(p, index=False, float_format="%.17g")
    return p


def _profiles(case):
    return [f"egfr={int(e)},age={a:.17g}" for e, a in case["profiles"]]


def _args(path, case, *extra):
    args = ["finegray", str(path), "--time", "time", "--status", "status",
            "--covariates", "egfr,age", "--times", ",".join(f"{t:.17g}" for t in case["times"])]
    for prof in _profiles(case):
        args += ["--profile", prof]
    return [*args, *extra, "--json"]


@pytest.mark.parametrize(("name", "extra"), [
    ("cont_robust", ["--entry", "entry0"]),
    ("cont_model", ["--variance", "model"]),
])
def test_prediction_json_equals_R_survfit(cont_csv, name, extra):
    case = CASES[name]
    r = runner.invoke(app, _args(cont_csv, case, *extra, "--predict-method", "survfit"))
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    pred = out["prediction"]
    assert pred["method"] == "survfit" and pred["times"] == case["times"]
    assert len(pred["profiles"]) == len(case["profiles"])
    for j, prof in enumerate(pred["profiles"]):
        assert prof["values"] == {"egfr": case["profiles"][j][0], "age": case["profiles"][j][1]}
        np.testing.assert_allclose(prof["cumhaz"], np.array(case["cumhaz"])[:, j],
                                   rtol=RTOL_ITER, atol=1e-15)
        np.testing.assert_allclose(prof["se_cumhaz"], np.array(case["std_err"])[:, j],
                                   rtol=RTOL_ITER, atol=1e-15)
        np.testing.assert_allclose(prof["ci_upper"], 1 - np.array(case["lower"])[:, j],
                                   rtol=RTOL_ITER, atol=1e-14)


def test_default_influence_equals_api(cont_csv):
    case = CASES["cont_model"]
    r = runner.invoke(app, _args(cont_csv, case))
    assert r.exit_code == 0, r.output
    pred = json.loads(r.stdout)["prediction"]
    assert pred["method"] == "influence" and pred["level"] == 0.95
    df = pd.read_csv(cont_csv)
    fg = FineGray().fit(df, time="time", status="status", covariates=["egfr", "age"])
    api = fg.predict(np.array(case["profiles"]), case["times"])
    np.testing.assert_allclose([p["se"] for p in pred["profiles"]], api.se.T, rtol=1e-12)
    np.testing.assert_allclose([p["cif"] for p in pred["profiles"]], api.estimate.T,
                               rtol=1e-12)


def test_without_profile_no_prediction_key(cont_csv):
    r = runner.invoke(app, ["finegray", str(cont_csv), "--time", "time", "--status", "status",
                            "--covariates", "egfr,age", "--json"])
    assert r.exit_code == 0, r.output
    assert "prediction" not in json.loads(r.stdout)


def test_text_output_has_prediction_table_and_disclaimer(cont_csv):
    r = runner.invoke(app, ["finegray", str(cont_csv), "--time", "time", "--status", "status",
                            "--covariates", "egfr,age", "--times", "5,10",
                            "--profile", "egfr=1,age=70"])
    assert r.exit_code == 0, r.output
    assert "Predicted cumulative incidence of cause 1" in r.stdout
    assert "Profile egfr=1, age=70" in r.stdout and "not a medical device" in r.stdout


@pytest.mark.parametrize(("extra", "needle"), [
    (["--times", "5", "--profile", "egfr=1"], "age"),
    (["--times", "5", "--profile", "egfr=1,age=70,kras=1"], "kras"),
    (["--times", "5", "--profile", "egfr=1;age=70"], "not a number"),
    (["--profile", "egfr=1,age=70"], "--times"),
    (["--times", "5"], "--profile"),
    (["--times", "5", "--profile", "egfr=1,age=70", "--predict-method", "boot"],
     "--predict-method"),
])
def test_bad_prediction_options_exit_2(cont_csv, extra, needle):
    r = runner.invoke(app, ["finegray", str(cont_csv), "--time", "time", "--status", "status",
                            "--covariates", "egfr,age", *extra])
    assert r.exit_code == 2, r.output
    assert needle in r.output


def test_categorical_level_in_profile_subprocess(tmp_path):
    rng = np.random.default_rng(4)
    n = 200
    df = pd.DataFrame({"time": rng.exponential(12, n).round(1) + 0.1,
                       "status": rng.choice([0, 1, 2], n, p=[0.4, 0.3, 0.3]),
                       "stage": rng.choice(["IIIB", "IVA", "IVB"], n)})
    p = tmp_path / "stage.csv"
    df.to_csv(p, index=False)
    proc = subprocess.run(
        [sys.executable, "-m", "drivervte.cli.main", "finegray", str(p), "--time", "time",
         "--status", "status", "--covariates", "stage", "--times", "6,12",
         "--profile", "stage=IIIB", "--profile", "stage=IVB", "--json"],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    pred = json.loads(proc.stdout)["prediction"]
    assert pred["profiles"][0]["values"] == {"stage[T.IVA]": 0.0, "stage[T.IVB]": 0.0}
    assert pred["profiles"][1]["values"] == {"stage[T.IVA]": 0.0, "stage[T.IVB]": 1.0}
