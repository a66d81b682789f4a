"""Genotype-aware risk: formulas, interval behaviour, and the link to the evidence base."""

from __future__ import annotations

import pytest

from drivervte.errors import InputError
from drivervte.scores import assess
from drivervte.scores.genotype import RelativeEffect, gene_adjusted_risk, pooled_relative_effect


def effect(log_est=0.0, se=1e-12, tau2=0.0, df=None, measure="HR"):
    return RelativeEffect("ALK", measure, log_est, se, tau2, df, 3, "test", ("a", "b", "c"))


def test_hazard_ratio_applied_on_the_cumulative_hazard_scale():
    out = gene_adjusted_risk(0.1, None, effect(log_est=float(__import__("math").log(2.0))))
    assert out["estimate"] == pytest.approx(1 - 0.9**2, rel=1e-12)


def test_odds_ratio_applied_on_the_odds():
    import math

    out = gene_adjusted_risk(0.2, None, effect(log_est=math.log(3.0), measure="OR"))
    assert out["estimate"] == pytest.approx(0.75 / 1.75, rel=1e-12)


def test_null_effect_without_uncertainty_returns_the_baseline():
    out = gene_adjusted_risk(0.15, None, effect())
    assert out["estimate"] == pytest.approx(0.15)
    assert out["lower"] == pytest.approx(0.15, abs=1e-9)
    assert out["upper"] == pytest.approx(0.15, abs=1e-9)


def test_interval_contains_estimate_and_widens_with_heterogeneity():
    narrow = gene_adjusted_risk(0.1, 200, effect(0.9, 0.2, 0.0))
    wide = gene_adjusted_risk(0.1, 200, effect(0.9, 0.2, 0.3))
    for out in (narrow, wide):
        assert out["lower"] < out["estimate"] < out["upper"]
        assert out["lower_without_heterogeneity"] <= out["upper_without_heterogeneity"]
    assert wide["upper"] - wide["lower"] > narrow["upper"] - narrow["lower"]
    # Without heterogeneity the prediction and confidence versions agree (same draws).
    assert narrow["lower"] == pytest.approx(narrow["lower_without_heterogeneity"], rel=1e-12)


def test_deterministic():
    a = gene_adjusted_risk(0.1, 200, effect(0.9, 0.2, 0.3, df=2))
    b = gene_adjusted_risk(0.1, 200, effect(0.9, 0.2, 0.3, df=2))
    assert a == b


def test_baseline_must_be_a_probability():
    with pytest.raises(InputError, match="baseline"):
        gene_adjusted_risk(1.2, None, effect())


def test_alk_effect_comes_from_the_evidence_base(tmp_path):
    eff, reason = pooled_relative_effect("ALK", tmp_path / "e.duckdb")
    assert reason == "" and eff is not None
    assert eff.measure in ("HR", "SHR") and eff.k >= 2
    assert eff.log_estimate > 0  # ALK-positive: higher VTE risk in the pooled studies


def test_gene_without_a_pool_vs_negative_is_reported_not_guessed(tmp_path):
    res = assess("khorana", site="lung", platelets=200, hb=13, leukocytes=7, bmi=25, esa=False,
                 gene="ROS1", db=tmp_path / "e.duckdb")
    g = res.gene_adjusted
    assert g["estimate"] is None and "ROS1" in g["reason"]


def test_unknown_gene_is_refused():
    with pytest.raises(InputError, match="accepted: EGFR, ALK, ROS1, KRAS"):
        pooled_relative_effect("BRAF")


def test_risk_uses_the_reviews_headline_pool_and_lists_the_others(tmp_path):
    from drivervte.evidence.review import run_review
    from drivervte.evidence.store import EvidenceStore

    db = tmp_path / "e.duckdb"
    head = run_review(EvidenceStore(db).records()).genes["EGFR"].to_dict()["pooled"]
    eff, _ = pooled_relative_effect("EGFR", db)
    d = eff.to_dict()
    assert d["pool"] == head["key"]
    assert d["estimate"] == pytest.approx(head["estimate"], rel=1e-12)
    assert d["other_pools"] and all(o["pool"] != d["pool"] for o in d["other_pools"])
