"""Invariants of fit_rma under hypothesis-generated data, for every tau² estimator.

- permutation of the studies changes no summary (weights are permuted with the studies);
- tau² >= 0, I² in [0, 100], H² >= 1 for random-effects models, weights sum to 100;
- location: y + c shifts the estimate (and CI, PI) by c and leaves tau², Q, I² unchanged;
- scale: (c y, c² v) scales the estimate by c and tau² by c², leaves Q, I², p-values.

Tolerances: the estimators iterate to ~1e-12 relative, so 1e-7 relative with an absolute
floor of 1e-9 x (scale of vi) for quantities at the tau² = 0 boundary is ample yet would
catch any real violation (a wrong centring or weight shows up at the 1e-2 level).
"""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivervte.meta.rma import METHODS, fit_rma

RTOL = 1e-7

finite = st.floats(-3, 3, allow_nan=False, allow_infinity=False)
positive = st.floats(0.001, 2.0, allow_nan=False, allow_infinity=False)


@st.composite
def studies(draw, min_k=2, max_k=12):
    k = draw(st.integers(min_k, max_k))
    yi = np.array(draw(st.lists(finite, min_size=k, max_size=k)))
    vi = np.array(draw(st.lists(positive, min_size=k, max_size=k)))
    return yi, vi


methods = st.sampled_from([m for m in METHODS if m != "FE"])
tests = st.sampled_from(["z", "knha"])
SET = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fit(yi, vi, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_rma(yi, vi, **kw)


def summary(r):
    return np.array([r.estimate, r.se, r.tau2, r.Q, r.I2, r.H2, r.ci_lower, r.ci_upper,
                     r.pvalue, r.pi_lower, r.pi_upper, r.statistic,
                     np.nan if r.se_tau2 is None else r.se_tau2], float)


def near(a, b, scale):
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-9 * scale, equal_nan=True)


@SET
@given(studies(), methods, tests, st.randoms(use_true_random=False))
def test_permutation_invariance(data, method, test, rnd):
    yi, vi = data
    perm = np.array(rnd.sample(range(len(yi)), len(yi)))
    a = fit(yi, vi, method=method, test=test)
    b = fit(yi[perm], vi[perm], method=method, test=test)
    near(summary(a), summary(b), vi.mean())
    near(a.weights[perm], b.weights, 1.0)
    if a.tau2_ci_lower is not None:
        near([a.tau2_ci_lower, a.tau2_ci_upper], [b.tau2_ci_lower, b.tau2_ci_upper],
             vi.mean())


@SET
@given(studies(min_k=1), methods, tests)
def test_ranges(data, method, test):
    yi, vi = data
    r = fit(yi, vi, method=method, test=test)
    assert r.converged
    assert r.tau2 >= 0
    assert 0 <= r.I2 <= 100
    assert abs(r.weights.sum() - 100) < 1e-9
    if method not in ("EE", "FE"):
        assert r.H2 >= 1 - 1e-12
    assert r.ci_lower <= r.estimate <= r.ci_upper
    if r.tau2_ci_lower is not None:
        assert 0 <= r.tau2_ci_lower <= r.tau2_ci_upper


@SET
@given(studies(), methods, tests, st.floats(-5, 5))
def test_location_shift(data, method, test, c):
    yi, vi = data
    a = fit(yi, vi, method=method, test=test)
    b = fit(yi + c, vi, method=method, test=test)
    near(b.estimate, a.estimate + c, vi.mean())
    near([b.tau2, b.Q, b.I2, b.se], [a.tau2, a.Q, a.I2, a.se], vi.mean())


@SET
@given(studies(), methods, tests, st.floats(0.01, 100))
def test_scale(data, method, test, c):
    yi, vi = data
    a = fit(yi, vi, method=method, test=test)
    b = fit(c * yi, c * c * vi, method=method, test=test)
    near(b.estimate, c * a.estimate, c * c * vi.mean())
    near(b.tau2, c * c * a.tau2, c * c * vi.mean())
    near([b.Q, b.I2, b.pvalue], [a.Q, a.I2, a.pvalue], 1.0)


@SET
@given(studies(min_k=4), methods, tests)
def test_meta_regression_permutation(data, method, test):
    yi, vi = data
    x = np.arange(len(yi), dtype=float)
    X = np.column_stack([np.ones(len(yi)), x])
    perm = np.roll(np.arange(len(yi)), 1)
    a = fit(yi, vi, X=X, method=method, test=test)
    b = fit(yi[perm], vi[perm], X=X[perm], method=method, test=test)
    assert a.converged and b.converged
    near(a.moderators.coef, b.moderators.coef, vi.mean())
    near([a.tau2, a.moderators.QM, a.Q], [b.tau2, b.moderators.QM, b.Q], vi.mean())
    near(a.moderators.se, b.moderators.se, vi.mean())
    assert a.moderators.R2 is None or 0 <= a.moderators.R2 <= 100


def test_r2_never_exceeds_100_counterexample():
    """Found by test_meta_regression_permutation: R² rounded to 100.00000000000001."""
    yi = np.array([1.625, 1.0, 0.5, 0.04296875, 1.4453125])
    vi = np.array([0.001, 0.5, 1.0, 2.0, 0.01])  # DL: 100 * (a - 0) / a = 100.00000000000001
    X = np.column_stack([np.ones(5), np.arange(5.0)])
    assert fit(yi, vi, X=X, method="DL").moderators.R2 == 100.0
    for method in METHODS:
        r2 = fit(yi, vi, X=X, method=method).moderators.R2
        assert r2 is None or np.isnan(r2) or 0 <= r2 <= 100


def test_r2_equal_effects_with_underflowing_squares():
    """Found by test_meta_regression_permutation: the weighted TSS underflowed to 0."""
    yi = np.array([0.0, 0.0, 0.0, 4.29435853e-179])
    X = np.column_stack([np.ones(4), np.arange(4.0)])
    res = fit(yi, np.ones(4), X=X, method="EE")
    assert res.moderators.R2 == 0.0
