"""``drivervte finegray``: JSON keys, agreement with crr through the CLI, exit code 2 on bad input."""

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
from tolerances import RTOL_ITER, RTOL_SE

REF = load_reference("cmprsk_crr")
CASE = next(c for c in REF["cases"] if c["name"] == "sim_cause1")
KEYS = {
    "n",
    "events",
    "coef",
    "se",
    "hr",
    "ci_lower",
    "ci_upper",
    "pvalue",
    "loglik",
    "loglik_null",
    "converged",
    "iterations",
    "se_model",
    "excluded",
    "warnings",
}
runner = CliRunner()


def _table() -> pd.DataFrame:
    d = pd.DataFrame(REF["data"]["sim"])
    stage = np.where(d.st_iva == 1, "IVA", np.where(d.st_ivb == 1, "IVB", "IIIB"))
    return pd.DataFrame(
        {
            "months": d.time,
            "status": d.status.astype(int),
            "egfr": np.where(d.egfr == 1, "mut", "wt"),
            "alk": d.alk.astype(int),
            "age": d.age,
            "stage": stage,
            "site": d.site.astype(int),
        }
    )


@pytest.fixture
def csv_path(tmp_path):
    p = tmp_path / "cohort.csv"
    _table().to_csv(p, index=False)
    return p


NAMES = ["egfr", "alk", "age", "stage[T.IVA]", "stage[T.IVB]"]
ARGS = [
    "--time",
    "months",
    "--status",
    "status",
    "--covariates",
    "egfr,alk,age,stage",
    "--reference",
    "stage=IIIB",
]


