"""``drivervte cox`` through the real entry point."""

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
from drivervte.survival.cox import CoxPH
from drivervte.survival.simulate import simulate_cohort

runner = CliRunner()


@pytest.fixture(scope="module")
def cohort_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cox") / "cohort.csv"
    simulate_cohort(500, seed=11).to_csv(path, index=False)
    return path


def _run(*args):
    return runner.invoke(app, ["cox", *map(str, args)])


def test_json_matches_the_api(cohort_csv):
    res = _run(cohort_csv, "--time", "time", "--status", "status", "--cause", "1",
               "--covariates", "age,egfr,stage", "--reference", "stage=I", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    df = pd.read_csv(cohort_csv)
    api = CoxPH().fit(df, time="time", status="status", covariates=["age", "egfr", "stage"],
                      reference={"stage": "I"}).result_  # fmt: skip
    assert set(out["coef"]) == set(api.names)  # print_json sorts keys
    np.testing.assert_allclose([out["coef"][k] for k in api.names], api.coef, rtol=1e-14)
    assert out["events"] == int((df["status"] == 1).sum())
    assert out["ties"] == "efron" and out["robust"] is False and out["se_robust"] is None


def test_options_strata_robust_breslow_parquet(cohort_csv, tmp_path):
    pq = tmp_path / "c.parquet"
    pd.read_csv(cohort_csv).to_parquet(pq)
    res = _run(pq, "--time", "time", "--status", "status", "--cause", "2", "--covariates",
               "age,kras", "--ties", "breslow", "--strata", "sex", "--robust", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["cause"] == 2 and out["ties"] == "breslow" and out["robust"] is True
    assert set(out["se_robust"]) == {"age", "kras"}


def test_text_summary_and_missing_exclude(cohort_csv, tmp_path):
    df = pd.read_csv(cohort_csv)
    df.loc[[4, 9], "age"] = np.nan
    path = tmp_path / "gaps.csv"
    df.to_csv(path, index=False)
    res = _run(path, "--time", "time", "--status", "status", "--covariates", "age,egfr")
    assert res.exit_code == 2
    assert "age" in res.output and "5, 10" in res.output
    res = _run(path, "--time", "time", "--status", "status", "--covariates", "age,egfr",
               "--missing", "exclude", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert [e["row"] for e in json.loads(res.stdout)["excluded"]] == [4, 9]
    res = _run(path, "--time", "time", "--status", "status", "--covariates", "egfr")
    assert res.exit_code == 0 and "Likelihood ratio test" in res.stdout


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--covariates", "nope"], "nope"),
        (["--covariates", "age", "--ties", "exact"], "ties"),
        (["--covariates", "age", "--reference", "stage"], "--reference"),
        (["--covariates", "age", "--cause", "7"], "status"),
    ],
)
def test_bad_input_exits_2(cohort_csv, extra, needle):
    res = _run(cohort_csv, "--time", "time", "--status", "status", *extra)
    assert res.exit_code == 2
    assert needle in res.output


def test_subprocess_entry_point(cohort_csv):
    proc = subprocess.run(
        [sys.executable, "-m", "drivervte.cli.main", "cox", str(cohort_csv), "--time", "time",
         "--status", "status", "--covariates", "age,alk", "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert set(json.loads(proc.stdout)["hr"]) == {"age", "alk"}


@pytest.fixture(scope="module")
def weighted_csv(tmp_path_factory) -> Path:
    df = simulate_cohort(300, seed=5)
    df["ipw"] = np.round(np.linspace(0.5, 2.5, len(df)), 3)  # non-integer weights
    df["iw"] = 1 + np.arange(len(df)) % 3  # integer weights
    path = tmp_path_factory.mktemp("coxw") / "w.csv"
    df.to_csv(path, index=False)
    return path


def test_robust_default_follows_coxph(weighted_csv):
    """Defect A2: non-integer --weights give coxph's default robust variance, with a note."""
    base = [weighted_csv, "--time", "time", "--status", "status", "--covariates", "age,egfr"]
    auto = json.loads(_run(*base, "--weights", "ipw", "--json").stdout)
    assert auto["robust"] is True and auto["variance"] == "robust"
    assert "non-integer" in auto["variance_reason"]
    assert any("not all integers" in w for w in auto["warnings"])
    assert auto["se"] == auto["se_robust"]
    off = json.loads(_run(*base, "--weights", "ipw", "--no-robust", "--json").stdout)
    assert off["robust"] is False and off["se_robust"] is None
    assert off["variance_reason"] == "robust=False"
    np.testing.assert_allclose(off["se"]["age"], auto["se_naive"]["age"], rtol=1e-12)
    assert abs(off["se"]["age"] / auto["se"]["age"] - 1) > 1e-3
    forced = json.loads(_run(*base, "--weights", "ipw", "--robust", "--json").stdout)
    assert forced["robust"] is True and forced["variance_reason"] == "robust=True"
    assert forced["se"] == auto["se"]
    integer = json.loads(_run(*base, "--weights", "iw", "--json").stdout)
    assert integer["robust"] is False and integer["variance"] == "model"
    text = _run(*base, "--weights", "ipw")
    assert text.exit_code == 0 and "robust se" in text.stdout
    assert "variance: robust (non-integer case weights" in text.stdout


def test_cluster_with_no_robust_warns_on_stderr(weighted_csv):
    proc = subprocess.run(
        [sys.executable, "-m", "drivervte.cli.main", "cox", str(weighted_csv), "--time", "time",
         "--status", "status", "--covariates", "age", "--cluster", "sex", "--no-robust",
         "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["robust"] is False and out["n_clusters"] is None
    assert "warning: cluster specified with robust=False, cluster ignored" in proc.stderr
    assert "UserWarning" not in proc.stderr and ".py:" not in proc.stderr
