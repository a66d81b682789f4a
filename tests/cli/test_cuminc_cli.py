"""``drivervte cuminc`` through the real entry point."""

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
from drivervte.survival.cuminc import cumulative_incidence
from drivervte.survival.simulate import simulate_cohort

runner = CliRunner()


@pytest.fixture(scope="module")
def cohort_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cuminc") / "cohort.csv"
    simulate_cohort(600, seed=4).to_csv(path, index=False)
    return path


def _run(*args):
    return runner.invoke(app, ["cuminc", *map(str, args)])


def test_json_matches_the_api(cohort_csv):
    res = _run(cohort_csv, "--time", "time", "--status", "status", "--group", "gene",
               "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    df = pd.read_csv(cohort_csv)
    api = cumulative_incidence(df["time"], df["status"], group=df["gene"]).to_dict()
    assert set(out["groups"]) == {"ALK", "EGFR", "KRAS", "ROS1", "none"}
    for g in out["groups"]:
        for c in ("1", "2"):
            np.testing.assert_allclose(
                out["groups"][g][c]["estimate"], api["groups"][g][c]["estimate"], rtol=1e-15
            )
    assert out["gray_test"]["1"]["df"] == 4
    assert out["gray_test"]["1"]["statistic"] == pytest.approx(
        api["gray_test"]["1"]["statistic"], rel=1e-14
    )
    assert out["cohort"] == {"n_input": 600, "n_used": 600, "excluded": []}


def test_times_parquet_and_plot(cohort_csv, tmp_path):
    pq = tmp_path / "cohort.parquet"
    pd.read_csv(cohort_csv).to_parquet(pq)
    svg = tmp_path / "cif.svg"
    res = _run(pq, "--time", "time", "--status", "status", "--group", "stage",
               "--strata", "sex", "--rho", "1", "--times", "6,12,24", "--json", "--plot", svg)  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["groups"]["IV"]["1"]["times"] == [6.0, 12.0, 24.0]
    assert out["rho"] == 1.0 and out["n_strata"] == 2
    assert svg.exists() and "<svg" in svg.read_text()[:2000]


def test_text_summary(cohort_csv):
    res = _run(cohort_csv, "--time", "time", "--status", "status", "--times", "12")
    assert res.exit_code == 0, res.output
    assert "Cumulative incidence, cause 1" in res.stdout
    assert "Gray" not in res.stdout  # a single group: no test


def test_missing_exclude_reports_rows(tmp_path):
    df = pd.DataFrame({"t": [1, 2, 3, None, 5], "s": [1, 0, 2, 1, 1], "g": list("ababa")})
    path = tmp_path / "gaps.csv"
    df.to_csv(path, index=False)
    res = _run(path, "--time", "t", "--status", "s", "--json")
    assert res.exit_code == 2
    assert "'t'" in res.stderr and "row 4" in res.stderr
    res = _run(path, "--time", "t", "--status", "s", "--missing", "exclude", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["cohort"]["excluded"] == [
        {"row": 3, "reason": "missing value in 't'"}
    ]


def test_cencode(tmp_path):
    df = pd.DataFrame({"t": [1, 2, 2, 3, 4], "s": [1, 2, 9, 1, 9]})
    path = tmp_path / "c9.csv"
    df.to_csv(path, index=False)
    res = _run(path, "--time", "t", "--status", "s", "--cencode", "9", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert set(out["groups"]["1"]) == {"1", "2"}
    api = cumulative_incidence(df["t"], df["s"], cencode=9).to_dict()
    assert out["groups"]["1"]["1"]["estimate"] == api["groups"]["1"]["1"]["estimate"]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--time", "nope", "--status", "status"], "nope"),
        (["--time", "time", "--status", "status", "--times", "6,x"], "--times"),
        (["--time", "time", "--status", "status", "--plot", "out.txt"], "--plot"),
        (["--time", "time", "--status", "status", "--level", "2"], "level"),
    ],
)
def test_bad_options_exit_2(cohort_csv, extra, needle):
    res = _run(cohort_csv, *extra)
    assert res.exit_code == 2
    assert needle in res.stderr


def test_negative_time_exit_2_and_nothing_written(tmp_path):
    path = tmp_path / "neg.csv"
    pd.DataFrame({"t": [1, -2, 3], "s": [1, 0, 1], "g": ["a", "b", "a"]}).to_csv(path, index=False)
    svg = tmp_path / "never.svg"
    res = _run(path, "--time", "t", "--status", "s", "--group", "g", "--plot", svg)
    assert res.exit_code == 2
    assert "row 2" in res.stderr and "negative" in res.stderr
    assert not svg.exists()


def test_missing_file_exit_2(tmp_path):
    res = _run(tmp_path / "absent.csv", "--time", "t", "--status", "s")
    assert res.exit_code == 2


def test_console_script(cohort_csv):
    exe = Path(sys.executable).with_name("drivervte")
    proc = subprocess.run(
        [str(exe), "cuminc", str(cohort_csv), "--time", "time", "--status", "status",
         "--group", "alk", "--times", "12", "--json"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out["groups"]) == {"0", "1"}
    assert 0 <= out["gray_test"]["1"]["pvalue"] <= 1


def test_duckdb_table(cohort_csv, tmp_path):
    import duckdb

    db = tmp_path / "cohort.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(f"CREATE TABLE pts AS SELECT * FROM read_csv_auto('{cohort_csv}')")
    res = _run(db, "--table", "pts", "--time", "time", "--status", "status", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["cohort"]["n_used"] == 600
    res = _run(db, "--time", "time", "--status", "status")
    assert res.exit_code == 2 and "table" in res.stderr
