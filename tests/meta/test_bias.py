"""Tests of drivervte.meta.bias (Egger's regression test, Begg's rank test) and of the
exact Kendall distribution behind the rank test.

Reference numbers: metafor 3.8 ``regtest`` (``model = "lm"`` and ``"rma"``) and
``ranktest`` (tests/reference/R/metafor_bias.R); tolerances are explained in ``_bias_ref``.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings

import numpy as np
import pytest
from _bias_ref import (
    DATASETS,
    assert_close,
    case_id,
    cases,
    fit_case,
    fit_counts_case,
    rtol_for,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from drivervte.errors import InputError, SmallSampleWarning
from drivervte.meta._kendall import kendall_cdf, kendall_test
from drivervte.meta.bias import egger_test, rank_test
from drivervte.meta.rma import fit_rma
from tolerances import ATOL_ZERO, RTOL_EXACT


def _quiet(fn, res):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        return fn(res)


# ------------------------------------------------------------------ reference: Egger
@pytest.mark.parametrize("case", cases("rma.uni", "regtest_lm"), ids=case_id)
def test_egger_lm_matches_metafor(case):
    eg = _quiet(egger_test, fit_case(case))
    ref = case["regtest_lm"]
    # model "lm" depends on yi/vi only (closed form): exact agreement.
    assert_close(eg.t, ref["statistic"], rtol=RTOL_EXACT, what="t")
    assert_close(eg.pvalue, ref["pvalue"], rtol=RTOL_EXACT, what="p")
    assert_close(eg.bias, ref["slope"], rtol=RTOL_EXACT, what="slope")
    assert_close([eg.limit_estimate, eg.ci_lower, eg.ci_upper],
                 [ref["est"], ref["ci_lower"], ref["ci_upper"]], rtol=RTOL_EXACT, what="est")
    assert eg.df == ref["df"]


@pytest.mark.parametrize("case", cases("rma.uni", "regtest_rma"), ids=case_id)
def test_egger_rma_variant_matches_metafor(case):
    rm = _quiet(egger_test, fit_case(case)).rma
    ref = case["regtest_rma"]
    tol = rtol_for(case)
    assert_close(rm.statistic, ref["statistic"], rtol=tol, what="z/t")
    assert_close(rm.pvalue, ref["pvalue"], rtol=tol, what="p")
    assert_close([rm.bias, rm.bias_se], [ref["slope"], ref["slope_se"]], rtol=tol, what="b")
    assert_close([rm.limit_estimate, rm.ci_lower, rm.ci_upper],
                 [ref["est"], ref["ci_lower"], ref["ci_upper"]], rtol=tol, what="est")
    assert_close(rm.tau2, ref["tau2"], rtol=tol, atol=ATOL_ZERO, what="tau2")
    assert rm.df == ref.get("df")
    assert rm.test == case["test"] and rm.method == case["method"]


@pytest.mark.parametrize("case", cases("rma.mh") + cases("rma.peto"), ids=case_id)
def test_bias_tests_on_mh_peto_match_metafor(case):
    res = fit_counts_case(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        eg = egger_test(res)
        rk = rank_test(res)
    assert eg.k == len(res.yi) == len(case["fit"]["yi"])  # metafor's k.yi
    ref = case["regtest_lm"]
    assert_close([eg.t, eg.pvalue, eg.limit_estimate, eg.ci_lower, eg.ci_upper],
                 [ref["statistic"], ref["pvalue"], ref["est"], ref["ci_lower"],
                  ref["ci_upper"]], rtol=RTOL_EXACT, what="lm")
    ref = case["regtest_rma"]
    rm = eg.rma
    assert rm.method == "EE"  # metafor: a fixed-effects meta-regression
    assert_close([rm.statistic, rm.pvalue, rm.limit_estimate, rm.ci_lower, rm.ci_upper],
                 [ref["statistic"], ref["pvalue"], ref["est"], ref["ci_lower"],
                  ref["ci_upper"]], rtol=RTOL_EXACT, what="rma")
    assert_close([rk.tau, rk.pvalue], [case["ranktest"]["tau"], case["ranktest"]["pvalue"]],
                 rtol=RTOL_EXACT, what="rank")


# ------------------------------------------------------------------ reference: rank test
@pytest.mark.parametrize("case", cases("rma.uni", "ranktest"), ids=case_id)
def test_rank_test_matches_metafor(case):
    rk = _quiet(rank_test, fit_case(case))
    ref = case["ranktest"]
    # ranktest uses the equal-effects estimate whatever the model: closed form.
    assert_close([rk.tau, rk.pvalue], [ref["tau"], ref["pvalue"]], rtol=RTOL_EXACT,
                 what="rank")
    assert rk.exact == ref["exact"]


@pytest.mark.parametrize("case", cases("ranktest.raw"), ids=case_id)
def test_kendall_on_raw_vectors_matches_r(case):
    yi, vi = np.array(case["yi"]), np.array(case["vi"])
    w = 1 / vi
    theta = np.sum(w * yi) / np.sum(w)
    kt = kendall_test((yi - theta) / np.sqrt(vi - 1 / np.sum(w)), vi, exact=True)
    assert kt.exact == case["exact"]
    assert_close([kt.tau, kt.pvalue], [case["tau"], case["pvalue"]], rtol=RTOL_EXACT,
                 what=case["id"])


def test_fixture_grid_is_complete():
    """Guard: every dataset has EE, DL and REML cases with all bias outputs."""
    for ds in ("bcg", "hackshaw1998", "pritz1997", "molloy2014", "egger2001", "normand1999"):
        got = {c["method"] for c in cases("rma.uni") if c["dataset"] == ds
               and {"regtest_lm", "regtest_rma", "ranktest", "trimfill"} <= set(c)}
        assert got == {"EE", "DL", "REML"}, ds
    assert any(c["test"] == "knha" for c in cases("rma.uni", "regtest_rma"))
    assert {c["exact"] for c in cases("ranktest.raw")} == {True, False}


# ------------------------------------------------------------------ Kendall distribution
@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_kendall_cdf_equals_brute_force(n):
    inv = [sum(1 for i, j in itertools.combinations(range(n), 2) if p[i] > p[j])
           for p in itertools.permutations(range(n))]
    counts = np.bincount(inv, minlength=n * (n - 1) // 2 + 1)
    cdf = np.cumsum(counts) / math.factorial(n)
    for q in range(n * (n - 1) // 2 + 1):
        assert kendall_cdf(q, n) == pytest.approx(cdf[q], rel=1e-15)


@pytest.mark.parametrize("n", [61, 80])
def test_kendall_cdf_float_recursion_agrees_with_integers(n, monkeypatch):
    """n > 60 uses the normalised floating-point recursion; check it against the exact
    integer recursion forced for the same n."""
    import drivervte.meta._kendall as kmod

    T0 = n * (n - 1) // 2
    qs = [0, 5, T0 // 4, T0 // 2 - 3]
    flt = [kendall_cdf(q, n) for q in qs]
    monkeypatch.setattr(kmod, "_EXACT_INT_MAX_N", 10**6)
    ints = [kendall_cdf(q, n) for q in qs]
    np.testing.assert_allclose(flt, ints, rtol=1e-11)


def test_kendall_exact_beyond_r_overflow(monkeypatch):
    """R's exact branch returns NaN for n > 170 (n! overflows); ours is the exact tail,
    checked against the integer recursion, and lighter than the normal approximation's."""
    import drivervte.meta._kendall as kmod

    rng = np.random.default_rng(1)
    x = rng.normal(size=180)
    y = x + 3 * rng.normal(size=180)
    exact = kendall_test(x, y, exact=True)
    approx = kendall_test(x, y, exact=False)
    assert exact.exact and not approx.exact
    assert 0.8 * approx.pvalue < exact.pvalue < approx.pvalue
    monkeypatch.setattr(kmod, "_EXACT_INT_MAX_N", 10**6)
    assert kendall_test(x, y, exact=True).pvalue == pytest.approx(exact.pvalue, rel=1e-10)


