"""Funnel plot: contour regions, studies, trim-and-fill points, and the contour polygons
against the coordinates metafor's funnel() draws."""

from __future__ import annotations

import html

import numpy as np
import pytest

from conftest import load_reference
from drivervte.errors import InputError
from drivervte.plots import funnel_plot
from drivervte.plots.funnel import filled_studies, funnel_bounds
from tolerances import RTOL_EXACT

from ._svg import gids, svg_of


def test_contour_regions_and_studies_present(vte_result):
    svg = svg_of(funnel_plot(vte_result))
    contours = gids(svg, "funnel-contour-")
    assert contours == ["funnel-contour-outside", "funnel-contour-99", "funnel-contour-95",
                        "funnel-contour-90"]
    assert len(gids(svg, "funnel-study-")) == vte_result.k
    assert gids(svg, "funnel-triangle") == ["funnel-triangle"]
    assert gids(svg, "funnel-estimate") == ["funnel-estimate"]
    text = html.unescape(svg)
    for lab in ("p ≥ 0.10", "0.05 ≤ p < 0.10", "0.01 ≤ p < 0.05", "p < 0.01"):
        assert lab in text


def test_y_axis_inverted_for_standard_error(vte_result):
    ax = funnel_plot(vte_result).axes[0]
    bottom, top = ax.get_ylim()
    assert top == 0.0 and bottom > np.sqrt(vte_result.vi).max()
    ax = funnel_plot(vte_result, yaxis="seinv").axes[0]
    lo, hi = ax.get_ylim()
    assert lo < hi  # precision axis grows upwards


def test_no_contour_option_and_proportions(vte_result, make):
    svg = svg_of(funnel_plot(vte_result, contour=False))
    assert gids(svg, "funnel-contour-") == []
    svg = svg_of(funnel_plot(make([0.2, 0.4, -0.1], [0.1, 0.2, 0.15], measure="PLO")))
    assert gids(svg, "funnel-contour-") == []  # no null for a proportion


def test_custom_levels_in_percent(vte_result):
    svg = svg_of(funnel_plot(vte_result, levels=(95, 99)))
    assert gids(svg, "funnel-contour-") == ["funnel-contour-outside", "funnel-contour-99",
                                            "funnel-contour-95"]
    assert "p ≥ 0.05" in html.unescape(svg)


def test_trimfill_studies_as_open_circles(vte_result):
    filled = {"yi": [-0.3, -0.5], "vi": [0.2, 0.35], "estimate": 0.25}
    fig = funnel_plot(vte_result, filled=filled)
    svg = svg_of(fig)
    assert gids(svg, "funnel-filled-") == ["funnel-filled-1", "funnel-filled-2"]
    assert gids(svg, "funnel-adjusted-estimate") == ["funnel-adjusted-estimate"]
    for line in fig.axes[0].lines:
        if (line.get_gid() or "").startswith("funnel-filled-"):
            assert line.get_markerfacecolor() == "white"
    # metafor-style result with a fill mask
    class TF:
        yi = np.array([0.1, 0.2, -0.4])
        vi = np.array([0.1, 0.1, 0.2])
        fill = np.array([False, False, True])
    yi, vi = filled_studies(TF())
    assert yi.tolist() == [-0.4] and vi.tolist() == [0.2]
    yi, vi = filled_studies(([1.0], [0.5]))
    assert yi.tolist() == [1.0]


def test_bad_inputs(vte_result, make):
    with pytest.raises(InputError, match="yaxis"):
        funnel_plot(vte_result, yaxis="ni")
    with pytest.raises(InputError, match="levels"):
        funnel_plot(vte_result, levels=(0.9, 100))
    with pytest.raises(InputError, match="filled"):
        funnel_plot(vte_result, filled={"yi": [0.1, 0.2], "vi": [0.1]})
    res = make([0.1, 0.2], [0.1, 0.1])
    res.vi = np.array([0.1, 0.0])
    with pytest.raises(InputError, match="positive variances") as err:
        funnel_plot(res)
    assert err.value.rows == [1]


def test_ratio_ticks_in_ratio_units(vte_result):
    ax = funnel_plot(vte_result).axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert "1" in labels
    pos = ax.get_xticks()
    assert np.exp(pos[labels.index("1")]) == pytest.approx(1.0)


@pytest.mark.parametrize("yaxis", ["sei", "vi", "seinv", "vinv"])
def test_contours_match_metafor_polygons(yaxis):
    ref = load_reference("metafor_plots")
    case = next(f for f in ref["funnels"] if f["yaxis"] == yaxis)
    assert [c["level"] for c in case["contours"]] == [99, 95, 90]
    for c in case["contours"]:
        y = np.asarray(c["y"])
        left, right = funnel_bounds(y, yaxis, 0.0, c["level"])
        np.testing.assert_allclose(left, c["left"], rtol=RTOL_EXACT)
        np.testing.assert_allclose(right, c["right"], rtol=RTOL_EXACT)


def test_with_real_trimfill():
    import warnings

    from drivervte.meta import fit_rma
    from drivervte.meta.trimfill import trimfill

    yi = np.array([0.1, 0.15, 0.05, 0.4, 0.6, 0.8, 0.9, 0.3, 1.1])
    vi = np.array([0.01, 0.015, 0.02, 0.05, 0.08, 0.1, 0.12, 0.04, 0.2])
    res = fit_rma(yi, vi, method="REML", measure="OR")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small-k warning of trim-and-fill
        tf = trimfill(res)
        fig = funnel_plot(res, filled=tf)
        fig_auto = funnel_plot(res, filled=True)
    assert tf.k0 > 0
    svg = svg_of(fig)
    assert len(gids(svg, "funnel-filled-")) == tf.k0
    adj = next(ln for ln in fig.axes[0].lines if ln.get_gid() == "funnel-adjusted-estimate")
    assert adj.get_xdata()[0] == pytest.approx(tf.estimate)
    pts = sorted(ln.get_xdata()[0] for ln in fig.axes[0].lines
                 if (ln.get_gid() or "").startswith("funnel-filled-"))
    np.testing.assert_allclose(pts, np.sort(tf.filled_yi))
    assert svg == svg_of(fig_auto)
