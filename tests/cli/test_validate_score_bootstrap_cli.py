"""``drivervte validate-score --bootstrap B --seed S`` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import load_reference
from drivervte.cli.main import app

runner = CliRunner()
BOOT_KEYS = {"se_boot", "ci_lower", "ci_upper", "bootstrap", "bootstrap_failed"}


@pytest.fixture(scope="module")
def cohort_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("validate_boot") / "cohort.csv"
    pd.DataFrame(load_reference("riskregression_score")["data"]["cohort300"]).to_csv(
        path, index=False)
    return path


def _run(*args):
    return runner.invoke(app, ["validate-score", *map(str, args)])


def _base(path):
    return (path, "--time", "time", "--status", "status", "--predicted", "pred",
            "--compare", "pred_gene", "--times", "3,6")


def test_json_has_bootstrap_keys_and_the_seed_repeats_it(cohort_csv):
    a = _run(*_base(cohort_csv), "--bootstrap", 25, "--seed", 1, "--json")
    b = _run(*_base(cohort_csv), "--bootstrap", 25, "--seed", 1, "--json")
    assert a.exit_code == 0, a.output
    assert a.stdout == b.stdout
    out = json.loads(a.stdout)
    assert out["bootstrap"]["replicates"] == 25 and out["bootstrap"]["seed"] == 1
    for key in ("auc", "cindex", "nri"):
        for row in out[key]:
            assert BOOT_KEYS <= set(row) and row["bootstrap"] == 25
            assert row["ci_lower"] <= row["ci_upper"] and row["se_boot"] > 0
    plain = json.loads(_run(*_base(cohort_csv), "--json").stdout)
    assert "bootstrap" not in plain and not (BOOT_KEYS & set(plain["cindex"][0]))
    assert [c["estimate"] for c in plain["cindex"]] == [c["estimate"] for c in out["cindex"]]


def test_summary_shows_the_interval_next_to_c_and_nri(cohort_csv):
    res = _run(*_base(cohort_csv), "--bootstrap", 20, "--seed", 3, "--level", 90)
    assert res.exit_code == 0, res.output
    assert "C 90% CI*" in res.stdout and "90% CI*" in res.stdout.split("Net reclass")[1]
    assert "20 resamples of the patients (seed 3)" in res.stdout
    assert "only 20 bootstrap resamples" in res.stdout


@pytest.mark.parametrize("value", ["-1", "1"])
def test_bad_bootstrap_exits_2_naming_the_option(cohort_csv, value):
    res = _run(*_base(cohort_csv), "--bootstrap", value)
    assert res.exit_code == 2
    assert "option --bootstrap" in res.output


def test_non_integer_bootstrap_and_bad_seed_exit_2(cohort_csv):
    res = _run(*_base(cohort_csv), "--bootstrap", "2.5")
    assert res.exit_code == 2 and "--bootstrap" in res.output
    res = _run(*_base(cohort_csv), "--bootstrap", "10", "--seed", "-4")
    assert res.exit_code == 2 and "option --seed" in res.output


def test_help_mentions_bootstrap_and_seed():
    res = runner.invoke(app, ["validate-score", "--help"])
    assert res.exit_code == 0
    assert "--bootstrap" in res.output and "--seed" in res.output