def test_kendall_constant_input_is_nan():
    kt = kendall_test([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])
    assert math.isnan(kt.tau) and math.isnan(kt.pvalue)


# ------------------------------------------------------------------ k rules
def _data(k, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(0.2, 0.3, k), rng.uniform(0.02, 0.3, k)


@pytest.mark.parametrize("fn", [egger_test, rank_test])
def test_small_k_warns_and_notes(fn):
    yi, vi = _data(6)
    with pytest.warns(SmallSampleWarning, match="k = 6"):
        out = fn(fit_rma(yi, vi))
    assert any("Cochrane" in w for w in out.warnings)
    yi, vi = _data(12)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmallSampleWarning)
        out = fn(fit_rma(yi, vi))
    assert out.warnings == [] or all("Cochrane" not in w for w in out.warnings)


@pytest.mark.parametrize("fn", [egger_test, rank_test])
def test_fewer_than_three_studies_is_an_input_error(fn):
    res = fit_rma([0.1, 0.4], [0.1, 0.2], method="EE")
    with pytest.raises(InputError, match="at least 3"):
        fn(res)


def test_egger_equal_variances_is_an_input_error():
    res = fit_rma([0.1, 0.4, 0.2, 0.3], [0.1] * 4, method="EE")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        with pytest.raises(InputError, match="full rank"):
            egger_test(res)


