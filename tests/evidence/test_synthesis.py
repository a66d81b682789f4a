"""The per-gene synthesis: pools equal the engine run directly on the same rows, plan rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivervte.effects import escalc
from drivervte.evidence.store import EvidenceStore
from drivervte.evidence.synthesis import SynthesisOptions, comparative_pools, headline_pool
from drivervte.evidence.tables import gene_arms, incidence, vote_count
from drivervte.meta.rma import fit_rma

# Agreement with the engine is exact: the same arrays go through the same code.
RTOL = 1e-12


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    return EvidenceStore(tmp_path_factory.mktemp("db") / "none.duckdb").records()


@pytest.fixture(scope="module")
def pools(stored):
    return {p.key: p for p in comparative_pools(stored, SynthesisOptions())}


def rec(stored, rid):
    return next(s.record for s in stored if s.record.id == rid)


def test_alk_hr_pool_equals_engine_on_same_rows(stored, pools):
    p = pools["ALK|negative|VTE|HR"]
    ids = ["al_samkari_2020_alk_vte_hr", "icht_2023_alk_vte_hr", "dou_alk_vte_shr"]
    assert [s.id for s in p.studies] == ids
    rs = [rec(stored, i) for i in ids]
    es = escalc("HR", estimate=[r.estimate for r in rs], lower=[r.ci_lower for r in rs],
                upper=[r.ci_upper for r in rs])
    direct = fit_rma(es.yi, es.vi, method="REML", test="knha", measure="HR")
    for f in ("estimate", "se", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "tau2", "I2"):
        assert getattr(p.main, f) == pytest.approx(getattr(direct, f), rel=RTOL, abs=1e-14), f
    assert p.headline()["estimate"] == pytest.approx(math.exp(direct.estimate), rel=RTOL)
    dl = fit_rma(es.yi, es.vi, method="DL", test="z", measure="HR")
    assert p.sensitivity["method_DL"]["fit"].estimate == pytest.approx(dl.estimate, rel=RTOL)
    ee = fit_rma(es.yi, es.vi, method="EE", test="z", measure="HR")
    assert p.sensitivity["method_EE"]["fit"].ci_lower == pytest.approx(ee.ci_lower, rel=RTOL)


def test_egfr_or_pool_equals_engine_with_counts(stored, pools):
    p = pools["EGFR|negative|VTE|OR"]
    ids = [s.id for s in p.studies]
    assert set(ids) == {"corrales_rodriguez_egfr_vte_or", "wang_jing_2019_egfr_vte_counts",
                        "yang_sen_2020_egfr_vte_counts"}
    yi, vi = [], []
    for i in ids:
        r = rec(stored, i)
        if r.form == "counts":
            es = escalc("OR", ai=[r.events_gene], bi=[r.n_gene - r.events_gene],
                        ci=[r.events_comparator], di=[r.n_comparator - r.events_comparator])
        else:
            es = escalc("OR", estimate=[r.estimate], lower=[r.ci_lower], upper=[r.ci_upper])
        yi.append(es.yi[0])
        vi.append(es.vi[0])
    direct = fit_rma(np.array(yi), np.array(vi), method="REML", test="knha", measure="OR")
    assert p.main.estimate == pytest.approx(direct.estimate, rel=RTOL)
    assert p.main.tau2 == pytest.approx(direct.tau2, rel=RTOL, abs=1e-14)


def test_reversed_ratio_is_inverted(pools):
    eff = next(s for s in pools["EGFR|negative|VTE|HR"].studies if s.id == "dou_2018_egfr_vte_shr")
    assert eff.estimate == pytest.approx(1 / 1.81)
    assert (eff.ci_lower, eff.ci_upper) == pytest.approx((1 / 3.07, 1 / 1.07))
    assert eff.yi == pytest.approx(-math.log(1.81))


def test_outcome_and_comparator_families_never_mixed(pools):
    for p in pools.values():
        assert {s.outcome for s in p.studies} == {p.outcome}
        fams = {("negative" if s.comparator in ("negative", "wild_type") else "vs_" + s.comparator)
                for s in p.studies}
        assert fams == {p.comparator_family}
        if p.family == "OR":
            assert {s.measure for s in p.studies} == {"OR"}
        if p.family == "HR":
            assert {s.measure for s in p.studies} <= {"HR", "SHR"}


def test_excluded_records_never_pooled(stored, pools):
    excluded = {s.record.id for s in stored if not s.record.include}
    used = {s.id for p in pools.values() for s in p.studies}
    assert not used & excluded
    assert "dou_2021_alk_vte_shr" not in used and "ades_2015_kras_vte" not in used


def test_combine_measures_option_one_estimate_per_study(stored):
    pools = {p.key: p for p in comparative_pools(stored, SynthesisOptions(combine_measures=True))}
    p = pools["ALK|negative|VTE|ratio"]
    studies = [s.study for s in p.studies]
    assert len(studies) == len(set(studies))
    al = [s for s in p.studies if s.study == "al_samkari_2020"]
    assert [s.measure for s in al] == ["HR"]  # hazard ratio preferred over derived counts
    assert any("combine_measures" in n for n in p.notes)


def test_alternative_estimate_with_p_value_enters_sensitivity_with_approximate_se(pools):
    p = pools["ROS1|vs_ALK+|TE|OR"]
    alt = p.sensitivity["alternative_estimates"]
    assert "ng_2019_ros1_vs_alk_te_or_adj" in alt["record_ids"]
    fit = alt["fit"]
    yi = dict(zip(fit.study, fit.yi, strict=True))
    assert yi["Ng TL 2019"] == pytest.approx(math.log(1.45))
    from scipy.stats import norm
    vi = dict(zip(fit.study, fit.vi, strict=True))
    assert vi["Ng TL 2019"] == pytest.approx((math.log(1.45) / norm.isf(0.229 / 2)) ** 2)


def test_overlap_sensitivity_swaps_dou_cohorts(pools):
    s = pools["ALK|negative|VTE|HR"].sensitivity["overlapping_cohorts"]
    assert "dou_2021_alk_vte_shr" in s["record_ids"] and "dou_alk_vte_shr" not in s["record_ids"]


def test_small_study_tests_not_run_below_ten(pools):
    for p in pools.values():
        if p.k < 10:
            assert p.small_study.startswith("not")


def test_leave_one_out_only_for_k3(pools):
    for p in pools.values():
        assert (p.leave_one_out is not None) == (p.k >= 3)
    loo = pools["ALK|negative|VTE|HR"].leave_one_out
    assert len(loo.study) == 3


def test_single_study_pool_reported_as_is(pools):
    p = pools["ALK|negative|ATE|HR"]
    assert p.main is None and p.k == 1
    h = p.headline()
    assert h["estimate"] == pytest.approx(3.15) and h["pooled"] is False


def test_headline_pool_rule(pools):
    ps = list(pools.values())
    assert headline_pool(ps, "ALK").key == "ALK|negative|VTE|HR"
    assert headline_pool(ps, "EGFR").key == "EGFR|negative|VTE|OR"
    assert headline_pool(ps, "ROS1").comparator_family.startswith("vs_")


def test_incidence_equals_engine_and_dedups_arms(stored):
    arms = gene_arms(stored, "ROS1", "TE")
    assert sorted((a["events"], a["n"]) for a in arms) == [(11, 44), (11, 47), (20, 42), (33, 95)]
    res = incidence(stored, "ROS1", "TE")
    es = escalc("PLO", xi=[a["events"] for a in arms], ni=[a["n"] for a in arms])
    direct = fit_rma(es.yi, es.vi, method="REML", test="knha", measure="PLO")
    assert res.main.estimate == pytest.approx(direct.estimate, rel=RTOL)
    assert res.pft.measure == "PFT"
    # the EGFR arm of Sen Yang is read from two records (vs wild type, and ALK vs EGFR+)
    egfr = [a for a in gene_arms(stored, "EGFR", "VTE") if a["study"] == "yang_sen_2020"]
    assert len(egfr) == 1 and len(egfr[0]["record_ids"]) == 2


def test_vote_count_includes_p_only_and_one_vote_per_study(stored):
    vc = vote_count(stored, "ALK")
    ids = [r["id"] for r in vc.rows]
    assert "lee_2014_alk_vte_p" in ids and "wang_jing_2019_alk_vte_p" in ids
    al = [r for r in vc.rows if r["id"].startswith("al_samkari") and r["outcome"] == "VTE"]
    assert len(al) == 1 and al[0]["form"] == "ratio_ci"
    assert vc.tally["VTE"]["not_reported/not_significant"] == 2


def _synthetic(n: int, *, extra: list[dict] | None = None):
    """n ALK vs negative HR records (deterministic, spread effects), as StoredRecords."""
    from drivervte.evidence.schema import validate_record
    from drivervte.evidence.store import StoredRecord

    rng = np.random.default_rng(7)
    out = []
    for i in range(n):
        est = float(np.exp(rng.normal(0.7, 0.3)))
        se = float(rng.uniform(0.1, 0.6))
        out.append({"id": f"syn_{i:02d}", "study": f"syn{i:02d}", "authors": f"Syn {i}",
                    "year": 2000 + i, "gene": "ALK", "comparator": "negative", "outcome": "VTE",
                    "measure": "HR", "estimate": est, "ci_lower": est * math.exp(-1.96 * se),
                    "ci_upper": est * math.exp(1.96 * se), "source": "primary_abstract"})
    out += extra or []
    return [StoredRecord(validate_record(d), "user") for d in out]


def test_small_study_tests_run_from_k10_with_the_engine():
    from drivervte.meta.bias import egger_test

    stored = _synthetic(12)
    (pool,) = comparative_pools(stored, SynthesisOptions())
    assert pool.k == 12 and pool.small_study_tests is not None
    assert set(pool.small_study_tests) == {"egger", "begg", "trimfill"}
    direct = egger_test(pool.main)
    assert pool.small_study_tests["egger"].to_dict() == direct.to_dict()
    assert comparative_pools(_synthetic(9), SynthesisOptions())[0].small_study_tests is None


def test_ratio_with_p_only_enters_p_value_sensitivity_only():
    extra = [{"id": "syn_p", "study": "synp", "authors": "P", "year": 2020, "gene": "ALK",
              "comparator": "negative", "outcome": "VTE", "measure": "HR", "estimate": 1.5,
              "pvalue": 0.04, "source": "primary_abstract"}]
    (pool,) = comparative_pools(_synthetic(3, extra=extra), SynthesisOptions())
    assert "syn_p" not in [s.id for s in pool.studies]
    sens = pool.sensitivity["p_value_estimates"]
    assert "syn_p" in sens["record_ids"] and sens["fit"].k == 4
    from scipy.stats import norm
    vi = dict(zip(sens["fit"].study, sens["fit"].vi, strict=True))["P 2020"]
    assert vi == pytest.approx((math.log(1.5) / norm.isf(0.02)) ** 2)


def test_zero_cell_record_is_corrected_and_noted():
    extra = [{"id": "syn_zero", "study": "synzero", "authors": "Zero", "year": 2021,
              "gene": "ALK", "comparator": "negative", "outcome": "VTE", "events_gene": 0,
              "n_gene": 12, "events_comparator": 5, "n_comparator": 80,
              "source": "primary_abstract"},
             {"id": "syn_c2", "study": "sync2", "authors": "C2", "year": 2022, "gene": "ALK",
              "comparator": "negative", "outcome": "VTE", "events_gene": 4, "n_gene": 20,
              "events_comparator": 6, "n_comparator": 90, "source": "primary_abstract"}]
    pools = {p.key: p for p in comparative_pools(_synthetic(0, extra=extra), SynthesisOptions())}
    p = pools["ALK|negative|VTE|OR"]
    z = next(s for s in p.studies if s.id == "syn_zero")
    direct = escalc("OR", ai=[0], bi=[12], ci=[5], di=[75])
    assert z.yi == pytest.approx(direct.yi[0]) and math.isfinite(z.vi)
    assert z.notes  # the 1/2 correction is reported, not silent


def _direct_effect(r):
    """Effect size straight from the record through escalc (independent of evidence.effects)."""
    if r.form == "counts":
        es = escalc("OR", ai=[r.events_gene], bi=[r.n_gene - r.events_gene],
                    ci=[r.events_comparator], di=[r.n_comparator - r.events_comparator])
    else:
        e, lo, hi = r.estimate, r.ci_lower, r.ci_upper
        if r.orientation == "comparator_vs_gene":
            e, lo, hi = 1 / e, 1 / hi, 1 / lo
        es = escalc(r.measure.value, estimate=[e], lower=[lo], upper=[hi])
    return float(es.yi[0]), float(es.vi[0])


def test_every_pool_equals_the_engine_on_its_rows(stored, pools):
    for p in pools.values():
        if p.main is None:
            continue
        yv = [_direct_effect(rec(stored, s.id)) for s in p.studies]
        for method, test, fit in [("REML", "knha", p.main),
                                  ("DL", "z", p.sensitivity["method_DL"]["fit"]),
                                  ("EE", "z", p.sensitivity["method_EE"]["fit"])]:
            direct = fit_rma(np.array([y for y, _ in yv]), np.array([v for _, v in yv]),
                             method=method, test=test, measure=p.measure)
            assert fit.estimate == pytest.approx(direct.estimate, rel=RTOL), (p.key, method)
            assert fit.ci_upper == pytest.approx(direct.ci_upper, rel=RTOL), (p.key, method)
            assert fit.tau2 == pytest.approx(direct.tau2, rel=RTOL, abs=1e-14), (p.key, method)
