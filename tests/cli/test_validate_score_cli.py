"""``drivervte validate-score`` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import load_reference
from drivervte.cli.main import app
from tolerances import RTOL_EXACT

runner = CliRunner()
REF = load_reference("riskregression_score")


@pytest.fixture(scope="module")
def cohort_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("validate") / "cohort.csv"
    pd.DataFrame(REF["data"]["cohort300"]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def khorana_parquet(tmp_path_factory) -> Path:
    rng = np.random.default_rng(3)
    n = 150
    df = pd.DataFrame({
        "site": "lung", "plt": rng.choice([200.0, 400.0], n),
        "haemoglobin_gL": rng.choice([90.0, 130.0], n),
        "leukocytes": rng.choice([6.0, 12.0], n), "bmi": 24.0,
        "months": np.round(rng.exponential(9, n), 1) + 0.1,
        "status": rng.choice([0, 1, 2], n, p=[0.3, 0.3, 0.4]),
    })
    path = tmp_path_factory.mktemp("validate") / "khorana.parquet"
    df.to_parquet(path)
    return path


def _run(*args):
    return runner.invoke(app, ["validate-score", *map(str, args)])


def test_json_auc_matches_score(cohort_csv):
    res = _run(cohort_csv, "--time", "time", "--status", "status", "--predicted", "pred",
               "--compare", "pred_gene", "--times", "3,6,12", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    case = next(c for c in REF["cases"] if c["name"] == "cohort300_pred")
    np.testing.assert_allclose([a["estimate"] for a in out["auc"]], case["auc"][0]["AUC"],
                               rtol=RTOL_EXACT)
    np.testing.assert_allclose([a["se"] for a in out["auc"]], case["auc"][0]["se"],
                               rtol=RTOL_EXACT)
    np.testing.assert_allclose([d["se"] for d in out["delta_auc"]],
                               case["contrasts"]["se"], rtol=RTOL_EXACT)
    assert out["n"] == 300 and out["events"]["1"] == 160 and out["disclaimer"]


def test_score_items_from_mapped_columns_with_units(khorana_parquet):
    res = _run(khorana_parquet, "--time", "months", "--status", "status", "--column",
               "platelets=plt", "--column", "hb=haemoglobin_gL", "--unit", "hb=g/L",
               "--times", "6", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["score"] == "khorana" and out["marker"] == "points"
    assert {r["expected"] for r in out["calibration"]} <= {0.038, 0.096, 0.177}


def test_text_output_and_deterministic_plots(cohort_csv, tmp_path):
    outs = []
    for k in range(2):
        plot = tmp_path / f"run{k}" / "cal.svg"
        plot.parent.mkdir()
        res = _run(cohort_csv, "--time", "time", "--status", "status", "--predicted", "pred",
                   "--plot", plot)
        assert res.exit_code == 0, res.output
        assert "Discrimination" in res.stdout and "Calibration" in res.stdout
        cif = plot.with_name("cal_cif.svg")
        assert plot.exists() and cif.exists()
        outs.append((plot.read_bytes(), cif.read_bytes()))
    assert outs[0] == outs[1]
    assert b"<svg" in outs[0][0] and b"Date" not in outs[0][0]


@pytest.mark.parametrize(("args", "needle"), [
    (["--time", "nope", "--status", "status", "--predicted", "pred"], "nope"),
    (["--time", "time", "--status", "status", "--predicted", "pred", "--times", "3,x"],
     "--times"),
    (["--time", "time", "--status", "status", "--predicted", "pred", "--plot", "a.txt"],
     "--plot"),
    (["--time", "time", "--status", "status", "--column", "oops"], "--column"),
    (["--time", "time", "--status", "status"], "no column for"),
])
def test_bad_input_exits_2(cohort_csv, args, needle):
    res = _run(cohort_csv, *args)
    assert res.exit_code == 2
    assert needle in res.output


def test_level_as_percent_equals_fraction(cohort_csv):
    outs = [json.loads(_run(cohort_csv, "--time", "time", "--status", "status", "--predicted",
                            "pred", "--times", "6", "--level", lv, "--json").stdout)
            for lv in ("90", "0.9")]
    assert outs[0]["auc"] == outs[1]["auc"] and outs[0]["level"] == 0.9


def test_bad_rows_are_named(cohort_csv, tmp_path):
    df = pd.read_csv(cohort_csv)
    df.loc[4, "pred"] = 7.0
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    res = _run(path, "--time", "time", "--status", "status", "--predicted", "pred")
    assert res.exit_code == 2
    assert "column 'pred', row 5" in res.output