def test_rank_test_ties_use_normal_approximation():
    d = DATASETS["molloy2014"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        rk = rank_test(fit_rma(d["yi"], d["vi"]))
    assert rk.ties and not rk.exact and any("ties" in w for w in rk.warnings)


def test_egger_with_moderators_has_no_limit_estimate():
    d = DATASETS["bcg"]
    res = fit_rma(d["yi"], d["vi"], np.column_stack([np.ones(13), d["ablat"]]))
    eg = egger_test(res)
    assert eg.limit_estimate is None and eg.rma.limit_estimate is None
    assert eg.df == 13 - 3 and math.isfinite(eg.t)


def test_to_dict_keys_and_summary():
    d = DATASETS["hackshaw1998"]
    res = fit_rma(d["yi"], d["vi"])
    eg, rk = egger_test(res).to_dict(), rank_test(res).to_dict()
    for key in ("t", "df", "pvalue", "bias", "limit_estimate", "ci_lower", "ci_upper", "rma",
                "warnings"):
        assert key in eg
    assert {"tau", "pvalue", "exact"} <= set(rk)
    assert json.dumps([eg, rk])
    assert "Egger" in egger_test(res).summary() and "Kendall" in rank_test(res).summary()


# ------------------------------------------------------------------ properties
@settings(max_examples=15, deadline=None)
@given(st.integers(3, 25), st.integers(0, 10**6), st.data())
def test_rank_test_is_invariant_to_study_order(k, seed, data):
    yi, vi = _data(k, seed)
    perm = np.array(data.draw(st.permutations(range(k))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        a = rank_test(fit_rma(yi, vi, method="EE"))
        b = rank_test(fit_rma(yi[perm], vi[perm], method="EE"))
        ea = egger_test(fit_rma(yi, vi, method="EE"))
        eb = egger_test(fit_rma(yi[perm], vi[perm], method="EE"))
    assert a.tau == pytest.approx(b.tau, abs=1e-12)
    assert a.pvalue == pytest.approx(b.pvalue, rel=1e-12)
    assert 0 <= a.pvalue <= 1 and -1 <= a.tau <= 1
    assert ea.t == pytest.approx(eb.t, rel=1e-9, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 30), st.integers(0, 10**6))
def test_kendall_p_is_symmetric_in_sign(k, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=k), rng.normal(size=k)
    a, b = kendall_test(x, y), kendall_test(x, -y)
    assert a.tau == pytest.approx(-b.tau, abs=1e-12)
    assert a.pvalue == pytest.approx(b.pvalue, rel=1e-12)


def test_egger_exact_fit_is_undefined_not_noise():
    """All effects equal: the WLS residuals are rounding noise, so t would be noise (R's lm
    prints it); drivervte returns NaN and says why."""
    res = fit_rma([0.2] * 5, [0.1, 0.2, 0.3, 0.1, 0.2], method="EE")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        eg = egger_test(res)
        rk = rank_test(res)
    assert math.isnan(eg.t) and math.isnan(eg.pvalue)
    assert any("exactly" in w for w in eg.warnings)
    assert math.isnan(rk.tau) and any("undefined" in w for w in rk.warnings)
