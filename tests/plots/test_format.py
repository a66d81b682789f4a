"""Text of the plots and axis scales."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivervte.plots._format import (
    fmt_ci,
    fmt_pvalue,
    fmt_value,
    heterogeneity_text,
    level_fraction,
    overall_test_text,
    subgroup_test_text,
)
from drivervte.plots._scale import auto_limits, make_scale, ratio_ticks


@pytest.mark.parametrize("p, text", [
    (0.09, "p = 0.090"), (0.014, "p = 0.014"), (0.0456, "p = 0.046"), (0.45, "p = 0.45"), (0.0004, "p < 0.001"), (0.999, "p > 0.99"),
    (1.0, "p = 1.00"), (float("nan"), "p = NA"), (None, "p = NA"),
])
def test_pvalues(p, text):
    assert fmt_pvalue(p) == text


def test_values_and_intervals():
    assert fmt_ci(2.6712, 1.1234, 6.4188) == "2.67 [1.12, 6.42]"
    assert fmt_value(-0.1234) == "\u22120.12"
    assert fmt_value(-0.001) == "0.00"  # no negative zero
    assert fmt_value(math.inf) == "∞" and fmt_value(None) == "NA"
    assert level_fraction(95) == 0.95 and level_fraction(0.9) == 0.9


def test_heterogeneity_and_tests(make):
    res = make([0.1, 0.5, 0.9, 0.2], [0.02, 0.03, 0.05, 0.04], I2_ci_lower=10.0,
               I2_ci_upper=90.0)
    text = heterogeneity_text(res)
    assert text.startswith("Heterogeneity: tau² = ")
    assert f"I² = {res.I2:.0f}% [10%, 90%]" in text
    assert f"Q = {res.Q:.2f} (df = 3)" in text
    ee = make([0.1, 0.5], [0.02, 0.03], method="EE")
    assert "tau²" not in heterogeneity_text(ee)
    assert overall_test_text(res).startswith(f"Test for overall effect: z = {res.statistic:.2f}")
    kh = make([0.1, 0.5, 0.9], [0.02, 0.03, 0.05], df=2.0, test="knha")
    assert "t = " in overall_test_text(kh) and "(df = 2)" in overall_test_text(kh)
    assert subgroup_test_text(2.1, 1, 0.147) == (
        "Test for subgroup differences: Q = 2.10 (df = 1), p = 0.15")


def test_scales():
    s = make_scale("OR")
    assert s.log and s.null == 1.0 and s.label == "Odds ratio (log scale)"
    s = make_scale("OR", transform=False)
    assert not s.log and s.null == 0.0 and s.label == "Log odds ratio"
    s = make_scale("PLO")
    assert not s.log and s.null is None
    np.testing.assert_allclose(s.values([0.0]), [0.5])


@given(st.lists(st.floats(0.01, 100), min_size=1, max_size=20))
def test_ratio_limits_symmetric_and_cover_core(points):
    s = make_scale("OR")
    core = np.array([*points, 1.0])
    lo, hi = auto_limits(s, core, core)
    assert lo * hi == pytest.approx(1.0)
    assert lo <= core.min() * (1 + 1e-9) and hi >= core.max() * (1 - 1e-9)
    ticks = ratio_ticks(lo, hi)
    assert 1.0 in ticks and 3 <= len(ticks) <= 7
    assert all(lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9) for t in ticks)
