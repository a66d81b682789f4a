"""Cumulative incidence plot: step shape, bands, at-risk table, validation, engine adapter."""

from __future__ import annotations

import html

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivervte.errors import InputError
from drivervte.plots import (
    cif_confidence_band,
    cumulative_incidence_plot,
    curves_from_prediction,
    curves_from_result,
    number_at_risk,
)
from drivervte.survival.cuminc import cumulative_incidence

from ._svg import gids, svg_of

CURVES = {
    "ALK-positive": {"time": [2.0, 5.0, 9.0], "estimate": [0.05, 0.12, 0.2],
                     "variance": [0.0004, 0.0009, 0.0016], "end": 24.0},
    "ALK-negative": {"time": [3.0, 12.0], "estimate": [0.03, 0.08],
                     "variance": [0.0001, 0.0004]},
}


def _line(fig, gid):
    return next(ln for ln in fig.axes[0].lines if ln.get_gid() == gid)


def test_steps_start_at_zero_and_are_right_continuous():
    fig = cumulative_incidence_plot(CURVES)
    line = _line(fig, "cif-curve-1")
    assert line.get_drawstyle() == "steps-post"
    x, y = line.get_xdata(), line.get_ydata()
    assert (x[0], y[0]) == (0.0, 0.0)
    assert list(x) == [0.0, 2.0, 5.0, 9.0, 24.0]  # held to the end of follow-up
    assert list(y) == [0.0, 0.05, 0.12, 0.2, 0.2]
    x2 = _line(fig, "cif-curve-2").get_xdata()
    assert x2[-1] == 12.0  # no end given: stops at the last jump


def test_bands_from_variance_and_labels():
    svg = svg_of(cumulative_incidence_plot(CURVES, ylabel="Cumulative incidence of VTE"))
    assert gids(svg, "cif-curve-") == ["cif-curve-1", "cif-curve-2"]
    assert gids(svg, "cif-band-") == ["cif-band-1", "cif-band-2"]
    text = html.unescape(svg)
    assert "ALK-positive" in text and "Cumulative incidence of VTE" in text
    svg = svg_of(cumulative_incidence_plot(CURVES, ci=False))
    assert gids(svg, "cif-band-") == []


def test_band_follows_the_curve_to_its_end():
    fig = cumulative_incidence_plot(CURVES)
    band = next(c for c in fig.axes[0].collections if c.get_gid() == "cif-band-1")
    xs = band.get_paths()[0].vertices[:, 0]
    assert xs.min() == 0.0 and xs.max() == 24.0


def test_at_risk_table():
    times = [0, 6, 12, 18, 24]
    at_risk = {"ALK-positive": [100, 80, 61, 40, 22], "ALK-negative": [120, 99, 70, 52, 30]}
    svg = svg_of(cumulative_incidence_plot(CURVES, at_risk=at_risk, times=times))
    text = html.unescape(svg)
    assert "Number at risk" in text
    assert len(gids(svg, "cif-atrisk-1-")) == 5 and len(gids(svg, "cif-atrisk-2-")) == 5
    for n in (100, 80, 61, 40, 22, 120, 99, 70, 52, 30):
        assert f">{n}<" in svg


def test_number_at_risk_counts():
    assert number_at_risk([1, 2, 2, 5, 7], [0, 2, 3, 7, 8]).tolist() == [5, 4, 2, 1, 0]
    with pytest.raises(InputError):
        number_at_risk([1, np.nan], [0])


def test_log_log_band_is_the_engines_and_plain_is_clipped():
    f = np.array([0.0, 0.05, 0.3, 1.0])
    v = np.array([0.0, 0.0004, 0.01, 0.0])
    lo, hi = cif_confidence_band(f, v)
    z = 1.959963984540054
    k = z * np.sqrt(v[1]) / (f[1] * np.log(f[1]))
    assert lo[1] == pytest.approx(f[1] ** np.exp(-k), rel=1e-12)
    assert hi[1] == pytest.approx(f[1] ** np.exp(k), rel=1e-12)
    assert (lo[0], hi[0], lo[3], hi[3]) == (0.0, 0.0, 1.0, 1.0)
    lo, hi = cif_confidence_band([0.01], [0.01], method="plain")
    assert lo[0] == 0.0 and hi[0] == pytest.approx(0.01 + z * 0.1)
    with pytest.raises(InputError):
        cif_confidence_band([0.1], [0.1], method="arcsine")


@settings(max_examples=60, deadline=None)
@given(st.floats(1e-4, 0.9999), st.floats(0, 0.05), st.floats(0.5, 0.999))
def test_band_contains_estimate_within_unit_interval(f, v, level):
    lo, hi = cif_confidence_band([f], [v], level=level)
    assert 0.0 <= lo[0] <= f + 1e-15 and f - 1e-15 <= hi[0] <= 1.0


