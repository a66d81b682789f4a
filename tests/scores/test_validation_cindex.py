"""Wolbers' C-index for competing risks: ``pec::cindex`` reference, hand-worked examples
and the direct double sum.

The reference fixture ``pec_cindex.json`` (``tests/reference/R/pec_cindex.R``, pec 2022.5.4)
covers continuous times, tied times, tied times and markers, and a hand-made cohort with
cause 1, cause 2 and censoring tied at the same times, each with ``cens.model = "marginal"``
(``weights="km"``) and ``"none"``, at several horizons.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import load_reference
from drivervte.scores.validation_auc import CensoringKM
from drivervte.scores.validation_cindex import cindex_competing
from tolerances import RTOL_EXACT

PEC = load_reference("pec_cindex")
_WEIGHTS = {"marginal": "km", "none": "none"}


@pytest.mark.parametrize("case", PEC["cases"], ids=lambda c: c["name"])
def test_matches_pec_cindex(case):
    # closed-form double sum: only summation order differs from pec's C routine ``ccr``
    t = np.array(case["data"]["time"], float)
    s = np.array(case["data"]["status"], int)
    m = np.array(case["data"]["marker"], float)
    for k, tau in enumerate(case["eval_times"]):
        ties = "half" if case["tiedPredictionsIn"] else "zero"
        res = cindex_competing(t, s, m, tau, weights=_WEIGHTS[case["cens_model"]],
                               marker_ties=ties)
        assert res.estimate == pytest.approx(case["cindex"][k], rel=RTOL_EXACT)
        assert res.comparable_pairs == case["pairsA"][k] + case["pairsB"][k]


def test_pec_fixture_exercises_ties():
    # the reference must cover tied times between causes/censoring and tied markers
    names = {c["name"] for c in PEC["cases"]}
    assert {"tied_times_marginal", "tied_both_marginal", "hand_marginal",
            "hand_marginal_tiesout"} <= names
    hand = next(c for c in PEC["cases"] if c["name"] == "hand_marginal")
    t, s = np.array(hand["data"]["time"]), np.array(hand["data"]["status"])
    tied = [x for x in np.unique(t) if len(set(s[t == x])) == 3]
    assert tied  # some time carries cause 1, cause 2 and a censoring at once


def test_hand_example_without_censoring_before_tau():
    # case 0 (T=1, M=.9): beats the three later rows -> 3 of 3 (type A)
    # case 2 (T=3, M=.2): loses to row 3 (T=4, A) and to row 1 (competing at 2, B) -> 0 of 2
    t = np.array([1.0, 2, 3, 4])
    s = np.array([1, 2, 1, 0])
    m = np.array([0.9, 0.5, 0.2, 0.4])
    for w in ("km", "none"):  # the only censoring is the last time: G = 1 before it
        res = cindex_competing(t, s, m, 5.0, weights=w)
        assert res.estimate == pytest.approx(3 / 5)
        assert res.comparable_pairs == 5


def test_hand_example_with_ipcw():
    # censoring at 2 (4 at risk, no event at 2): G = 3/4 on [2, 5). Case 0 (T=1) has weight 1
    # and beats all 4 later rows; case 2 (T=3, M=.5) has weight 1/(3/4)^2 = 16/9 and beats
    # row 4 (.3), loses to row 3 (.6): C = (4 + 16/9) / (4 + 32/9) = 13/17.
    t = np.array([1.0, 2, 3, 4, 5])
    s = np.array([1, 0, 1, 2, 0])
    m = np.array([0.9, 0.1, 0.5, 0.6, 0.3])
    assert cindex_competing(t, s, m, 5.0).estimate == pytest.approx(13 / 17, rel=1e-14)
    # without weights: (4 + 1) / (4 + 2)
    assert cindex_competing(t, s, m, 5.0, weights="none").estimate == pytest.approx(5 / 6)


def test_censored_at_the_case_time_is_comparable():
    # case 0 at T=2 (M=.5); row 1 censored at 2 (M=.1) -> comparable (type A), concordant;
    # row 2 with cause 1 at 2 (M=.9) is a case too, not a control; row 3 (T=3, M=.7) beats
    # case 0 only. Unweighted: case 0: 1 of 2 (rows 1, 3); case 2 (M=.9): 2 of 2.
    t = np.array([2.0, 2, 2, 3])
    s = np.array([1, 0, 1, 0])
    m = np.array([0.5, 0.1, 0.9, 0.7])
    res = cindex_competing(t, s, m, 3.0, weights="none")
    assert res.comparable_pairs == 4 and res.estimate == pytest.approx(3 / 4)


def test_marker_ties_zero_counts_tied_pairs_in_denominator_only():
    # case 0 (T=1, M=.5) vs rows 1 (M=.5, tie), 2 (M=.2): half -> 1.5/2, zero -> 1/2
    t = np.array([1.0, 2, 3])
    s = np.array([1, 0, 0])
    m = np.array([0.5, 0.5, 0.2])
    assert cindex_competing(t, s, m, 3.0, weights="none").estimate == pytest.approx(0.75)
    assert cindex_competing(t, s, m, 3.0, weights="none",
                            marker_ties="zero").estimate == pytest.approx(0.5)
    with pytest.raises(ValueError, match="marker_ties"):
        cindex_competing(t, s, m, 3.0, marker_ties="drop")


def test_no_comparable_pair_is_nan():
    res = cindex_competing(np.array([1.0, 2]), np.array([0, 2]), np.array([1.0, 2]), 3.0)
    assert np.isnan(res.estimate) and res.reason


def _brute(t, s, m, tau, weights, tie=0.5):
    km = CensoringKM.fit(t, s)
    gm, g = km.surv(t, left=True), km.surv(t)
    if weights == "none":
        gm = g = np.ones_like(t)
    num = den = 0.0
    if weights == "km" and np.any(g[(t <= tau) & (s == 1)] == 0):
        return np.nan  # infinite weights: undefined
    for i in np.flatnonzero((t <= tau) & (s == 1)):
        for j in range(t.size):
            q = (m[i] > m[j]) + tie * (m[i] == m[j])
            if t[j] > t[i] or (t[j] == t[i] and s[j] == 0):
                w = 1 / (gm[i] * g[i])
            elif s[j] not in (0, 1):
                w = 1 / (gm[i] * gm[j])
            else:
                continue
            num += w * q
            den += w
    return num / den if den > 0 else np.nan


cohorts = st.integers(3, 35).flatmap(lambda n: st.tuples(
    st.lists(st.integers(1, 10), min_size=n, max_size=n),
    st.lists(st.integers(0, 3), min_size=n, max_size=n),
    st.lists(st.integers(0, 4), min_size=n, max_size=n)))


@settings(max_examples=40, deadline=None)
@given(cohorts, st.sampled_from(["km", "none"]), st.sampled_from(["half", "zero"]))
def test_equals_direct_double_sum(data, weights, ties):
    t, s, m = (np.array(x, float) for x in data)
    got = cindex_competing(t, s.astype(int), m, 6.0, weights=weights,
                           marker_ties=ties).estimate
    want = _brute(t, s, m, 6.0, weights, tie=0.5 if ties == "half" else 0.0)
    if np.isnan(want):
        assert np.isnan(got)
    else:
        assert got == pytest.approx(want, rel=1e-12)


def test_constant_marker_is_half():
    t = np.arange(1.0, 11)
    s = np.array([1, 2, 0, 1, 1, 2, 0, 1, 2, 0])
    assert cindex_competing(t, s, np.zeros(10), 8.0).estimate == pytest.approx(0.5)


def test_zero_censoring_survival_at_a_case_time_is_nan_with_reason():
    # the two rows left at T=2 are a case and a censoring: G(2) = 0, weight 1/(G(2-) G(2))
    t = np.array([1.0, 2, 2])
    s = np.array([2, 1, 0])
    m = np.array([0.1, 0.5, 0.2])
    res = cindex_competing(t, s, m, 3.0)
    assert np.isnan(res.estimate) and "weights='none'" in res.reason
    assert cindex_competing(t, s, m, 3.0, weights="none").estimate == 1.0


def test_censoring_curve_zero_at_a_case_gives_nan_with_reason_not_a_warning():
    """Found by test_equals_direct_double_sum: G(T_i) = 0 made inf * 0 warn."""
    import warnings as _w

    from drivervte.scores.validation_cindex import cindex_competing

    with _w.catch_warnings():
        _w.simplefilter("error")
        for ties in ("half", "zero"):
            est = cindex_competing(np.array([1.0, 1.0, 1.0]), np.array([0, 0, 1]),
                                   np.zeros(3), 6.0, weights="km", marker_ties=ties)
            assert np.isnan(est.estimate) and est.reason
