"""Python warnings in ``drivervte cox`` / ``drivervte logistic`` print as ``warning: ...``."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from drivervte.cli._warnings import capture_warnings, report_warnings
from drivervte.errors import ConvergenceWarning


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "drivervte.cli.main", *map(str, args)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def monotone_csv(tmp_path_factory) -> Path:
    """No events when x = 1: the Cox coefficient of x is infinite (ConvergenceWarning)."""
    rng = np.random.default_rng(3)
    n = 100
    x = np.repeat([0, 1], n // 2)
    df = pd.DataFrame({
        "time": np.round(rng.exponential(10, n), 1) + 0.1,
        "status": np.where(x == 1, 0, rng.binomial(1, 0.8, n)),
        "x": x,
        "z": np.round(rng.normal(size=n), 2),
        "y": x,  # perfectly separated by x for logistic
    })  # fmt: skip
    path = tmp_path_factory.mktemp("warn") / "mono.csv"
    df.to_csv(path, index=False)
    return path


def _clean(stderr: str) -> list[str]:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        assert ln.startswith("warning: "), ln
        assert "Warning:" not in ln and ".py:" not in ln, ln
    return lines


@pytest.mark.parametrize("as_json", [True, False])
def test_cox_convergence_warning_is_a_clean_line(monotone_csv, as_json):
    args = ["cox", monotone_csv, "--time", "time", "--status", "status", "--covariates", "x,z"]
    proc = _cli(*args, *(["--json"] if as_json else []))
    assert proc.returncode == 0, proc.stderr
    lines = _clean(proc.stderr)
    if as_json:
        out = json.loads(proc.stdout)
        assert out["infinite"] == ["x"]
        assert any("may be infinite" in ln for ln in lines)
        assert len(lines) == len(out["warnings"])
    else:
        # the summary on stdout already shows it; stderr does not repeat it
        assert "warning: loglik converged before coefficient(s) x" in proc.stdout
        assert lines == []


def test_logistic_separation_warning_is_a_clean_line(monotone_csv):
    proc = _cli("logistic", monotone_csv, "--outcome", "y", "--covariates", "x,z", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    lines = _clean(proc.stderr)
    assert out["warnings"] and lines == [f"warning: {w}" for w in out["warnings"]]


def test_report_warnings_dedupes_and_returns_the_new_ones(capsys):
    with capture_warnings() as caught:
        warnings.warn("carried", ConvergenceWarning, stacklevel=1)
        warnings.warn("new one", RuntimeWarning, stacklevel=1)
        warnings.warn("new one", RuntimeWarning, stacklevel=1)
    extra = report_warnings(caught, ["carried"], echo_carried=False)
    assert extra == ["new one"]
    assert capsys.readouterr().err == "warning: new one\n"
    report_warnings(caught, ["carried"], echo_carried=True)
    assert capsys.readouterr().err == "warning: carried\nwarning: new one\n"
