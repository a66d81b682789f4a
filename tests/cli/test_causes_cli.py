"""``--causes`` on ``drivervte cuminc``, ``finegray`` and ``cox``, through the real entry point.

Unknown status codes with ``--causes`` exit with code 2 naming the status column and the
data rows (1-based: data row 1 is the first row under the CSV header); without ``--causes``
the behaviour is unchanged (an unexpected code is one more competing cause); a declared
cause without events is allowed; ``--cause`` must be one of ``--causes``.
"""

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
from drivervte.survival.simulate import simulate_cohort

runner = CliRunner()
STRAY = [3, 40]  # 0-based positions of the stray code 3: data rows 4 and 41
COMMANDS = {
    "cuminc": ["--group", "egfr"],
    "finegray": ["--covariates", "egfr,age"],
    "cox": ["--covariates", "egfr,age"],
}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("causes")
    clean = simulate_cohort(250, seed=11)
    stray = clean.copy()
    stray.loc[STRAY, "status"] = 3  # a typo in a 0/1/2 column
    gaps = stray.copy()
    gaps["age"] = gaps["age"].astype(float)
    gaps.loc[[0, 1], "age"] = np.nan  # excluded with --missing exclude, before the stray rows
    out = {"clean": clean, "stray": stray, "gaps": gaps}
    out["stray_as_2"] = stray.replace({"status": {3: 2}})
    out["stray_as_0"] = stray.replace({"status": {3: 0}})
    paths = {}
    for name, df in out.items():
        paths[name] = d / f"{name}.csv"
        df.to_csv(paths[name], index=False)
    return paths


def _run(cmd: str, path: Path, *extra: str):
    args = [cmd, str(path), "--time", "time", "--status", "status", *COMMANDS[cmd], *extra]
    return runner.invoke(app, args)


def _json(res) -> dict:
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


@pytest.mark.parametrize("cmd", list(COMMANDS))
def test_unknown_code_exits_2_naming_column_and_rows(files, cmd):
    res = _run(cmd, files["stray"], "--causes", "1,2", "--json")
    assert res.exit_code == 2
    assert "error: column 'status', rows 4, 41: unknown status codes [3]" in res.output
    assert "expected 0 (censored) or one of [1, 2]" in res.output
    assert "{" not in res.stdout  # no JSON written on bad input


@pytest.mark.parametrize("cmd", list(COMMANDS))
def test_rows_are_data_rows_after_exclusions(files, cmd):
    res = _run(cmd, files["gaps"], "--causes", "1,2", "--missing", "exclude",
               *(["--covariates", "age"] if cmd != "cuminc" else []))  # fmt: skip
    assert res.exit_code == 2
    assert "rows 4, 41:" in res.output


def test_without_causes_behaviour_is_unchanged(files):
    """The stray code stays one more competing cause: cuminc shows a cause 3, finegray
    equals the fit with 3 recoded to the competing 2, cox the fit with 3 censored."""
    out = _json(_run("cuminc", files["stray"], "--json"))
    assert set(out["groups"]["1"]) == {"1", "2", "3"}
    fg = _json(_run("finegray", files["stray"], "--json"))
    assert fg == _json(_run("finegray", files["stray_as_2"], "--json"))
    cox = _json(_run("cox", files["stray"], "--json"))
    assert cox == _json(_run("cox", files["stray_as_0"], "--json"))


@pytest.mark.parametrize("cmd", ["finegray", "cox"])
def test_declared_cause_without_events_changes_nothing(files, cmd):
    a = _json(_run(cmd, files["clean"], "--json"))
    b = _json(_run(cmd, files["clean"], "--causes", "1,2,5", "--json"))
    assert a == b
    assert a["coef"]["egfr"] != 0  # a real fit, not an empty object


def test_cuminc_declared_cause_without_events_is_a_zero_curve(files):
    a = _json(_run("cuminc", files["clean"], "--times", "6,12", "--json"))
    b = _json(_run("cuminc", files["clean"], "--times", "6,12", "--causes", "2,1,5", "--json"))
    for g in ("0", "1"):
        assert b["groups"][g]["1"] == a["groups"][g]["1"]
        assert b["groups"][g]["2"] == a["groups"][g]["2"]
        assert b["groups"][g]["5"]["estimate"] == [0.0, 0.0]
    assert b["gray_test"]["1"] == a["gray_test"]["1"]
    assert b["gray_test"]["5"]["pvalue"] is None
    assert "Gray's test, cause 5: no events of cause 5; the test is undefined" in b["warnings"]
    assert a["groups"]["0"]["1"]["estimate"][1] > 0


def test_cuminc_other_censoring_code(files, tmp_path):
    df = pd.read_csv(files["clean"])
    path0, path = tmp_path / "c0.csv", tmp_path / "c9.csv"
    df.to_csv(path0, index=False)  # both written from one frame: identical times
    df.replace({"status": {0: 9}}).to_csv(path, index=False)
    a = _json(_run("cuminc", path0, "--causes", "1,2", "--json"))
    b = _json(_run("cuminc", path, "--cencode", "9", "--causes", "1,2", "--json"))
    assert a == b
    res = _run("cuminc", path, "--cencode", "9", "--causes", "1,9")
    assert res.exit_code == 2 and "option --causes: 9 is the censoring code" in res.output


@pytest.mark.parametrize("cmd", list(COMMANDS))
def test_cause_outside_causes_is_an_error(files, cmd):
    res = _run(cmd, files["clean"], "--cause", "3", "--causes", "1,2")
    assert res.exit_code == 2
    assert "option --cause: cause 3 is not one of the declared causes [1, 2]" in res.output


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("1,x", "option --causes: 'x' is not an integer status code"),
        ("1,,2", "option --causes: empty item"),
        ("0,1", "option --causes: 0 is the censoring code"),
        ("-1,1", "option --causes: cause codes must be non-negative integers"),
    ],
)
def test_bad_causes_option(files, value, needle):
    res = _run("finegray", files["clean"], "--causes", value)
    assert res.exit_code == 2
    assert needle in res.output


@pytest.mark.parametrize("cmd", list(COMMANDS))
def test_help_documents_the_option(cmd):
    res = runner.invoke(app, [cmd, "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    assert "--causes" in res.output
    assert "any other non-zero status code is an error" in " ".join(res.output.split())


def test_subprocess_entry_point(files):
    proc = subprocess.run(
        [sys.executable, "-m", "drivervte.cli.main", "cox", str(files["stray"]), "--time",
         "time", "--status", "status", "--covariates", "age", "--causes", "1,2"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "column 'status', rows 4, 41: unknown status codes [3]" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
