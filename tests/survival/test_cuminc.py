"""Cumulative incidence (Aalen-Johansen, cmprsk variance) against cmprsk::cuminc/timepoints."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import load_reference
from drivervte.errors import InputError
from drivervte.survival.cuminc import cif_confint, cumulative_incidence
from drivervte.survival.kaplan_meier import kaplan_meier
from tolerances import RTOL_EXACT

CASES = load_reference("cmprsk_cuminc")["cases"]


def _run(case):
    inp = case["input"]
    return cumulative_incidence(
        inp["time"],
        inp["status"],
        group=inp.get("group"),
        strata=inp.get("strata"),
        rho=case["rho"],
        cencode=case["cencode"],
    )


def _key(case, name):
    group, cause = name.rsplit(" ", 1)
    return ("1" if case["input"].get("group") is None else group), cause


def _num(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def test_fixture_covers_the_planned_grid():
    names = {c["name"] for c in CASES}
    assert {
        "tiny_ties",
        "sim_ties_group_strata_rho0",
        "sim_ties_group_strata_rho1",
        "mgus2_by_sex",
        "edge_groups_strata",
        "sim_cencode9",
    } <= names


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_curves_match_cmprsk(case):
    res = _run(case)
    n_curves = sum(len(v) for v in res.curves.values())
    assert n_curves == len(case["curves"])
    for cv in case["curves"]:
        g, c = _key(case, cv["name"])
        mine = res.curves[g][c]
        # cmprsk stores step corners: [0, t1, t1, ..., tk, tk, tmax]; jumps at 2, 4, ...
        np.testing.assert_array_equal(mine.times, np.array(cv["time"])[2:-1:2])
        np.testing.assert_allclose(mine.estimate, np.array(cv["est"])[2:-1:2], rtol=RTOL_EXACT)
        np.testing.assert_allclose(
            mine.variance, np.array(cv["var"])[2:-1:2], rtol=RTOL_EXACT, atol=1e-15
        )
        assert mine.max_time == cv["time"][-1]


@pytest.mark.parametrize("case", [c for c in CASES if "timepoints" in c], ids=lambda c: c["name"])
def test_timepoints_match_cmprsk(case):
    res = _run(case)
    tp = case["timepoints"]
    at = res.at(tp["times"])
    for row, est, var in zip(tp["rows"], tp["est"], tp["var"], strict=True):
        g, c = _key(case, row)
        np.testing.assert_allclose(at[g][c]["estimate"], _num(est), rtol=RTOL_EXACT)
        np.testing.assert_allclose(at[g][c]["variance"], _num(var), rtol=RTOL_EXACT, atol=1e-15)


def test_hand_example():
    # t=1: 5 at risk, 1 cause-1 -> F1 = 1/5; S = 4/5
    # t=2: 4 at risk, 1 cause-1, 1 cause-2 -> F1 += 0.8/4, F2 = 0.8/4; S = 0.4
    # t=4: 1 at risk, 1 cause-1 -> F1 += 0.4
    res = cumulative_incidence([1, 2, 2, 3, 4], [1, 2, 1, 0, 1])
    np.testing.assert_allclose(res.curves["1"]["1"].estimate, [0.2, 0.4, 0.8], rtol=1e-15)
    np.testing.assert_allclose(res.curves["1"]["2"].estimate, [0.2], rtol=1e-15)
    # cmprsk variance at t=1: fk=1, fkn=0.8, t6=1/25, t3=1.25, t4=1.25;
    # v1=v2=v3=1.25^2/25, var = v1 (1 + F^2 - 2F) = 0.0625 * 0.64
    assert res.curves["1"]["1"].variance[0] == pytest.approx(0.04, rel=1e-14)


def test_to_dict_shape_and_requested_times():
    t = [1, 2, 2, 3, 4, 5, 6, 6]
    s = [1, 2, 1, 0, 1, 0, 2, 1]
    g = ["x", "x", "y", "y", "x", "y", "x", "y"]
    d = cumulative_incidence(t, s, group=g, times=[0.5, 2, 7]).to_dict()
    assert set(d["groups"]) == {"x", "y"}
    assert set(d["groups"]["x"]) == {"1", "2"}
    cell = d["groups"]["x"]["1"]
    assert {"times", "estimate", "variance", "ci_lower", "ci_upper"} <= set(cell)
    assert cell["times"] == [0.5, 2.0, 7.0]
    assert cell["estimate"][0] == 0.0
    assert cell["estimate"][2] is None  # after the group's last follow-up (6)
    assert any("after its last follow-up" in w for w in d["warnings"])
    assert set(d["gray_test"]) == {"1", "2"}
    assert set(d["gray_test"]["1"]) == {"statistic", "df", "pvalue"}
    assert d["gray_test"]["1"]["df"] == 1


def test_no_groups_no_gray_test_and_event_times_default():
    res = cumulative_incidence([3, 1, 2], [1, 1, 0])
    d = res.to_dict()
    assert d["gray_test"] == {}
    assert d["groups"]["1"]["1"]["times"] == [1.0, 3.0]
    assert "Cumulative incidence, cause 1" in res.summary()


def test_confint_formula():
    est = np.array([0.0, 0.2, 1.0])
    var = np.array([0.0, 0.01, 0.0])
    lo, hi = cif_confint(est, var, 0.95)
    z = 1.959963984540054
    w = z * 0.1 / (0.2 * np.log(0.2))
    assert lo[1] == pytest.approx(0.2 ** np.exp(-w), rel=1e-14)
    assert hi[1] == pytest.approx(0.2 ** np.exp(w), rel=1e-14)
    assert lo[1] < 0.2 < hi[1]
    assert (lo[0], hi[0], lo[2], hi[2]) == (0.0, 0.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("kwargs", "column"),
    [
        ({"time": [1, -1], "status": [1, 0]}, "time"),
        ({"time": [1, np.nan], "status": [1, 0]}, "time"),
        ({"time": [1, 2], "status": [1, 0.5]}, "status"),
        ({"time": [1, 2], "status": [0, 0]}, "status"),
        ({"time": [1, 2], "status": [1, 0], "group": ["a"]}, "group"),
        ({"time": [1, 2], "status": [1, 0], "group": ["a", None]}, "group"),
        ({"time": [1, 2], "status": [1, 0], "times": [-1]}, "times"),
        ({"time": [1, 2], "status": [1, 0], "level": 1.5}, "level"),
    ],
)
def test_bad_input(kwargs, column):
    with pytest.raises(InputError) as exc:
        cumulative_incidence(**kwargs)
    assert exc.value.column == column


@st.composite
def cohorts(draw):
    n = draw(st.integers(1, 40))
    t = draw(st.lists(st.integers(0, 8), min_size=n, max_size=n))
    s = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    if all(v == 0 for v in s):
        s[0] = 1
    return np.array(t, float), np.array(s)


@settings(max_examples=40, deadline=None)
@given(cohorts())
def test_cifs_and_survival_sum_to_one(data):
    t, s = data
    res = cumulative_incidence(t, s)
    grid = np.unique(np.concatenate(([0.0], t)))
    at = res.at(grid)["1"]
    total = sum(at[c]["estimate"] for c in res.causes)
    surv = kaplan_meier(t, (s != 0).astype(int)).at(grid)["survival"]
    np.testing.assert_allclose(total + surv, 1.0, atol=1e-12)
    for c in res.causes:
        est = at[c]["estimate"]
        assert np.all((est >= 0) & (est <= 1 + 1e-12))
        assert np.all(np.diff(est) >= -1e-15)
        assert np.all(res.curves["1"][c].variance >= -1e-15)
        lo, hi = at[c]["ci_lower"], at[c]["ci_upper"]
        assert np.all(lo <= est + 1e-15) and np.all(est <= hi + 1e-15)


@settings(max_examples=25, deadline=None)
@given(cohorts(), st.randoms(use_true_random=False))
def test_invariant_to_row_order(data, rnd):
    t, s = data
    g = np.array(["a", "b"] * len(t))[: len(t)]
    perm = np.array(rnd.sample(range(len(t)), len(t)), dtype=int)
    r1 = cumulative_incidence(t, s, group=g)
    r2 = cumulative_incidence(t[perm], s[perm], group=g[perm])
    for gl in r1.curves:
        for c in r1.curves[gl]:
            np.testing.assert_array_equal(r1.curves[gl][c].times, r2.curves[gl][c].times)
            np.testing.assert_allclose(
                r1.curves[gl][c].estimate, r2.curves[gl][c].estimate, rtol=1e-13
            )
            np.testing.assert_allclose(
                r1.curves[gl][c].variance, r2.curves[gl][c].variance, rtol=1e-11, atol=1e-15
            )


def test_strata_without_groups_warns():
    res = cumulative_incidence([1, 2, 3, 4], [1, 0, 2, 1], strata=["a", "a", "b", "b"])
    assert res.gray == {}
    assert any("strata" in w for w in res.warnings)


def test_group_without_events_is_zero_until_its_last_follow_up():
    res = cumulative_incidence([1, 2, 3, 4, 5], [1, 2, 0, 0, 1], group=["a", "a", "b", "b", "a"])
    at = res.at([0, 4, 4.5])["b"]["1"]
    np.testing.assert_array_equal(at["estimate"][:2], [0.0, 0.0])
    assert np.isnan(at["estimate"][2])


def test_n_at_risk_counts_follow_up_at_or_after_t():
    res = cumulative_incidence([1, 2, 2, 3, 5], [1, 0, 2, 1, 0], group=["a", "a", "b", "b", "b"])
    nr = res.n_at_risk([0, 2, 3, 6])
    assert nr["a"].tolist() == [2, 1, 0, 0]
    assert nr["b"].tolist() == [3, 3, 2, 0]


# ------------------------------------------------------------ declared causes (causes=)
def test_causes_unknown_code_names_status_and_rows():
    with pytest.raises(InputError) as err:
        cumulative_incidence([1, 2, 3, 4, 5], [1, 3, 0, 2, 3], causes=[1, 2])
    assert err.value.column == "status" and err.value.rows == [1, 4]
    assert "unknown status codes [3]" in str(err.value)
    with pytest.raises(InputError, match=r"\[0\]; expected 9"):  # another censoring code
        cumulative_incidence([1, 2, 3], [1, 9, 0], cencode=9, causes=[1, 2])
    with pytest.raises(InputError, match="censoring code") as err:
        cumulative_incidence([1, 2, 3], [1, 0, 2], causes=[0, 1])
    assert err.value.column == "causes"


def test_without_causes_a_stray_code_is_one_more_cause():
    res = cumulative_incidence([1, 2, 3, 4, 5], [1, 3, 0, 2, 3])
    assert res.causes == ["1", "2", "3"]
    # by hand: S(2-) = 4/5, 4 at risk -> 0.2; S(5-) = 4/5 * 3/4 * 1/2 = 0.3, 1 at risk -> +0.3
    np.testing.assert_allclose(res.curves["1"]["3"].estimate, [0.2, 0.5], rtol=1e-15)


def test_declared_cause_without_events_is_zero_and_others_unchanged():
    t = [1, 2, 2, 3, 4, 5, 6]
    s = [1, 2, 1, 0, 1, 2, 0]
    g = ["a", "a", "a", "b", "b", "b", "b"]
    a = cumulative_incidence(t, s, group=g)
    b = cumulative_incidence(t, s, group=g, causes=[1, 2, 4])
    assert b.causes == ["1", "2", "4"]
    for grp in ("a", "b"):
        for c in ("1", "2"):
            np.testing.assert_array_equal(b.curves[grp][c].estimate, a.curves[grp][c].estimate)
            np.testing.assert_array_equal(b.curves[grp][c].variance, a.curves[grp][c].variance)
        at = b.at([0.5, b.curves[grp]["4"].max_time])[grp]["4"]
        np.testing.assert_array_equal(at["estimate"], [0.0, 0.0])
        np.testing.assert_array_equal(at["ci_upper"], [0.0, 0.0])
    assert b.gray["1"].statistic == a.gray["1"].statistic
    assert np.isnan(b.gray["4"].statistic) and np.isnan(b.gray["4"].pvalue)
    assert "Gray's test, cause 4: no events of cause 4; the test is undefined" in b.warnings
    d = b.to_dict()
    assert d["groups"]["a"]["4"]["estimate"] == [] and d["gray_test"]["4"]["pvalue"] is None