def test_explicit_limits_are_used():
    curves = {"A": {"time": [1.0, 2.0], "estimate": [0.1, 0.2], "lower": [0.05, 0.1],
                    "upper": [0.2, 0.3]}}
    fig = cumulative_incidence_plot(curves)
    band = fig.axes[0].collections[0]
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.max() == pytest.approx(0.3) and ys.min() == 0.0


def test_tuple_and_list_inputs():
    svg = svg_of(cumulative_incidence_plot([([1.0, 2.0], [0.1, 0.2])]))
    assert "Group 1" in html.unescape(svg)


@pytest.mark.parametrize("bad, match", [
    ({"A": {"time": [2.0, 1.0], "estimate": [0.1, 0.2]}}, "sorted"),
    ({"A": {"time": [1.0, 2.0], "estimate": [0.2, 0.1]}}, "cannot decrease"),
    ({"A": {"time": [1.0, 2.0], "estimate": [0.2, 1.2]}}, r"\[0, 1\]"),
    ({"A": {"time": [-1.0, 2.0], "estimate": [0.1, 0.2]}}, ">= 0"),
    ({"A": {"time": [1.0, 2.0], "estimate": [0.1]}}, "estimates"),
    ({"A": {"estimate": [0.1]}}, "needs 'time'"),
    ({}, "empty"),
])
def test_validation(bad, match):
    with pytest.raises(InputError, match=match):
        cumulative_incidence_plot(bad)


def test_at_risk_validation():
    with pytest.raises(InputError, match="needs times"):
        cumulative_incidence_plot(CURVES, at_risk={"ALK-positive": [1]})
    with pytest.raises(InputError, match="one count per time"):
        cumulative_incidence_plot(CURVES, at_risk={"ALK-positive": [1]}, times=[0, 6])
    with pytest.raises(InputError, match="not in curves"):
        cumulative_incidence_plot(CURVES, at_risk={"EGFR": [1]}, times=[0])


def test_engine_result_adapter():
    rng = np.random.default_rng(0)
    n = 200
    t = rng.exponential(20, n).round(1) + 0.1
    status = rng.choice([0, 1, 2], n, p=[0.5, 0.2, 0.3])
    group = rng.choice(["ALK+", "ALK-"], n)
    res = cumulative_incidence(t, status, group)
    curves = curves_from_result(res, cause=1)
    assert set(curves) == {"ALK+", "ALK-"}
    c = res.curves["ALK+"]["1"]
    np.testing.assert_array_equal(curves["ALK+"]["estimate"], c.estimate)
    assert curves["ALK+"]["end"] == c.max_time
    times = [0, 12, 24, 36]
    svg = svg_of(cumulative_incidence_plot(res, at_risk=True, times=times))
    assert gids(svg, "cif-curve-") == ["cif-curve-1", "cif-curve-2"]
    expected = number_at_risk(t[group == "ALK+"], times)
    first = res.groups.index("ALK+") + 1
    for m, n_ in enumerate(expected, start=1):
        assert f'id="cif-atrisk-{first}-{m}"' in svg
        assert f">{n_}<" in svg
    with pytest.raises(InputError, match="cause"):
        curves_from_result(res, cause=3)
    gray = res.gray["1"]
    text = html.unescape(svg)
    assert f"Gray's test: χ² = {gray.statistic:.2f} (df = 1)" in text
    svg2 = svg_of(cumulative_incidence_plot(res, cause=2, gray_test=False))
    assert "Gray's test" not in html.unescape(svg2)


def test_prediction_adapter_draws_model_curves_with_bands():
    import pandas as pd

    from drivervte.survival.finegray import FineGray

    rng = np.random.default_rng(2)
    n = 150
    df = pd.DataFrame({"time": rng.exponential(20, n).round(1) + 0.1,
                       "status": rng.choice([0, 1, 2], n, p=[0.4, 0.3, 0.3]),
                       "alk": rng.integers(0, 2, n)})
    fg = FineGray().fit(df, time="time", status="status", covariates=["alk"])
    pr = fg.predict([{"alk": 0}, {"alk": 1}], fg.uftime_, method="survfit")
    curves = curves_from_prediction(pr, labels=["ALK-", "ALK+"])
    assert list(curves) == ["ALK-", "ALK+"]
    np.testing.assert_array_equal(curves["ALK+"]["estimate"], pr.estimate[:, 1])
    np.testing.assert_array_equal(curves["ALK+"]["upper"], pr.ci_upper[:, 1])
    assert list(curves_from_prediction(pr)) == ["alk=0", "alk=1"]
    svg = svg_of(cumulative_incidence_plot(curves, times=[0, 12, 24, 36], gray_test=False))
    assert gids(svg, "cif-curve-") == ["cif-curve-1", "cif-curve-2"]
    assert gids(svg, "cif-band-") == ["cif-band-1", "cif-band-2"]
    with pytest.raises(InputError, match="labels"):
        curves_from_prediction(pr, labels=["same", "same"])
    with pytest.raises(InputError):
        curves_from_prediction(fg.result_)
