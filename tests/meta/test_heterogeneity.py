"""Q-profile CIs for tau², I², H² against metafor ``confint(res, control=list(tol=1e-12))``.

Tolerance RTOL_QPROFILE (1e-5) as the brief sets; with uniroot's tol tightened to 1e-12 in
the fixture script we observe agreement near 1e-10.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from conftest import load_reference
from drivervte.meta.heterogeneity import qprofile_ci, typical_variance
from drivervte.meta.rma import fit_rma
from tolerances import ATOL_ZERO, RTOL_QPROFILE

REF = load_reference("metafor_rma")
CASES = [c for c in REF["cases"] if "confint" in c["output"]]


def _inputs(case):
    ds = REF["datasets"][case["dataset"]]
    X = None
    if case["design"]:
        X = np.array(REF["designs"][case["design"]]["X"], float)
    return np.array(ds["yi"]), np.array(ds["vi"]), X


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_qprofile_against_metafor(case):
    ci_ref = case["output"]["confint"]
    yi, vi, X = _inputs(case)
    ci = qprofile_ci(yi, vi, X, tau2=case["output"]["tau2"])
    for ours, key in [((ci.tau2_lower, ci.tau2_upper), "tau2"),
                      ((ci.I2_lower, ci.I2_upper), "I2"),
                      ((ci.H2_lower, ci.H2_upper), "H2")]:
        np.testing.assert_allclose(ours, ci_ref[key][1:], rtol=RTOL_QPROFILE, atol=ATOL_ZERO,
                                   err_msg=key)
    assert ci.ci_null == ci_ref["ci_null"]
    assert ci.lower_sign == ci_ref["lb_sign"] and ci.upper_sign == ci_ref["ub_sign"]


def test_fixture_covers_null_and_truncated_intervals():
    assert any(c["output"]["confint"]["ci_null"] for c in CASES)
    assert any(not c["output"]["confint"]["ci_null"] and c["output"]["confint"]["tau2"][1] == 0
               for c in CASES)


def test_fit_rma_carries_the_interval_and_notes():
    case = next(c for c in CASES if c["output"]["confint"]["ci_null"])
    yi, vi, X = _inputs(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = fit_rma(yi, vi, X, method=case["method"], test=case["test"])
    assert r.tau2_ci_lower == 0 and r.tau2_ci_upper == 0
    assert any("null/empty set" in w for w in r.warnings)


def test_upper_bound_beyond_search_limit_is_flagged():
    yi = np.array([-3.0, 3.0, -2.5, 2.8])
    vi = np.full(4, 0.01)
    ci = qprofile_ci(yi, vi, tau2=9.0, tau2_max=10.0)
    assert ci.upper_sign == ">" and ci.tau2_upper == 10.0
    assert any("search limit" in n for n in ci.notes)
    wide = qprofile_ci(yi, vi, tau2=9.0, tau2_max=1e4)
    assert wide.upper_sign == "" and wide.tau2_upper > 10


def test_interval_contains_the_pm_estimate_and_is_ordered():
    """Q(tau2_PM) = k - 1 lies between the chi² quantiles, so PM is inside the interval."""
    case = next(c for c in CASES if c["dataset"] == "bcg" and c["design"] is None
                and c["method"] == "PM" and c["test"] == "z")
    yi, vi, X = _inputs(case)
    ci = qprofile_ci(yi, vi, X, tau2=case["output"]["tau2"])
    assert ci.tau2_lower < case["output"]["tau2"] < ci.tau2_upper
    assert 0 <= ci.I2_lower < ci.I2_upper <= 100 and 1 <= ci.H2_lower < ci.H2_upper


def test_typical_variance_equal_vi():
    """With equal vi, the typical variance is vi itself."""
    assert typical_variance(np.full(5, 0.3), np.ones((5, 1))) == pytest.approx(0.3, rel=1e-12)


def test_summary_and_to_dict():
    ci = qprofile_ci([0.1, 0.5, 0.9, -0.2], [0.05, 0.04, 0.06, 0.05], tau2=0.1)
    d = ci.to_dict()
    assert set(d) >= {"tau2_lower", "tau2_upper", "I2_lower", "H2_upper", "ci_null"}
    assert "Q-profile" in ci.summary()
