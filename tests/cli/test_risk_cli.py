"""`drivervte risk` through the real entry point."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from drivervte.cli.main import app

runner = CliRunner()
PATIENT = ["--site", "lung", "--platelets", "380", "--hb", "98g/L", "--leukocytes", "12",
           "--bmi", "36"]


def test_one_patient_json_keys_and_values():
    res = runner.invoke(app, ["risk", "--score", "khorana", *PATIENT, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert {"score", "points", "points_range", "group", "items", "missing", "risk",
            "gene_adjusted", "disclaimer"} <= set(out)
    assert out["score"] == "khorana" and out["points"] == 5 and out["group"] == "high"
    assert out["items"]["hb_or_esa"]["value"]["hb"] == pytest.approx(9.8)
    assert out["risk"]["estimate"] == 0.177 and out["risk"]["horizon_months"] == 6.0
    assert "not a medical device" in out["disclaimer"]


def test_gene_adjusted(tmp_path):
    res = runner.invoke(app, ["risk", *PATIENT, "--gene", "ALK", "--db",
                              str(tmp_path / "e.duckdb"), "--json"])
    assert res.exit_code == 0, res.output
    g = json.loads(res.stdout)["gene_adjusted"]
    assert g["gene"] == "ALK" and g["lower"] < g["estimate"] < g["upper"]
    assert g["estimate"] > 0.177 and g["assumptions"]


def test_missing_items_reported():
    res = runner.invoke(app, ["risk", "--site", "lung", "--platelets", "380", "--bmi", "22",
                              "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["points"] is None and out["points_range"] == [2, 4]
    assert sorted(out["missing"]) == ["hb_or_esa", "leukocytes"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--score", "caprini", *PATIENT], "available"),
        (["--site", "mars", "--platelets", "380"], "accepted"),
        (["--site", "lung", "--platelets", "380000"], "--platelets"),
        (["--site", "lung", "--hb", "6mmol/L"], "--hb"),
        (["--site", "lung", "--gene", "BRAF"], "EGFR, ALK, ROS1, KRAS"),
    ],
)
def test_bad_input_exit_2(args, needle):
    res = runner.invoke(app, ["risk", *args])
    assert res.exit_code == 2, res.output
    assert needle in res.output.replace("\n", " ")


def test_table_keeps_every_row_and_adds_columns(tmp_path):
    df = pd.DataFrame({"id": [1, 2, 3], "site": ["lung", "pancreas", "lung"],
                       "platelets": [380, 200, 150], "haemoglobin": [98, 130, 140],
                       "leukocytes": [12, 7, None], "bmi": [36, 22, 25], "esa": [0, 0, 1]})
    path = tmp_path / "patients.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "scored.csv"
    res = runner.invoke(app, ["risk", str(path), "--column", "hb=haemoglobin", "--unit",
                              "hb=g/L", "--out", str(out)])
    assert res.exit_code == 0, res.output
    scored = pd.read_csv(out)
    assert list(scored["id"]) == [1, 2, 3]
    assert scored.loc[0, "points"] == 5 and scored.loc[1, "points"] == 2
    assert pd.isna(scored.loc[2, "points"]) and scored.loc[2, "missing"] == "leukocytes"
    assert (scored.loc[2, "points_min"], scored.loc[2, "points_max"]) == (2, 3)


def test_table_bad_row_names_row_and_column(tmp_path):
    path = tmp_path / "p.csv"
    pd.DataFrame({"site": ["lung", "lung"], "platelets": [380, 380000], "hb": [9, 9],
                  "leukocytes": [5, 5], "bmi": [20, 20]}).to_csv(path, index=False)
    out = tmp_path / "o.csv"
    res = runner.invoke(app, ["risk", str(path), "--out", str(out)])
    assert res.exit_code == 2
    assert "platelets" in res.output and "row 2" in res.output
    assert not out.exists()


def test_console_script():
    exe = shutil.which("drivervte", path=str(Path(sys.executable).parent))
    proc = subprocess.run([exe, "risk", *PATIENT], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "not a medical device" in proc.stdout
