"""`drivervte meta` end to end: a user's CSV in, metafor's numbers out (fixture: metafor_cli)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import load_reference
from drivervte.cli.main import app
from tolerances import RTOL_ITER, RTOL_QPROFILE, RTOL_SE

DATA = Path(__file__).parent / "data" / "bcg.csv"
runner = CliRunner()

# The stable JSON interface: these keys must always be present.
REQUIRED_KEYS = {
    "k", "measure", "method", "test", "estimate", "se", "ci_lower", "ci_upper", "pvalue",
    "pi_lower", "pi_upper", "tau2", "tau2_ci_lower", "tau2_ci_upper", "I2", "I2_ci_lower",
    "I2_ci_upper", "H2", "Q", "Q_df", "Q_pvalue", "transformed", "studies",
}


def run_json(*args: str) -> dict:
    result = runner.invoke(app, ["meta", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def ref() -> dict:
    return load_reference("metafor_cli")["cases"]


def test_reml_knha_matches_metafor(ref):
    r = ref["reml_knha"]
    out = run_json(str(DATA), "--measure", "RR", "--method", "REML", "--test", "knha")
    assert REQUIRED_KEYS <= set(out)
    assert out["k"] == 13 and out["measure"] == "RR" and out["test"] == "knha"
    for key in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "tau2", "I2", "H2",
                "Q"):
        np.testing.assert_allclose(out[key], r[key], rtol=RTOL_ITER, err_msg=key)
    np.testing.assert_allclose(out["se"], r["se"], rtol=RTOL_SE)
    np.testing.assert_allclose(out["pvalue"], r["pvalue"], rtol=RTOL_SE)
    for key in ("tau2_ci_lower", "tau2_ci_upper", "I2_ci_lower", "I2_ci_upper"):
        np.testing.assert_allclose(out[key], r[key], rtol=RTOL_QPROFILE, err_msg=key)
    np.testing.assert_allclose([s["yi"] for s in out["studies"]], r["yi"], rtol=1e-12)
    np.testing.assert_allclose([s["weight"] for s in out["studies"]], r["weights"],
                               rtol=RTOL_ITER)
    np.testing.assert_allclose(out["transformed"]["estimate"], np.exp(r["estimate"]),
                               rtol=RTOL_ITER)
    assert out["studies"][0]["study"] == "Aronson 1948"


def test_bias_and_leave_one_out_match_metafor(ref):
    r = ref["reml_knha"]
    out = run_json(str(DATA), "--measure", "RR", "--test", "knha", "--bias", "--leave-one-out")
    bias = out["bias"]
    np.testing.assert_allclose(bias["egger"]["t"], r["egger_t"], rtol=RTOL_ITER)
    np.testing.assert_allclose(bias["egger"]["pvalue"], r["egger_p"], rtol=RTOL_ITER)
    np.testing.assert_allclose(bias["begg"]["tau"], r["begg_tau"], rtol=1e-12)
    np.testing.assert_allclose(bias["begg"]["pvalue"], r["begg_p"], rtol=1e-10)
    assert bias["trimfill"]["k0"] == r["trimfill_k0"]
    assert bias["trimfill"]["side"] == r["trimfill_side"]
    np.testing.assert_allclose(bias["trimfill"]["estimate"], r["trimfill_estimate"],
                               rtol=RTOL_ITER)
    np.testing.assert_allclose(bias["trimfill"]["tau2"], r["trimfill_tau2"], rtol=RTOL_ITER)
    loo = out["leave_one_out"]
    assert len(loo) == 13
    np.testing.assert_allclose([row["estimate"] for row in loo], r["loo_estimate"],
                               rtol=RTOL_ITER)
    np.testing.assert_allclose([row["tau2"] for row in loo], r["loo_tau2"], rtol=RTOL_ITER)
    np.testing.assert_allclose([row["Q"] for row in loo], r["loo_Q"], rtol=RTOL_ITER)


def test_moderator_matches_metafor(ref):
    r = ref["mods_ablat"]
    out = run_json(str(DATA), "--measure", "RR", "--test", "knha", "--mods", "ablat")
    mods = out["moderators"]
    assert mods["names"] == ["intrcpt", "ablat"]
    np.testing.assert_allclose(mods["coef"], r["coef"], rtol=RTOL_ITER)
    np.testing.assert_allclose(mods["se"], r["se"], rtol=RTOL_SE)
    np.testing.assert_allclose(mods["QM"], r["QM"], rtol=RTOL_ITER)
    np.testing.assert_allclose(mods["R2"], r["R2"], rtol=RTOL_ITER)


def test_subgroups_match_metafor(ref):
    r = ref["subgroup_region"]
    out = run_json(str(DATA), "--measure", "RR", "--test", "knha", "--subgroup", "region")
    sg = out["subgroups"]
    assert set(sg["groups"]) == set(r["groups"])
    for name, g in r["groups"].items():
        mine = sg["groups"][name]
        assert mine["k"] == g["k"]
        for key in ("estimate", "ci_lower", "ci_upper", "tau2", "I2"):
            np.testing.assert_allclose(mine[key], g[key], rtol=RTOL_ITER, err_msg=key)
    np.testing.assert_allclose(sg["Q_between"], r["Q_between"], rtol=RTOL_ITER)
    assert sg["Q_between_df"] == r["Q_between_df"]


def test_mantel_haenszel_matches_metafor(ref):
    r = ref["mh_rr"]
    out = run_json(str(DATA), "--measure", "RR", "--method", "MH")
    for key in ("estimate", "se", "ci_lower", "ci_upper", "Q", "I2"):
        np.testing.assert_allclose(out[key], r[key], rtol=1e-10, err_msg=key)


def test_plots_written(tmp_path):
    forest, funnel = tmp_path / "f.svg", tmp_path / "fu.png"
    out = run_json(str(DATA), "--measure", "RR", "--subgroup", "region",
                   "--forest", str(forest), "--funnel", str(funnel))
    assert out["outputs"] == [str(forest), str(funnel)]
    assert "Aronson 1948" in forest.read_text()
    assert funnel.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_human_output_has_summary_and_disclaimer_free_numbers():
    result = runner.invoke(app, ["meta", str(DATA), "--measure", "RR"])
    assert result.exit_code == 0, result.output
    assert "REML meta-analysis, measure RR, k = 13" in result.stdout
    assert "tau^2 = 0.3132" in result.stdout  # metafor: tau^2 (estimated amount) = 0.3132


@pytest.mark.parametrize(
    ("content", "args", "needle"),
    [
        ("study,ai,bi,ci,di\nA,-1,10,2,10\nB,1,10,2,10\n", [], "ai"),
        ("study,xi,ni\nA,12,10\nB,1,10\n", [], "row 1"),
        ("study,ai,bi,ci,di\nA,x,10,2,10\nB,1,10,2,10\n", [], "ai"),
        ("study,yi,vi\nA,0.1,0\nB,0.2,0.1\n", [], "vi"),
        ("study,estimate,lower,upper\nA,2.0,3.0,1.0\nB,1.5,1.1,2.0\n", ["--measure", "OR"],
         "lower"),
        ("study,foo,bar\nA,1,2\n", [], "recognised"),
        ("study,yi,vi\nA,0.1,0.01\nB,0.2,0.1\n", ["--method", "XYZ"], "--method"),
        ("study,yi,vi\nA,0.1,0.01\nB,0.2,0.1\n", ["--mods", "nope"], "nope"),
    ],
)
def test_bad_input_exits_2_and_names_the_problem(tmp_path, content, args, needle):
    path = tmp_path / "studies.csv"
    path.write_text(content)
    forest = tmp_path / "forest.svg"
    result = runner.invoke(app, ["meta", str(path), *args, "--forest", str(forest)])
    assert result.exit_code == 2, result.output
    assert needle.lower() in result.output.lower()
    assert not forest.exists()


def test_missing_file_exits_2(tmp_path):
    result = runner.invoke(app, ["meta", str(tmp_path / "none.csv")])
    assert result.exit_code == 2
    assert "not found" in result.output


def test_console_script_subprocess():
    exe = shutil.which("drivervte", path=str(Path(sys.executable).parent))
    assert exe is not None, "the drivervte console script is not installed in this venv"
    proc = subprocess.run([exe, "meta", str(DATA), "--measure", "OR", "--method", "DL",
                           "--json"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["method"] == "DL" and out["k"] == 13


def test_semicolon_csv_with_decimal_commas(tmp_path):
    """Spreadsheets in decimal-comma locales export ';'-separated files."""
    path = tmp_path / "semi.csv"
    path.write_text("study;yi;vi\nA;0,1;0,01\nB;0,3;0,02\nC;0,2;0,015\n")
    out = run_json(str(path), "--method", "DL")
    comma = run_json(str(DATA.parent / "bcg.csv"), "--measure", "RR", "--method", "DL")
    assert out["k"] == 3 and comma["k"] == 13
    assert [s["yi"] for s in out["studies"]] == [0.1, 0.3, 0.2]


def test_count_methods_refuse_other_measures(tmp_path):
    res = runner.invoke(app, ["meta", str(DATA), "--method", "PETO", "--measure", "RR"])
    assert res.exit_code == 2 and "option --measure" in res.output


def test_plot_into_missing_directory_is_refused(tmp_path):
    target = tmp_path / "nope" / "f.svg"
    res = runner.invoke(app, ["meta", str(DATA), "--measure", "RR", "--forest", str(target)])
    assert res.exit_code == 2 and "does not exist" in res.output
    assert not target.parent.exists()


def test_duplicate_labels_and_excluded_rows_are_reported(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("study,yi,vi\nA,0.1,0.01\nA,0.3,0.02\nB,,0.03\nC,0.2,0.03\n")
    res = runner.invoke(app, ["meta", str(path), "--method", "DL"])
    assert res.exit_code == 0, res.output
    assert "study label 'A' is used by rows 1, 2" in res.output
    assert "excluded: row 3 (B): missing value in yi" in res.output
