"""``drivervte evidence list|validate|add`` through the Typer app."""

from __future__ import annotations

import hashlib
import json

import yaml
from typer.testing import CliRunner

from drivervte.cli.main import app

runner = CliRunner()

NEW = {"id": "cli_new_kras_vte", "study": "cli_new", "authors": "Cli C", "year": 2025,
       "gene": "KRAS", "comparator": "negative", "outcome": "VTE", "events_gene": 9,
       "n_gene": 40, "events_comparator": 20, "n_comparator": 300, "source": "primary_abstract"}


def _yaml(path, records):
    path.write_text(yaml.safe_dump({"records": records}), encoding="utf-8")
    return str(path)


def test_list_json_and_gene_filter(tmp_path):
    res = runner.invoke(app, ["evidence", "list", "--gene", "ros1", "--json",
                              "--db", str(tmp_path / "db.duckdb")])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["records"] and {r["gene"] for r in data["records"]} == {"ROS1"}
    assert {r["origin"] for r in data["records"]} == {"shipped"}


def test_list_unknown_gene_exit_2(tmp_path):
    res = runner.invoke(app, ["evidence", "list", "--gene", "BRAF",
                              "--db", str(tmp_path / "db.duckdb")])
    assert res.exit_code == 2
    assert "EGFR" in res.output and "BRAF" in res.output


def test_list_table(tmp_path):
    res = runner.invoke(app, ["evidence", "list", "--db", str(tmp_path / "db.duckdb")])
    assert res.exit_code == 0 and "Evidence records" in res.output


def test_validate_good_and_bad(tmp_path):
    good = runner.invoke(app, ["evidence", "validate", _yaml(tmp_path / "g.yaml", [NEW])])
    assert good.exit_code == 0 and "1 record(s) valid" in good.output
    bad = runner.invoke(app, ["evidence", "validate",
                              _yaml(tmp_path / "b.yaml", [{**NEW, "events_gene": 50}])])
    assert bad.exit_code == 2
    assert "cli_new_kras_vte" in bad.output and "events_gene" in bad.output
    missing = runner.invoke(app, ["evidence", "validate", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "not found" in missing.output


def test_add_then_list_shows_user_record(tmp_path):
    db = str(tmp_path / "db.duckdb")
    res = runner.invoke(app, ["evidence", "add", _yaml(tmp_path / "n.yaml", [NEW]), "--db", db,
                              "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["added"] == [NEW["id"]]
    lst = json.loads(runner.invoke(app, ["evidence", "list", "--gene", "KRAS", "--json",
                                         "--db", db]).stdout)
    mine = [r for r in lst["records"] if r["id"] == NEW["id"]]
    assert mine and mine[0]["origin"] == "user"


def test_add_malformed_changes_nothing(tmp_path):
    db = tmp_path / "db.duckdb"
    assert runner.invoke(app, ["evidence", "add", _yaml(tmp_path / "n.yaml", [NEW]),
                               "--db", str(db)]).exit_code == 0
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    bad = [{**NEW, "id": "another", "study": "another"}, {**NEW, "id": "x", "gene": "MET"}]
    res = runner.invoke(app, ["evidence", "add", _yaml(tmp_path / "b.yaml", bad), "--db", str(db)])
    assert res.exit_code == 2
    assert "record 'x'" in res.output and "gene" in res.output
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    lst = json.loads(runner.invoke(app, ["evidence", "list", "--json", "--db", str(db)]).stdout)
    assert "another" not in {r["id"] for r in lst["records"]}


def test_correction_of_shipped_record_is_marked(tmp_path):
    db = str(tmp_path / "db.duckdb")
    lst = json.loads(runner.invoke(app, ["evidence", "list", "--json", "--db", db]).stdout)
    zer = next(r for r in lst["records"] if r["id"] == "zer_2017_toronto_alk_vte")
    fix = {k: v for k, v in zer.items() if k not in ("origin", "supersedes_shipped", "form")}
    fix["quality_note"] = "user correction"
    res = runner.invoke(app, ["evidence", "add", _yaml(tmp_path / "f.yaml", [fix]), "--db", db])
    assert res.exit_code == 0 and "supersedes the shipped record" in res.output
    lst = json.loads(runner.invoke(app, ["evidence", "list", "--json", "--db", db]).stdout)
    rows = [r for r in lst["records"] if r["id"] == "zer_2017_toronto_alk_vte"]
    assert len(rows) == 1 and rows[0]["supersedes_shipped"] and rows[0]["origin"] == "user"


def test_add_refuses_other_sources_rather_than_dropping_them(tmp_path):
    f = tmp_path / "o.yaml"
    f.write_text(yaml.safe_dump({"records": [NEW], "other_sources": [
        {"key": "k", "citation": "c", "reason": "r"}]}), encoding="utf-8")
    db = tmp_path / "db.duckdb"
    res = runner.invoke(app, ["evidence", "add", str(f), "--db", str(db)])
    assert res.exit_code == 2 and "other_sources" in res.output
    assert not db.exists()


def test_validate_the_shipped_file_itself():
    from importlib import resources

    path = resources.files("drivervte").joinpath("data", "evidence.yaml")
    res = runner.invoke(app, ["evidence", "validate", str(path), "--json"])
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.stdout)["records"]) >= 40


def test_export_edit_add_round_trip(tmp_path):
    db = str(tmp_path / "db.duckdb")
    out = tmp_path / "exp.yaml"
    res = runner.invoke(app, ["evidence", "export", str(out), "--id", "icht_2023_alk_vte_hr",
                              "--db", db])
    assert res.exit_code == 0, res.output
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert [r["id"] for r in doc["records"]] == ["icht_2023_alk_vte_hr"]
    doc["records"][0]["quality_note"] = "checked against the full text"
    out.write_text(yaml.safe_dump(doc), encoding="utf-8")
    res = runner.invoke(app, ["evidence", "add", str(out), "--db", db])
    assert res.exit_code == 0 and "supersedes the shipped record" in res.output
    missing = runner.invoke(app, ["evidence", "export", str(out), "--id", "nope", "--db", db])
    assert missing.exit_code == 2 and "nope" in missing.output