def test_json_keys_and_crr_agreement(csv_path):
    r = runner.invoke(app, ["finegray", str(csv_path), *ARGS, "--cause", "1", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert set(out) == KEYS
    assert set(out["coef"]) == set(NAMES)  # print_json sorts keys
    names = NAMES
    np.testing.assert_allclose([out["coef"][k] for k in names], CASE["coef"], rtol=RTOL_ITER)
    se = np.sqrt(np.diag(np.array(CASE["var"])))
    np.testing.assert_allclose([out["se"][k] for k in names], se, rtol=RTOL_SE)
    assert out["converged"] is True and out["n"] == 300 and out["excluded"] == []
    np.testing.assert_allclose(out["loglik"], CASE["loglik"], rtol=RTOL_ITER)


def test_cengroup_and_cause2(csv_path):
    case = next(c for c in REF["cases"] if c["name"] == "sim_cengroup_cause2")
    r = runner.invoke(
        app, ["finegray", str(csv_path), *ARGS, "--cause", "2", "--cengroup", "site", "--json"]
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    np.testing.assert_allclose([out["coef"][k] for k in NAMES], case["coef"], rtol=RTOL_ITER)


def test_summary_text(csv_path):
    r = runner.invoke(app, ["finegray", str(csv_path), *ARGS])
    assert r.exit_code == 0, r.output
    assert "Competing Risks Regression" in r.stdout
    assert "stage[T.IVB]" in r.stdout and "Pseudo Log-likelihood" in r.stdout


def test_unknown_column_exit_2(csv_path):
    r = runner.invoke(
        app,
        [
            "finegray",
            str(csv_path),
            "--time",
            "months",
            "--status",
            "status",
            "--covariates",
            "egfr,kras",
        ],
    )
    assert r.exit_code == 2
    assert "kras" in r.output


def test_missing_values_named_then_excluded(tmp_path):
    df = _table()
    df.loc[[4, 9], "age"] = np.nan
    p = tmp_path / "gaps.csv"
    df.to_csv(p, index=False)
    r = runner.invoke(app, ["finegray", str(p), *ARGS])
    assert r.exit_code == 2
    assert "age" in r.output and "5, 10" in r.output  # rows shown 1-based
    r = runner.invoke(app, ["finegray", str(p), *ARGS, "--missing", "exclude", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [e["row"] for e in out["excluded"]] == [4, 9]
    assert out["n"] == 298


def test_no_event_of_cause_exit_2(csv_path):
    r = runner.invoke(app, ["finegray", str(csv_path), *ARGS, "--cause", "7"])
    assert r.exit_code == 2
    assert "no events of cause 7" in r.output


def test_subprocess_parquet(tmp_path):
    p = tmp_path / "cohort.parquet"
    _table().to_parquet(p)
    proc = subprocess.run(
        [sys.executable, "-m", "drivervte.cli.main", "finegray", str(p), *ARGS, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    np.testing.assert_allclose([out["coef"][k] for k in NAMES], CASE["coef"], rtol=RTOL_ITER)


def test_entry_option_matches_finegray_coxph(tmp_path):
    case = next(c for c in REF["cases"] if c["name"] == "sim_fg_entry")
    df = _table().assign(entry=REF["data"]["sim"]["entry"])
    p = tmp_path / "entry.csv"
    df.to_csv(p, index=False)
    r = runner.invoke(app, ["finegray", str(p), *ARGS, "--entry", "entry", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    np.testing.assert_allclose([out["coef"][k] for k in NAMES], case["coef"], rtol=RTOL_ITER)
    se = np.sqrt(np.diag(np.array(case["var_robust"])))
    np.testing.assert_allclose([out["se"][k] for k in NAMES], se, rtol=RTOL_SE)


def test_cencode_option(tmp_path):
    df = _table()
    df["status"] = df["status"].where(df["status"] != 0, 9)
    p = tmp_path / "c9.csv"
    df.to_csv(p, index=False)
    r = runner.invoke(app, ["finegray", str(p), *ARGS, "--cencode", "9", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    np.testing.assert_allclose([out["coef"][k] for k in NAMES], CASE["coef"], rtol=RTOL_ITER)


def test_separated_data_prints_clean_warning_lines(tmp_path):
    """A covariate with no events in one level: no raw 'file.py:N: ConvergenceWarning'
    line on stderr, only 'warning: ...' lines; the JSON carries the message once."""
    rng = np.random.default_rng(1)
    n = 200
    x = rng.integers(0, 2, n)
    s = rng.integers(0, 3, n)
    s[(x == 1) & (s == 1)] = 2
    p = tmp_path / "sep.csv"
    pd.DataFrame(
        {"time": rng.exponential(10, n), "status": s, "x": x, "age": rng.normal(60, 8, n)}
    ).to_csv(p, index=False)
    base = [
        sys.executable,
        "-m",
        "drivervte.cli.main",
        "finegray",
        str(p),
        "--time",
        "time",
        "--status",
        "status",
        "--covariates",
        "x,age",
    ]
    for extra in (["--json"], []):
        proc = subprocess.run(
            [*base, *extra], capture_output=True, text=True, timeout=120, check=False
        )
        assert proc.returncode == 0, proc.stderr
        assert "ConvergenceWarning" not in proc.stderr and ".py:" not in proc.stderr
        assert all(line.startswith("warning: ") for line in proc.stderr.splitlines())
        if extra:
            out = json.loads(proc.stdout)
            assert out["converged"] is False
            assert len(out["warnings"]) == 1 and "monotone likelihood" in out["warnings"][0]
            assert proc.stderr == f"warning: {out['warnings'][0]}\n"
        else:
            assert "NOT CONVERGED: monotone likelihood" in proc.stdout


def test_entry_with_tied_times_cause2_matches_finegray_coxph(tmp_path):
    case = next(c for c in REF["cases"] if c["name"] == "lt_ties_death")
    p = tmp_path / "lt.csv"
    pd.DataFrame(REF["data"]["lt_ties"]).to_csv(p, index=False)
    r = runner.invoke(
        app,
        [
            "finegray",
            str(p),
            "--time",
            "time",
            "--status",
            "status",
            "--covariates",
            ",".join(case["covariates"]),
            "--entry",
            "entry",
            "--cause",
            "2",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    names = case["covariates"]
    np.testing.assert_allclose([out["coef"][k] for k in names], case["coef"], rtol=RTOL_ITER)
    se = np.sqrt(np.diag(np.array(case["var_robust"])))
    np.testing.assert_allclose([out["se"][k] for k in names], se, rtol=RTOL_SE)
