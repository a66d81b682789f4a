"""``drivervte review``: outputs, determinism, user records surviving a restart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from typer.testing import CliRunner

from drivervte.cli.main import app
from drivervte.evidence.review import run_review
from drivervte.evidence.store import EvidenceStore

runner = CliRunner()
EXE = Path(sys.executable).parent / "drivervte"


def test_review_twice_identical_json(tmp_path):
    db = str(tmp_path / "db.duckdb")
    for out in ("a", "b"):
        res = runner.invoke(app, ["review", "--db", db, "--out", str(tmp_path / out)])
        assert res.exit_code == 0, res.output
    a = (tmp_path / "a" / "summary.json").read_bytes()
    assert a == (tmp_path / "b" / "summary.json").read_bytes()
    assert (tmp_path / "a" / "report.html").exists()
    assert not Path(db).exists()  # reading never creates the database


def test_user_record_changes_pool_and_survives_restart(tmp_path):
    """Add through the CLI, then run ``.venv/bin/drivervte review`` in a new process."""
    db = str(tmp_path / "db.duckdb")
    env = {**os.environ, "DRIVERVTE_DB": str(tmp_path / "unused.duckdb")}
    s0 = run_review(EvidenceStore(db).records()).to_dict()["genes"]["ALK"]
    rec = {"id": "restart_alk", "study": "restart", "authors": "Restart R", "year": 2025,
           "gene": "ALK", "comparator": "negative", "outcome": "VTE", "measure": "HR",
           "estimate": 0.9, "ci_lower": 0.6, "ci_upper": 1.35, "source": "primary_abstract"}
    f = tmp_path / "r.yaml"
    f.write_text(yaml.safe_dump({"records": [rec]}), encoding="utf-8")
    assert runner.invoke(app, ["evidence", "add", str(f), "--db", db]).exit_code == 0
    after = subprocess.run([str(EXE), "review", "--db", db, "--out", str(tmp_path / "after")],
                           capture_output=True, text=True, env=env, timeout=300)
    assert after.returncode == 0, after.stderr
    assert after.stderr == ""  # no progress display when stderr is not a terminal
    s1 = json.loads((tmp_path / "after" / "summary.json").read_text())["genes"]["ALK"]
    assert s1["pooled"]["k"] == s0["pooled"]["k"] + 1
    assert "restart_alk" in s1["pooled"]["record_ids"]
    assert s1["pooled"]["estimate"] < s0["pooled"]["estimate"]


def test_combine_measures_flag(tmp_path):
    out = tmp_path / "c"
    res = runner.invoke(app, ["review", "--db", str(tmp_path / "db.duckdb"), "--out", str(out),
                              "--combine-measures"])
    assert res.exit_code == 0, res.output
    d = json.loads((out / "summary.json").read_text())
    assert d["options"]["combine_measures"] is True
    keys = [p["key"] for p in d["genes"]["ALK"]["pools"]]
    assert "ALK|negative|VTE|ratio" in keys and "ALK|negative|VTE|HR" not in keys
