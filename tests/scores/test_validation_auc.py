"""IPCW time-dependent AUC with competing risks vs riskRegression::Score (committed fixture)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import load_reference
from drivervte.scores.validation_auc import CensoringKM, auc_competing, auc_difference
from tolerances import RTOL_EXACT

REF = load_reference("riskregression_score")


def _data(case_name: str) -> dict:
    return REF["data"][REF["data_of"][case_name]]


def _cases():
    for case in REF["cases"]:
        for m in case["auc"]:
            for k, t in enumerate(m["times"]):
                yield pytest.param(case["name"], m["model"], t, k,
                                   id=f"{case['name']}-{m['model']}-{t:g}")


def _case(name: str) -> dict:
    return next(c for c in (*REF["cases"], *REF["known_differences"]) if c["name"] == name)


def _fit(case_name: str, model: str, t: float, status: str | None = None,
         cause: int | None = None):
    d = _data(case_name)
    c = _case(case_name)
    return auc_competing(np.array(d["time"]), np.array(d[status or c.get("status", "status")]),
                         np.array(d[model], float), t, cause=cause or c.get("cause", 1))


@pytest.mark.parametrize(("case_name", "model", "t", "k"), list(_cases()))
def test_auc_matches_score(case_name, model, t, k):
    # Closed-form estimator: only summation order differs from riskRegression (measured
    # agreement ~1e-15 relative), so the exact tolerance applies to AUC, SE and the CI.
    ref = next(m for c in REF["cases"] if c["name"] == case_name for m in c["auc"]
               if m["model"] == model)
    est = _fit(case_name, model, t)
    assert est.reason is None
    np.testing.assert_allclose(est.estimate, ref["AUC"][k], rtol=RTOL_EXACT)
    # atol: a constant marker has SE 0 up to rounding (R: ~6e-17)
    np.testing.assert_allclose(est.se, ref["se"][k], rtol=RTOL_EXACT, atol=1e-15)
    np.testing.assert_allclose([est.lower, est.upper], [ref["lower"][k], ref["upper"][k]],
                               rtol=RTOL_EXACT)


@pytest.mark.parametrize(("ours", "reference"), [
    # (our call on the original codes, riskRegression on the recoded data with cause 1)
    ({"status": "status", "cause": 2}, "cohort40_cause2_recoded"),
    ({"status": "status3", "cause": 1}, "cohort40_three_causes_merged"),
])
def test_other_causes_match_score_on_recoded_data(ours, reference):
    ref = _case(reference)["auc"][0]
    direct = _case(reference.replace("_recoded", "_direct").replace("_merged", "_direct"))
    for k, t in enumerate(ref["times"]):
        est = _fit("cohort40", "pred", t, **ours)
        np.testing.assert_allclose(est.estimate, ref["AUC"][k], rtol=RTOL_EXACT)
        np.testing.assert_allclose(est.se, ref["se"][k], rtol=RTOL_EXACT)
        # riskRegression 2022.11.28 called directly: same AUC, but its influence function
        # reads codes 1/2 literally, so its SE differs (documented in the module)
        np.testing.assert_allclose(est.estimate, direct["auc"][0]["AUC"][k], rtol=RTOL_EXACT)
        assert abs(est.se / direct["auc"][0]["se"][k] - 1) > 1e-3


def test_tiny_case_upper_clipped_at_one():
    est = _fit("tiny12", "pred", 3.0)
    assert est.upper == 1.0 and est.estimate + 1.96 * est.se > 1


@pytest.mark.parametrize("case", [c for c in REF["cases"] if "contrasts" in c],
                         ids=lambda c: c["name"])
def test_contrasts_match_score(case):
    ct = case["contrasts"]
    for k, t in enumerate(ct["times"]):
        new = _fit(case["name"], ct["model"][k], t)
        ref = _fit(case["name"], ct["reference"][k], t)
        diff = auc_difference(new, ref)
        np.testing.assert_allclose(diff.estimate, ct["delta"][k], rtol=1e-9)
        np.testing.assert_allclose(diff.se, ct["se"][k], rtol=RTOL_EXACT)
        np.testing.assert_allclose([diff.lower, diff.upper, diff.p],
                                   [ct["lower"][k], ct["upper"][k], ct["p"][k]], rtol=1e-9)


def test_censoring_km_matches_prodlim_reverse():
    # prodlim(Hist(time, status) ~ 1, reverse = TRUE) on the tiny cohort (printed in R):
    # 1, .9, .9, .7714286, .7714286, .5785714, .3857143, .3857143, 0 at times 1..12
    d = _data("tiny12")
    km = CensoringKM.fit(np.array(d["time"], float), np.array(d["status"]))
    np.testing.assert_allclose(km.G, [1, .9, .9, .9 * 6 / 7, .9 * 6 / 7, .9 * 6 / 7 * .75,
                                      .9 * 6 / 7 * .5, .9 * 6 / 7 * .5, 0], rtol=1e-12)
    assert km.surv(np.array([2.0]), left=True)[0] == 1.0


def _brute_auc(t, s, m, tau):
    km = CensoringKM.fit(t, s)
    case = (t <= tau) & (s == 1)
    ctrl = (t > tau) | ((t <= tau) & (s != 0) & (s != 1))
    with np.errstate(divide="ignore"):
        w = np.where(t <= tau, 1 / km.surv(t, left=True), 1 / km.surv(np.array([tau]))[0])
    num = den = 0.0
    for i in np.flatnonzero(case):
        for j in np.flatnonzero(ctrl):
            num += w[i] * w[j] * ((m[i] > m[j]) + 0.5 * (m[i] == m[j]))
            den += w[i] * w[j]
    return num / den


cohorts = st.integers(4, 40).flatmap(lambda n: st.tuples(
    st.lists(st.integers(1, 12), min_size=n, max_size=n),
    st.lists(st.integers(0, 2), min_size=n, max_size=n),
    st.lists(st.integers(0, 5), min_size=n, max_size=n)))


@settings(max_examples=40, deadline=None)
@given(cohorts)
def test_auc_equals_direct_double_sum(data):
    t, s, m = (np.array(x, float) for x in data)
    est = auc_competing(t, s, m, 6.0)
    if est.reason is None:
        assert est.estimate == pytest.approx(_brute_auc(t, s, m, 6.0), rel=1e-12)
    else:
        assert np.isnan(est.estimate)


@settings(max_examples=40, deadline=None)
@given(cohorts)
def test_reversed_marker_gives_one_minus_auc_and_same_se(data):
    t, s, m = (np.array(x, float) for x in data)
    a, b = auc_competing(t, s, m, 6.0), auc_competing(t, s, -m, 6.0)
    if a.reason is None:
        assert a.estimate + b.estimate == pytest.approx(1.0, abs=1e-12)
        assert a.se == pytest.approx(b.se, rel=1e-9, abs=1e-14)
        # a strictly increasing transformation changes nothing
        c = auc_competing(t, s, np.exp(m / 3), 6.0)
        assert c.estimate == pytest.approx(a.estimate, abs=1e-14)


def test_no_censoring_is_mann_whitney():
    t = np.array([1, 2, 3, 4, 5, 7, 8, 9], float)
    s = np.array([1, 2, 1, 2, 1, 1, 2, 1])
    m = np.array([5, 1, 4, 2, 2, 9, 3, 0], float)
    # cases by 6: rows 0, 2, 4 (markers 5, 4, 2); controls: 1, 3 (competing), 5, 6, 7
    # pairs: 5 and 4 each beat 1, 2, 3, 0 and lose to 9; 2 beats 1 and 0, ties 2,
    # loses to 9 and 3
    est = auc_competing(t, s, m, 6.0)
    assert est.estimate == pytest.approx((4 + 4 + 2.5) / 15)


def test_no_case_is_nan_with_reason():
    est = auc_competing(np.array([5.0, 6, 7]), np.array([2, 1, 0]), np.array([1.0, 2, 3]), 5.5)
    assert np.isnan(est.estimate) and np.isnan(est.se)
    assert "no event of cause 1" in est.reason


def test_all_censored_is_nan():
    est = auc_competing(np.array([1.0, 2, 3]), np.zeros(3, int), np.array([1.0, 2, 3]), 2.0)
    assert np.isnan(est.estimate) and est.n_cases == 0


def test_no_control_is_nan():
    est = auc_competing(np.array([1.0, 2]), np.array([1, 1]), np.array([1.0, 2]), 3.0)
    assert np.isnan(est.estimate) and "no control" in est.reason


def test_constant_marker_gives_half():
    d = _data("cohort40")
    est = auc_competing(np.array(d["time"]), np.array(d["status"]), np.ones(40), 6.0)
    assert est.estimate == pytest.approx(0.5, abs=1e-15)
    # every pair is a tie: the influence function vanishes
    assert est.se == pytest.approx(0.0, abs=1e-12)


def test_two_rows():
    est = auc_competing(np.array([1.0, 5]), np.array([1, 0]), np.array([2.0, 1]), 3.0)
    assert est.estimate == 1.0 and est.n_cases == 1 and est.n_controls == 1
    assert np.isfinite(est.se)


def test_estimate_only_mode_gives_the_same_auc():
    rng = np.random.default_rng(11)
    n = 400
    m = rng.normal(size=n)
    t = rng.exponential(10 * np.exp(-0.5 * m))
    s = rng.choice([0, 1, 2], n, p=[0.3, 0.4, 0.3])
    full = auc_competing(t, s, m, 6.0)
    fast = auc_competing(t, s, m, 6.0, se=False)
    assert fast.estimate == full.estimate and np.isfinite(full.se)
    assert np.isnan(fast.se) and fast.influence.size == 0
