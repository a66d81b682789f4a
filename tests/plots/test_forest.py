"""Forest plot: structure of the SVG (labels, squares, diamonds, lines), edge cases, and the
study intervals / annotations against what metafor's forest() draws."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

from conftest import load_reference
from drivervte.errors import InputError
from drivervte.meta import fit_rma, subgroup_analysis
from drivervte.meta.result import ModeratorResult
from drivervte.plots import forest_plot
from drivervte.plots._forest_rows import build_table, study_intervals
from drivervte.plots._scale import make_scale
from tolerances import RTOL_EXACT

from ._svg import gids, svg_of
from .conftest import VTE_STUDIES


def test_every_study_label_square_and_ci_in_svg(vte_result):
    svg = svg_of(forest_plot(vte_result))
    text = html.unescape(svg)
    for name in VTE_STUDIES:
        assert name in text
    k = vte_result.k
    assert gids(svg, "forest-study-") == [f"forest-study-{i}" for i in range(1, k + 1)]
    assert len(gids(svg, "forest-ci-")) == k
    assert gids(svg, "forest-diamond-") == ["forest-diamond-overall"]
    assert gids(svg, "forest-pi-") == ["forest-pi-overall"]
    assert "Heterogeneity: tau² = " in text and "I² = 70% [12%, 81%]" in text
    assert "Test for overall effect: z = " in text
    assert "OR [95% CI]" in text and "Odds ratio (log scale)" in text


def test_annotations_are_back_transformed(vte_result):
    table = build_table(vte_result, make_scale("OR"))
    first = table.rows[0]
    lo, hi = study_intervals(vte_result.yi[:1], vte_result.vi[:1], 95)
    expected = f"{np.exp(vte_result.yi[0]):.2f} [{np.exp(lo[0]):.2f}, {np.exp(hi[0]):.2f}]"
    assert first.annotation == expected
    assert first.annotation.startswith("2.67 [")
    summary = next(r for r in table.rows if r.kind == "summary")
    assert summary.est == pytest.approx(np.exp(vte_result.estimate), rel=1e-12)
    assert summary.weight == pytest.approx(100.0)


def test_equal_effects_model_has_no_pi_and_no_tau2(make):
    res = make([0.1, 0.3, -0.2], [0.05, 0.04, 0.08], method="EE")
    svg = svg_of(forest_plot(res))
    assert gids(svg, "forest-pi-") == []
    assert "tau²" not in html.unescape(svg)
    assert "common effect" in html.unescape(svg)


def test_show_pi_false_and_no_weights(vte_result):
    svg = svg_of(forest_plot(vte_result, show_pi=False, show_weights=False))
    assert gids(svg, "forest-pi-") == []
    assert "Weight" not in html.unescape(svg)


def test_log_axis_for_ratios_and_linear_for_differences(vte_result, make):
    fig = forest_plot(vte_result)
    assert fig.axes[0].get_xscale() == "log"
    lo, hi = fig.axes[0].get_xlim()
    assert lo * hi == pytest.approx(1.0)  # symmetric around the null on the log scale
    fig = forest_plot(make([0.05, 0.1, -0.02], [0.001, 0.002, 0.0015], measure="RD"))
    assert fig.axes[0].get_xscale() == "linear"
    fig = forest_plot(vte_result, transform=False)
    assert fig.axes[0].get_xscale() == "linear"
    assert "Log odds ratio" in html.unescape(svg_of(fig))


def test_k_equal_one(make):
    res = make([0.98], [0.19], study=["Corrales-Rodriguez 2015"])
    svg = svg_of(forest_plot(res))
    text = html.unescape(svg)
    assert "Corrales-Rodriguez 2015" in text
    assert len(gids(svg, "forest-study-")) == 1
    assert gids(svg, "forest-diamond-") == ["forest-diamond-overall"]
    assert "Heterogeneity: not applicable (one study)" in text


def test_long_labels_are_wrapped_not_clipped(make):
    long = ("Multicentre Australian ROS1 cohort from six hospitals with a very long "
            "descriptive name 2020")
    fig = forest_plot(make([0.5, 0.1], [0.04, 0.1], study=[long, "Short"]))
    text = html.unescape(svg_of(fig))
    words = long.split()
    assert all(w in text for w in words)
    # every text element lies inside the figure
    renderer = fig.canvas.get_renderer()
    fig_box = fig.bbox
    for t in fig.texts + fig.axes[0].texts:
        if t.get_text():
            bb = t.get_window_extent(renderer)
            assert bb.x0 >= fig_box.x0 - 1 and bb.x1 <= fig_box.x1 + 1, t.get_text()


def test_wide_intervals_get_arrows(make):
    res = make([0.5, 2.5, -0.2, 0.1], [0.04, 4.0, 9.0, 0.1])
    svg = svg_of(forest_plot(res))
    arrows = gids(svg, "forest-arrow-")
    assert "forest-arrow-2-right" in arrows
    assert {"forest-arrow-3-left", "forest-arrow-3-right"} <= set(arrows)
    assert not any(a.startswith("forest-arrow-1-") for a in arrows)
    # explicit xlim clips too
    svg = svg_of(forest_plot(res, xlim=(0.5, 2)))
    assert "forest-arrow-1-right" in gids(svg, "forest-arrow-")


def test_many_studies_grow_the_figure(make):
    rng = np.random.default_rng(1)
    small = forest_plot(make(rng.normal(0.3, 0.3, 5), rng.uniform(0.02, 0.3, 5)))
    big = forest_plot(make(rng.normal(0.3, 0.3, 45), rng.uniform(0.02, 0.3, 45)))
    assert big.get_figheight() > small.get_figheight() + 40 * 0.18
    assert len(gids(svg_of(big), "forest-study-")) == 45


def test_squares_sized_by_weight(vte_result):
    fig = forest_plot(vte_result)
    sizes = {}
    for line in fig.axes[0].lines:
        gid = line.get_gid() or ""
        if gid.startswith("forest-study-"):
            sizes[int(gid.rsplit("-", 1)[1])] = line.get_markersize()
    w = vte_result.weights
    order_w = np.argsort(w)
    order_s = np.argsort([sizes[i + 1] for i in range(len(w))])
    assert list(order_w) == list(order_s)
    heaviest = int(np.argmax(w)) + 1
    assert sizes[heaviest] == pytest.approx(10.0)


def test_subgroups_with_real_models():
    rng = np.random.default_rng(7)
    yi = np.concatenate([rng.normal(0.9, 0.3, 4), rng.normal(1.0, 0.3, 5),
                         rng.normal(0.2, 0.3, 3)])
    vi = rng.uniform(0.03, 0.3, yi.size)
    groups = ["EGFR"] * 4 + ["ALK"] * 5 + ["KRAS"] * 3
    study = [f"{g} study {i}" for i, g in enumerate(groups, start=1)]
    sub = subgroup_analysis(yi, vi, groups, method="REML", measure="OR", study=study)
    overall = fit_rma(yi, vi, method="REML", measure="OR", study=study)
    svg = svg_of(forest_plot(overall, subgroups=sub, title="VTE by driver gene"))
    text = html.unescape(svg)
    for g in ("EGFR", "ALK", "KRAS"):
        assert g in text
    assert all(s in text for s in study)
    assert len(gids(svg, "forest-study-")) == 12
    assert gids(svg, "forest-diamond-") == ["forest-diamond-group-1", "forest-diamond-group-2",
                                            "forest-diamond-group-3", "forest-diamond-overall"]
    assert len(gids(svg, "forest-heterogeneity-group-")) == 3
    line = re.search(r"Test for subgroup differences: Q = ([0-9.]+) \(df = 2\)", text)
    assert line and float(line.group(1)) == pytest.approx(sub.Q_between, abs=0.005)


def test_subgroups_as_plain_mapping(make):
    a = make([0.1, 0.2], [0.05, 0.06], study=["a1", "a2"])
    b = make([0.5, 0.7, 0.6], [0.05, 0.06, 0.1], study=["b1", "b2", "b3"])
    tot = make(np.r_[a.yi, b.yi], np.r_[a.vi, b.vi])
    svg = svg_of(forest_plot(tot, subgroups={"A": a, "B": b}))
    assert len(gids(svg, "forest-diamond-")) == 3
    assert "Test for subgroup differences" not in html.unescape(svg)


def test_metaresult_forest_method_writes_file(tmp_path):
    res = fit_rma(np.log([2.67, 3.06, 0.62]), [0.195, 0.14, 0.09], method="REML",
                  measure="OR", study=["a", "b", "c"])
    out = tmp_path / "f.svg"
    fig = res.forest(out)
    assert out.read_text().count('id="forest-study-') == 3
    assert fig.get_figwidth() > 4


def test_bad_inputs(vte_result, make):
    with pytest.raises(InputError, match="labels"):
        forest_plot(vte_result, labels=["only one"])
    with pytest.raises(InputError, match="xlim"):
        forest_plot(vte_result, xlim=(0, 10))
    with pytest.raises(InputError, match="xlim"):
        forest_plot(vte_result, xlim=(5, 1))
    with pytest.raises(InputError, match="favours"):
        forest_plot(vte_result, favours=("only one",))
    mod = ModeratorResult(names=["intrcpt", "x"], coef=np.zeros(2), se=np.ones(2),
                          statistic=np.zeros(2), pvalue=np.ones(2), ci_lower=np.zeros(2),
                          ci_upper=np.zeros(2), QM=0.0, QM_df=1, QM_pvalue=1.0)
    with pytest.raises(InputError, match="meta-regression"):
        forest_plot(make([0.1, 0.2, 0.3], [0.1, 0.1, 0.1], moderators=mod))
    with pytest.raises(InputError, match="not a meta-analysis result"):
        forest_plot(object())


def test_labels_and_favours(vte_result):
    labels = [f"S{i}" for i in range(vte_result.k)]
    svg = svg_of(forest_plot(vte_result, labels=labels, favours=("Lower risk", "Higher risk")))
    text = html.unescape(svg)
    assert all(lab in text for lab in labels)
    assert "VTE" not in text.split("Lower risk")[0][-5:]
    assert "forest-favours-left" in svg and "Higher risk" in text


# ---------------------------------------------------------------- metafor reference
# case name -> (data set, measure, method) of the R call in tests/reference/R/metafor_plots.R
_REF_MODELS = {
    "bcg_rr_reml": ("bcg_rr", "RR", "REML"),
    "bcg_rr_reml_level90": ("bcg_rr", "RR", "REML"),
    "bcg_or_ee_transf": ("bcg_or", "OR", "EE"),
    "prop_pft_reml_transf": ("prop_pft", "PFT", "REML"),
    "prop_plo_dl_transf": ("prop_plo", "PLO", "DL"),
}
_REF_CASES = list(range(len(_REF_MODELS)))


def _ref_result(make, case, data):
    key, measure, method = _REF_MODELS[case["name"]]
    d = data[key]
    return make(d["yi"], d["vi"], measure=measure, method=method, level=case["level"],
                ni=d.get("ni"), estimate=case["estimate"], ci_lower=case["ci_lb"],
                ci_upper=case["ci_ub"])


def test_reference_cases_are_all_covered():
    ref = load_reference("metafor_plots")
    assert [c["name"] for c in ref["cases"]] == list(_REF_MODELS)


@pytest.mark.parametrize("idx", _REF_CASES)
def test_study_intervals_match_metafor_forest(make, idx):
    ref = load_reference("metafor_plots")
    case = ref["cases"][idx]
    res = _ref_result(make, case, ref["data"])
    transf = ", transf =" in case["call"]
    table = build_table(res, make_scale(res.measure, True))
    studies = [r for r in table.rows if r.kind == "study"]
    if transf:  # forest(transf = exp): metafor draws the segments on the ratio scale
        lo = np.array([r.lo for r in studies])
        hi = np.array([r.hi for r in studies])
    else:       # atransf: segments on the model scale
        lo, hi = study_intervals(res.yi, res.vi, res.level)
    np.testing.assert_allclose(lo, case["study_ci_lower"], rtol=RTOL_EXACT)
    np.testing.assert_allclose(hi, case["study_ci_upper"], rtol=RTOL_EXACT)
    # diamond vertices: (lb, est, ub, est), on the drawn scale
    summary = next(r for r in table.rows if r.kind == "summary")
    drawn = case["diamond_x"]
    got = [summary.lo, summary.est, summary.hi, summary.est]
    if not transf:
        got = list(np.log(got))
    np.testing.assert_allclose(got, drawn, rtol=RTOL_EXACT)


@pytest.mark.parametrize("idx", _REF_CASES)
def test_annotation_text_matches_metafor(make, idx):
    ref = load_reference("metafor_plots")
    case = ref["cases"][idx]
    res = _ref_result(make, case, ref["data"])
    table = build_table(res, make_scale(res.measure, True))
    ours = sorted(r.annotation.replace("\u2212", "-") for r in table.rows
                  if r.kind in ("study", "summary"))
    theirs = sorted(re.sub(r"\s+", " ", a).replace("[ ", "[") for a in case["annotations"])
    assert ours == theirs


def test_subgroup_result_passed_as_res_explains_itself():
    sub = subgroup_analysis([0.1, 0.2, 0.5, 0.6], [0.1, 0.1, 0.1, 0.1], ["a", "a", "b", "b"],
                            measure="OR")
    with pytest.raises(InputError, match="subgroups="):
        forest_plot(sub)


def test_square_sizes_compare_across_subgroups(make):
    precise = make([0.1, 0.2], [0.01, 0.012], study=["p1", "p2"])
    lone = make([0.5], [0.5], study=["imprecise"])
    tot = make(np.r_[precise.yi, lone.yi], np.r_[precise.vi, lone.vi])
    fig = forest_plot(tot, subgroups={"A": precise, "B": lone})
    sizes = {ln.get_gid(): ln.get_markersize() for ln in fig.axes[0].lines
             if (ln.get_gid() or "").startswith("forest-study-")}
    assert sizes["forest-study-3"] < sizes["forest-study-1"] / 3


def test_not_estimable_row_and_overflowing_interval(make):
    res = make([0.5, 0.7, 0.2, 0.1], [0.1, 0.1, 0.1, 1e6])
    res.yi = np.array([0.5, np.nan, 0.2, 0.1])
    svg = svg_of(forest_plot(res))
    text = html.unescape(svg)
    assert "not estimable" in text and "Study 2" in text
    assert gids(svg, "forest-study-") == ["forest-study-1", "forest-study-3", "forest-study-4"]
    # exp() of the huge interval overflows to inf / underflows to 0: arrows both ways
    assert {"forest-arrow-4-left", "forest-arrow-4-right"} <= set(gids(svg, "forest-arrow-"))


def test_missing_heterogeneity_numbers_print_na(make):
    res = make([0.5, 0.7], [0.1, 0.1], I2=float("nan"), Q=float("nan"),
               Q_pvalue=float("nan"), tau2=float("nan"), pi_lower=float("nan"),
               pi_upper=float("nan"))
    svg = svg_of(forest_plot(res))
    text = html.unescape(svg)
    assert "tau² = NA; I² = NA; Q = NA (df = 1), p = NA" in text
    assert gids(svg, "forest-pi-") == []  # no finite prediction interval, none drawn


def test_unconverged_model_and_notes_are_shown(make):
    res = make([0.1, 0.4, 0.3], [0.05, 0.04, 0.08], converged=False,
               warnings=["REML did not converge in 100 iterations"],
               excluded=[{"row": 3, "study": "Zero 2020", "reason": "no events in either arm"}])
    svg = svg_of(forest_plot(res))
    text = html.unescape(svg)
    assert "forest-not-converged" in svg and "did not converge" in text
    assert "Note: REML did not converge in 100 iterations" in text
    assert "Not included: Zero 2020 (no events in either arm)" in text


def test_long_group_names_are_wrapped_whole(make):
    name = "EGFR exon 19 deletion or exon 21 L858R mutation versus EGFR wild type tumours"
    a = make([0.1, 0.2], [0.05, 0.06], study=["a1", "a2"])
    table = build_table(make(a.yi, a.vi), make_scale("OR"), subgroups={name: a})
    head = next(r for r in table.rows if r.kind == "group")
    assert head.label.replace("\n", " ") == name and head.lines == 2
