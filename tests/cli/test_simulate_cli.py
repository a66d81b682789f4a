"""``drivervte simulate`` through the real entry point."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from drivervte.cli.main import app

runner = CliRunner()


def test_csv_is_deterministic(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    for p in (a, b):
        res = runner.invoke(app, ["simulate", "--n", "300", "--seed", "9", "--out", str(p)])
        assert res.exit_code == 0, res.output
    assert a.read_bytes() == b.read_bytes()
    df = pd.read_csv(a)
    assert len(df) == 300 and {"time", "status", "gene", "alk"} <= set(df.columns)
    assert not list(tmp_path.glob("*.part"))


def test_parquet_western_json(tmp_path):
    out = tmp_path / "w.parquet"
    res = runner.invoke(app, ["simulate", "--n", "400", "--seed", "1", "--out", str(out),
                              "--setting", "western", "--left-truncation", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["n"] == 400 and summary["setting"] == "western"
    df = pd.read_parquet(out)
    assert "entry" in df.columns and (df["entry"] < df["time"]).all()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--n", "10", "--seed", "1", "--out", "{d}/x.txt"], "--out"),
        (["--n", "10", "--seed", "1", "--out", "{d}/x.csv", "--setting", "mars"], "setting"),
        (["--n", "0", "--seed", "1", "--out", "{d}/x.csv"], "n"),
        (["--n", "10", "--seed", "1", "--out", "{d}/nodir/x.csv"], "--out"),
    ],
)
def test_bad_input_exit_2_nothing_written(tmp_path, args, needle):
    args = [a.format(d=tmp_path) for a in args]
    res = runner.invoke(app, ["simulate", *args])
    assert res.exit_code == 2
    assert needle in res.stderr
    assert list(tmp_path.iterdir()) == []
