"""Kaplan-Meier against survival::survfit(conf.type = "log-log")."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import load_reference
from drivervte.errors import InputError
from drivervte.survival.kaplan_meier import as_labels, kaplan_meier
from tolerances import RTOL_EXACT

CASES = load_reference("survival_km")["cases"]


def _num(v):
    v = v if isinstance(v, list) else [v]
    return np.array([np.nan if x is None else x for x in v], dtype=float)


def _finite_or_nan(x):
    x = np.asarray(x, dtype=float)
    return np.where(np.isfinite(x), x, np.nan)  # JSON stores Inf (S = 0) as null


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_matches_survfit(case):
    res = kaplan_meier(case["input"]["time"], case["input"]["event"])
    np.testing.assert_array_equal(res.times, _num(case["time"]))
    np.testing.assert_array_equal(res.n_risk, _num(case["n_risk"]))
    np.testing.assert_array_equal(res.n_event, _num(case["n_event"]))
    np.testing.assert_array_equal(res.n_censor, _num(case["n_censor"]))
    for mine, ref in (
        (res.survival, "surv"),
        (res.std_err, "std_err"),
        (res.ci_lower, "lower"),
        (res.ci_upper, "upper"),
    ):
        np.testing.assert_allclose(_finite_or_nan(mine), _num(case[ref]), rtol=RTOL_EXACT)
    for mine, ref in (
        (res.median, "median"),
        (res.median_lower, "median_lower"),
        (res.median_upper, "median_upper"),
    ):
        np.testing.assert_allclose(mine, _num(case[ref])[0], rtol=RTOL_EXACT)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_values_at_times_match_summary(case):
    res = kaplan_meier(case["input"]["time"], case["input"]["event"])
    ref = case["at"]
    at = res.at(_num(ref["times"]))
    np.testing.assert_allclose(at["survival"], _num(ref["surv"]), rtol=RTOL_EXACT)
    # summary() reports the standard error of S (S * std.err of log S)
    with np.errstate(invalid="ignore"):  # 0 * inf once S reaches 0
        se_s = at["survival"] * at["std_err"]
    np.testing.assert_allclose(_finite_or_nan(se_s), _num(ref["std_err"]), rtol=RTOL_EXACT)
    np.testing.assert_allclose(at["ci_lower"], _num(ref["lower"]), rtol=RTOL_EXACT)
    np.testing.assert_allclose(at["ci_upper"], _num(ref["upper"]), rtol=RTOL_EXACT)
    np.testing.assert_array_equal(at["n_risk"], _num(ref["n_risk"]))


def test_hand_example_and_greenwood():
    res = kaplan_meier([1, 2, 2, 3], [1, 1, 0, 1])
    # S(1) = 3/4, S(2) = 3/4 * 2/3 = 1/2, S(3) = 0
    np.testing.assert_allclose(res.survival, [0.75, 0.5, 0.0])
    # Greenwood: var S(2) = S^2 (1/(4*3) + 1/(3*2)) = 0.25 * 0.25
    assert res.variance[1] == pytest.approx(0.0625, rel=1e-14)
    assert res.median == pytest.approx(2.5)  # S = 0.5 exactly on [2, 3): midpoint
    assert "median" in res.summary()
    d = res.to_dict()
    assert d["ci_lower"][-1] is None and d["std_err"][-1] is None


def test_after_last_time_is_nan():
    res = kaplan_meier([1, 2, 5], [1, 0, 0])
    at = res.at([0, 5, 6])
    assert at["survival"][0] == 1.0 and at["survival"][1] == pytest.approx(2 / 3)
    assert np.isnan(at["survival"][2])


def test_bad_input():
    with pytest.raises(InputError) as exc:
        kaplan_meier([1, 2], [1, 2])
    assert exc.value.column == "status_event" and exc.value.rows == [1]
    with pytest.raises(InputError):
        kaplan_meier([1, -2], [1, 0])


def test_as_labels_sorts_numbers_numerically():
    codes, labels = as_labels([10, 2, 10.0], 3, "g")
    assert labels == ["2", "10"] and codes.tolist() == [1, 0, 1]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 10), st.integers(0, 1)), min_size=1, max_size=40),
)
def test_monotone_bounded_and_ci_brackets(rows):
    t = np.array([r[0] for r in rows], float)
    d = np.array([r[1] for r in rows])
    res = kaplan_meier(t, d)
    assert np.all(np.diff(res.survival) <= 0)
    assert np.all((res.survival >= 0) & (res.survival <= 1))
    ok = np.isfinite(res.ci_lower)
    assert np.all(res.ci_lower[ok] <= res.survival[ok] + 1e-15)
    assert np.all(res.survival[ok] <= res.ci_upper[ok] + 1e-15)
