"""The shipped evidence base: complete, provenance recorded, seed errors corrected.

The expectations below are transcribed from /work/shared/seed/studies.md (the curators'
notes on the primary studies) and review.txt (the seed review), not from the data file.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from drivervte.evidence.load import load_shipped
from drivervte.evidence.schema import Source


@pytest.fixture(scope="module")
def ev():
    return load_shipped()


@pytest.fixture(scope="module")
def by_id(ev):
    return {r.id: r for r in ev.records}


@pytest.fixture(scope="module")
def by_study(ev):
    out = defaultdict(list)
    for r in ev.records:
        out[r.study].append(r)
    return out


# The 11 rows of the seed's Table 1, in its order.
TABLE1_STUDIES = [
    "corrales_rodriguez", "wang_jing_2019", "dou_2018_egfr_kras", "dou_alk", "yang_sen_2020",
    "zer_2017", "al_samkari_2020", "ng_2019", "alexander_2020", "chiari_2020", "yi_2022",
]
TEXT_STUDIES = ["davidsson_2017", "delmonte", "sussman_2020", "ades_2015"]
EXTRA_STUDIES = ["icht_2023", "dou_2021", "lee_2014", "taiwan_2022", "dunbar_2021",
                 "kavurgaci_2023", "respir_res_2020_letter", "ng_2018_wclc"]


def test_shipped_file_validates(ev):
    assert len(ev.records) >= 40
    assert len({r.id for r in ev.records}) == len(ev.records)


@pytest.mark.parametrize("study", TABLE1_STUDIES)
def test_every_table1_row_present(by_study, study):
    recs = by_study[study]
    assert recs, f"{study} missing"
    assert all(r.in_seed == "table1" for r in recs)
    assert any(r.include for r in recs) or all(r.exclusion_reason for r in recs)


@pytest.mark.parametrize("study", TEXT_STUDIES + EXTRA_STUDIES)
def test_text_and_extra_studies_present_with_reasons(by_study, study):
    recs = by_study[study]
    assert recs, f"{study} missing"
    for r in recs:
        assert r.include or (r.exclusion_reason and len(r.exclusion_reason) > 10)


def test_every_seed_discrepancy_recorded(ev):
    items = {d.item for r in ev.records for d in r.seed_discrepancy if d.item is not None}
    assert items == set(range(1, 13))


def test_specific_corrections(by_id, by_study):
    # 1. Wang: 60.6% is the EGFR share among VTE cases; incidence 33/323.
    w = by_id["wang_jing_2019_egfr_vte_counts"]
    assert w.events_gene + w.events_comparator == 33 and w.n_total == 323
    assert w.n_gene == 117
    # 2. Sen Yang ALK 6/29 (20.69%).
    y = by_id["yang_sen_2020_alk_vte_counts"]
    assert (y.events_gene, y.n_gene) == (6, 29)
    # 4. Dou 2018: SHR for EGFR wild-type, inverted in the analysis.
    d = by_id["dou_2018_egfr_vte_shr"]
    assert d.measure.value == "SHR" and d.orientation == "comparator_vs_gene"
    # 5. Zer: 98 ALK+ patients in two cohorts, no comparator.
    zer = by_study["zer_2017"]
    assert sum(r.n_gene for r in zer) == 98 and all(r.comparator == "none" for r in zer)
    # 6. Ng: per-gene TE proportions as in the abstract.
    ng = by_id["ng_2019_ros1_vs_egfr_te_counts"]
    assert (ng.events_gene, ng.n_gene, ng.events_comparator, ng.n_comparator) == (33, 95, 41, 300)
    assert (by_id["ng_2019_alk_vs_egfr_te_counts"].events_gene,
            by_id["ng_2019_alk_vs_egfr_te_counts"].n_gene) == (43, 193)
    assert (by_id["ng_2019_ros1_vs_kras_te_counts"].events_comparator,
            by_id["ng_2019_ros1_vs_kras_te_counts"].n_comparator) == (28, 152)
    # 8. Davidsson: Sweden, EGFR lower risk.
    dv = by_id["davidsson_2017_egfr_vte_hr"]
    assert dv.country == "Sweden" and dv.estimate < 1 and dv.ci_upper < 1
    # 11. Ades: colorectal, excluded.
    assert not by_id["ades_2015_kras_vte"].include
    assert "colorectal" in by_id["ades_2015_kras_vte"].exclusion_reason.lower()


def test_te_studies_are_not_vte(by_study):
    for study in ("ng_2019", "taiwan_2022", "yi_2022", "alexander_2020"):
        assert all(r.outcome.value == "TE" for r in by_study[study]), study


def test_duplicate_and_overlapping_cohorts_counted_once(by_id):
    assert not by_id["ng_2018_wclc_ros1_te"].include
    assert by_id["dou_alk_vte_shr"].include and not by_id["dou_2021_alk_vte_shr"].include
    assert by_id["dou_alk_vte_shr"].overlap_group == by_id["dou_2021_alk_vte_shr"].overlap_group


def test_derived_numbers_reproduce_their_arithmetic(by_id):
    """Each derivation recomputed from the C/S numbers it cites (studies.md)."""
    w = by_id["wang_jing_2019_egfr_vte_counts"]
    assert w.events_gene == round(0.606 * 33) and w.n_gene - w.events_gene == round(0.334 * 290)
    c = by_id["corrales_rodriguez_kras_vte_counts"]
    cases_pos, ctrl_pos = c.events_gene, c.n_gene - c.events_gene
    assert cases_pos == round(0.298 * 57) and ctrl_pos == round(0.14 * 102)
    crude = cases_pos * (102 - ctrl_pos) / (ctrl_pos * (57 - cases_pos))
    assert crude == pytest.approx(2.67, abs=0.005)  # the published OR
    a = by_id["al_samkari_2020_alk_vte_counts"]
    assert a.events_gene == round(0.427 * 422) and a.events_comparator == round(0.286 * 385)
    z = by_id["zer_2017_israel_alk_vte"]
    assert z.events_gene == round(0.28 * 43)
    assert round(100 * (23 + z.events_gene) / 98) == 36  # the reported overall 36%


@pytest.mark.parametrize(("rid", "univariate"), [
    ("ng_2019_ros1_vs_alk_te_counts", 1.86), ("ng_2019_ros1_vs_egfr_te_counts", 3.36),
    ("ng_2019_ros1_vs_kras_te_counts", 2.36)])
def test_ng_counts_match_the_univariate_ors_of_the_review(by_id, rid, univariate):
    r = by_id[rid]
    a, b = r.events_gene, r.n_gene - r.events_gene
    c, d = r.events_comparator, r.n_comparator - r.events_comparator
    assert a * d / (b * c) == pytest.approx(univariate, abs=0.005)


def test_every_number_has_a_source_and_derived_ones_a_formula(ev):
    for r in ev.records:
        for f in ("events_gene", "n_gene", "estimate", "ci_lower", "pvalue"):
            if getattr(r, f) is not None:
                assert f in r.sources, (r.id, f)
        if Source.DERIVED in r.sources.values():
            assert r.derivation and any(ch.isdigit() for ch in r.derivation)


def test_alternatives_point_to_included_records(by_id):
    for r in by_id.values():
        if r.alternative_to:
            assert not r.include
            assert by_id[r.alternative_to].include


def test_other_sources_listed(ev):
    keys = {o.key for o in ev.other_sources}
    assert {"ma_yuyuan", "qian_xiaohan", "verso_2015", "maezawa_2025"} <= keys
