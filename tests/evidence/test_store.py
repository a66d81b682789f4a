"""The DuckDB store: default path, shipped + user records, supersession, atomic writes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivervte.errors import InputError
from drivervte.evidence.load import read_file
from drivervte.evidence.store import EvidenceStore, default_db_path

NEW = {
    "id": "newstudy_2025_alk_vte_hr", "study": "newstudy_2025", "authors": "New A",
    "year": 2025, "gene": "ALK", "comparator": "negative", "outcome": "VTE",
    "measure": "HR", "estimate": 2.0, "ci_lower": 1.2, "ci_upper": 3.3,
    "source": "primary_abstract", "ethnicity_group": "east_asian", "design": "prospective",
}


def write_yaml(path: Path, records: list[dict]) -> Path:
    path.write_text(yaml.safe_dump({"records": records}), encoding="utf-8")
    return path


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def test_default_path_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("DRIVERVTE_DB", str(tmp_path / "a.duckdb"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "a.duckdb"
    monkeypatch.delenv("DRIVERVTE_DB")
    assert default_db_path() == tmp_path / "xdg" / "drivervte" / "evidence.duckdb"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_db_path() == tmp_path / "home" / ".local/share/drivervte/evidence.duckdb"


def test_reading_does_not_create_the_database(tmp_path):
    db = tmp_path / "sub" / "ev.duckdb"
    store = EvidenceStore(db)
    recs = store.records()
    assert len(recs) == len(store.shipped.records)
    assert all(r.origin == "shipped" for r in recs)
    assert not db.exists()


def test_add_new_record_persists(tmp_path):
    db = tmp_path / "ev.duckdb"
    rep = EvidenceStore(db).add(read_file(write_yaml(tmp_path / "u.yaml", [NEW])))
    assert rep.added == [NEW["id"]] and rep.supersedes_shipped == []
    again = EvidenceStore(db)  # a new session on the same file
    recs = again.records(gene="alk")
    mine = [r for r in recs if r.record.id == NEW["id"]]
    assert len(mine) == 1 and mine[0].origin == "user" and not mine[0].supersedes_shipped
    assert again.user_ids() == [NEW["id"]]
    assert len(again.records()) == len(again.shipped.records) + 1


def test_user_record_supersedes_shipped_one(tmp_path):
    db = tmp_path / "ev.duckdb"
    store = EvidenceStore(db)
    shipped = next(s.record for s in store.records() if s.record.id == "icht_2023_alk_vte_hr")
    corrected = shipped.model_dump(mode="json") | {"estimate": 1.9, "quality_note": "corrected"}
    rep = store.add(read_file(write_yaml(tmp_path / "c.yaml", [corrected])))
    assert rep.supersedes_shipped == ["icht_2023_alk_vte_hr"]
    recs = [s for s in EvidenceStore(db).records() if s.record.id == "icht_2023_alk_vte_hr"]
    assert len(recs) == 1
    assert recs[0].origin == "user" and recs[0].supersedes_shipped
    assert recs[0].record.estimate == 1.9
    # the package file is untouched: a fresh load still has the shipped value
    assert next(r for r in EvidenceStore(db).shipped.records
                if r.id == "icht_2023_alk_vte_hr").estimate == 1.87


@pytest.mark.parametrize("bad", [
    {**NEW, "gene": "BRAF"},
    {**NEW, "ci_lower": 2.5},
    {**NEW, "source": None},
])
def test_malformed_record_changes_nothing(tmp_path, bad):
    db = tmp_path / "ev.duckdb"
    store = EvidenceStore(db)
    store.add(read_file(write_yaml(tmp_path / "ok.yaml", [{**NEW, "id": "ok_record",
                                                           "study": "ok_study"}])))
    before = digest(db)
    rows_before = [s.record.id for s in store.records()]
    good_and_bad = [{**NEW, "id": "good_one", "study": "good"}, bad]
    with pytest.raises(InputError):
        store.add(read_file(write_yaml(tmp_path / "bad.yaml", good_and_bad)))
    assert digest(db) == before
    assert [s.record.id for s in EvidenceStore(db).records()] == rows_before


def test_malformed_record_does_not_create_database(tmp_path):
    db = tmp_path / "never.duckdb"
    with pytest.raises(InputError):
        EvidenceStore(db).add(read_file(write_yaml(tmp_path / "b.yaml", [{**NEW, "pvalue": 2}])))
    assert not db.exists()


def test_double_counting_against_shipped_rejected(tmp_path):
    """A second included estimate of a shipped comparison (same study) is refused."""
    db = tmp_path / "ev.duckdb"
    dup = {**NEW, "id": "al_samkari_2020_alk_vte_hr_again", "study": "al_samkari_2020"}
    with pytest.raises(InputError, match="same comparison"):
        EvidenceStore(db).add(read_file(write_yaml(tmp_path / "d.yaml", [dup])))
    assert not db.exists()


def test_failed_transaction_rolls_back(tmp_path, monkeypatch):
    db = tmp_path / "ev.duckdb"
    store = EvidenceStore(db)
    store.add(read_file(write_yaml(tmp_path / "a.yaml", [NEW])))
    n_before = len(EvidenceStore(db).records())
    real = duckdb.DuckDBPyConnection.executemany
    calls = {"n": 0}

    def flaky(self, sql, params=None):
        if "INSERT INTO u.user_records" in sql:
            calls["n"] += 1
            raise duckdb.IOException("disk full (simulated)")
        return real(self, sql, params)

    monkeypatch.setattr(duckdb.DuckDBPyConnection, "executemany", flaky, raising=False)
    replacement = {**NEW, "estimate": 2.2}
    try:
        with pytest.raises(duckdb.IOException):
            store.add(read_file(write_yaml(tmp_path / "b.yaml", [replacement])))
    finally:
        monkeypatch.undo()
    assert calls["n"] == 1
    recs = EvidenceStore(db).records()
    assert len(recs) == n_before
    assert next(s for s in recs if s.record.id == NEW["id"]).record.estimate == 2.0


def test_csv_input(tmp_path):
    csv_text = (
        "id,study,authors,year,gene,comparator,outcome,events_gene,n_gene,"
        "events_comparator,n_comparator,source,include\n"
        "csv_one,csv_study,Csv A,2024,KRAS,negative,VTE,4,40,10,200,primary_abstract,true\n"
    )
    p = tmp_path / "u.csv"
    p.write_text(csv_text, encoding="utf-8")
    es = read_file(p)
    assert es.records[0].form == "counts" and es.records[0].gene.value == "KRAS"
    bad = tmp_path / "bad.csv"
    bad.write_text(csv_text.replace("KRAS", "BRAF"), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_file(bad)
    assert exc.value.rows == [0] and "csv_one" in str(exc.value)


def test_not_a_database_is_a_clear_error(tmp_path):
    bad = tmp_path / "notdb.duckdb"
    bad.write_text("this is not a database", encoding="utf-8")
    with pytest.raises(InputError, match="cannot open the evidence database"):
        EvidenceStore(bad).records()
    assert bad.read_text(encoding="utf-8") == "this is not a database"


def test_stored_record_that_no_longer_validates_is_named(tmp_path):
    db = tmp_path / "ev.duckdb"
    EvidenceStore(db).add(read_file(write_yaml(tmp_path / "a.yaml", [NEW])))
    con = duckdb.connect(str(db))
    con.execute("UPDATE user_records SET payload = replace(payload, '\"ALK\"', '\"BRAF\"')")
    con.close()
    with pytest.raises(InputError, match=NEW["id"]):
        EvidenceStore(db).records()


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1,
                                 max_size=3, unique=True), min_size=1, max_size=2))
def test_sequences_of_adds_keep_one_row_per_id(tmp_path, batches):
    """Any sequence of adds: shipped + distinct user ids, the last version of each wins."""
    import uuid

    db = tmp_path / f"{uuid.uuid4().hex}.duckdb"
    store = EvidenceStore(db)
    last: dict[str, float] = {}
    for b, batch in enumerate(batches):
        recs = [{**NEW, "id": f"seq_{x}", "study": f"seq_{x}", "estimate": 1.5 + b / 10}
                for x in batch]
        store.add(read_file(write_yaml(tmp_path / f"{uuid.uuid4().hex}.yaml", recs)))
        last.update({f"seq_{x}": 1.5 + b / 10 for x in batch})
    recs = EvidenceStore(db).records()
    assert len(recs) == len(store.shipped.records) + len(last)
    got = {s.record.id: s.record.estimate for s in recs if s.origin == "user"}
    assert got == pytest.approx(last)


def test_csv_quoted_multiline_note_and_sources_column(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text(
        "id,study,authors,gene,comparator,outcome,measure,estimate,ci_lower,ci_upper,sources,"
        "quality_note\n"
        'm1,m,M A,EGFR,negative,VTE,HR,0.8,0.5,1.3,'
        '"estimate:primary_abstract;ci_lower:primary_abstract;ci_upper:primary_abstract",'
        '"line one\nline two"\n', encoding="utf-8")
    (r,) = read_file(p).records
    assert r.quality_note == "line one\nline two" and r.form == "ratio_ci"
    assert r.sources["ci_upper"].value == "primary_abstract"
