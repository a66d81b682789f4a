"""run_review / write_review: complete per-gene output, deterministic bytes."""

from __future__ import annotations

import json

from drivervte.evidence.review import run_review, summary_json, write_review
from drivervte.evidence.store import EvidenceStore


def test_summary_has_per_gene_fields_and_is_deterministic(tmp_path):
    store = EvidenceStore(tmp_path / "x.duckdb")
    r1 = run_review(store.records(), other_sources=store.shipped.other_sources)
    r2 = run_review(EvidenceStore(tmp_path / "x.duckdb").records(),
                    other_sources=store.shipped.other_sources)
    t1, t2 = summary_json(r1), summary_json(r2)
    assert t1 == t2
    d = json.loads(t1)
    assert set(d["genes"]) == {"EGFR", "ALK", "ROS1", "KRAS"}
    for g in d["genes"].values():
        for key in ("k", "measure", "pooled", "studies_used", "conclusion", "certainty"):
            assert key in g
        p = g["pooled"]
        for key in ("estimate", "ci_lower", "ci_upper", "pi_lower", "log_estimate",
                    "log_ci_lower", "tau2", "I2", "record_ids"):
            assert key in p
    assert d["prisma"]["records"] == len(store.shipped.records)
    assert all(e["reason"] for e in d["excluded"])
    paths = write_review(r1, tmp_path / "out")
    assert paths["summary"].read_text() == t1
    assert "<figure class=\"forest" in paths["report"].read_text()


def test_user_record_changes_fingerprint_and_pool(tmp_path):
    from drivervte.evidence.load import parse_mapping

    db = tmp_path / "x.duckdb"
    store = EvidenceStore(db)
    before = run_review(store.records())
    new = {"id": "extra_alk", "study": "extra", "authors": "Extra E", "year": 2025,
           "gene": "ALK", "comparator": "negative", "outcome": "VTE", "measure": "HR",
           "estimate": 1.1, "ci_lower": 0.8, "ci_upper": 1.5, "source": "primary_abstract"}
    store.add(parse_mapping({"records": [new]}, complete=False))
    after = run_review(EvidenceStore(db).records())
    assert after.fingerprint() != before.fingerprint()
    hb, ha = before.genes["ALK"].headline, after.genes["ALK"].headline
    assert ha.k == hb.k + 1 and ha.main.estimate < hb.main.estimate


def test_summary_does_not_depend_on_record_order(tmp_path):
    store = EvidenceStore(tmp_path / "x.duckdb")
    recs = store.records()
    fwd = summary_json(run_review(recs, other_sources=store.shipped.other_sources))
    rev = summary_json(run_review(recs[::-1], other_sources=store.shipped.other_sources))
    assert fwd == rev


def test_evidence_table_in_seed_layout_with_corrections(tmp_path):
    store = EvidenceStore(tmp_path / "x.duckdb")
    table = run_review(store.records()).evidence_table()
    seed_rows = [r["study"] for r in table if r["in_seed"] == "table1"]
    assert seed_rows == ["corrales_rodriguez", "wang_jing_2019", "dou_2018_egfr_kras", "dou_alk",
                         "yang_sen_2020", "zer_2017", "al_samkari_2020", "ng_2019",
                         "alexander_2020", "chiari_2020", "yi_2022"]
    assert table[: len(seed_rows)] == [r for r in table if r["in_seed"] == "table1"]
    zer = next(r for r in table if r["study"] == "zer_2017")
    assert zer["n_total"] == 98 and zer["country"] == "Canada; Israel"
    assert [c["item"] for c in zer["corrections"]] == [5]
    items = {c["item"] for r in table for c in r["corrections"] if c["item"] is not None}
    assert items == set(range(1, 13))


def test_conflicting_merged_records_are_refused(tmp_path):
    import pytest

    from drivervte.errors import InputError
    from drivervte.evidence.schema import validate_record
    from drivervte.evidence.store import StoredRecord

    store = EvidenceStore(tmp_path / "x.duckdb")
    recs = store.records()
    hr = next(s.record for s in recs if s.record.id == "al_samkari_2020_alk_vte_hr")
    twin = validate_record(hr.model_dump(mode="json") | {"id": "al_samkari_twin"})
    with pytest.raises(InputError, match="same comparison"):
        run_review([*recs, StoredRecord(twin, "user")])
