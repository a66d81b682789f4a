"""CoxProblem kernels against a brute-force O(n^2) evaluator, and hand-derived closed forms.

The brute-force evaluator below is the textbook definition, written independently of the
cumulative-sum kernels: for each tied event time it forms the risk set with an explicit
mask and adds Efron's d terms. Agreement is to rounding (1e-9 relative).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from drivervte.survival.cox_scan import CoxProblem


def brute_force(beta, time, event, X, w, strata, entry, ties):
    """loglik, score, information and score residuals by explicit risk-set masks."""
    n, p = X.shape
    strata = np.zeros(n, int) if strata is None else strata
    entry = np.full(n, -np.inf) if entry is None else entry
    eta = X @ beta
    r = np.exp(eta)
    ll, U, info = 0.0, np.zeros(p), np.zeros((p, p))
    resid = np.zeros((n, p))
    keys = sorted({(s, t) for s, t, e in zip(strata, time, event, strict=True) if e})
    for s, t in keys:
        risk = (strata == s) & (entry < t) & (time >= t)
        dead = risk & (time == t) & event
        d = int(dead.sum())
        v = w * r
        s0, s1 = v[risk].sum(), v[risk] @ X[risk]
        s2 = (X[risk] * v[risk, None]).T @ X[risk]
        e0, e1 = v[dead].sum(), v[dead] @ X[dead]
        e2 = (X[dead] * v[dead, None]).T @ X[dead]
        a = w[dead].sum() / d
        ll += w[dead] @ eta[dead]
        U += w[dead] @ X[dead]
        for k in range(d):
            f = k / d if ties == "efron" else 0.0
            den = s0 - f * e0
            m = (s1 - f * e1) / den
            ll -= a * np.log(den)
            U -= a * m
            info += a * ((s2 - f * e2) / den - np.outer(m, m))
            haz = a / den
            for i in np.flatnonzero(risk):
                diff = X[i] - m
                if dead[i]:
                    resid[i] += diff / d - diff * r[i] * haz * (1 - f)
                else:
                    resid[i] -= diff * r[i] * haz
    return ll, U, info, resid


@st.composite
def cox_data(draw):
    n = draw(st.integers(4, 25))
    p = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    if draw(st.booleans()):
        time = rng.integers(1, draw(st.integers(2, 8)), size=n).astype(float)  # many ties
    else:
        time = rng.exponential(size=n) + 0.01  # no ties (the sort's fast path)
    event = rng.random(n) < 0.7
    event[0] = True
    X = rng.normal(size=(n, p))
    w = rng.uniform(0.3, 3, size=n) if draw(st.booleans()) else np.ones(n)
    strata = rng.integers(0, 3, size=n) if draw(st.booleans()) else None
    entry = None
    if draw(st.booleans()):
        entry = np.where(rng.random(n) < 0.5, np.floor(rng.random(n) * time), -1.0)
    ties = draw(st.sampled_from(["efron", "breslow"]))
    beta = rng.normal(scale=0.5, size=p)
    return time, event, X, w, strata, entry, ties, beta


@settings(max_examples=60, deadline=None)
@given(cox_data())
def test_kernels_match_brute_force(data):
    time, event, X, w, strata, entry, ties, beta = data
    prob = CoxProblem(time, event, X, w, strata, entry, ties, center=np.zeros(X.shape[1]))
    ev = prob.evaluate(beta)
    ll, U, info, resid = brute_force(beta, time, event, X, w, strata, entry, ties)
    np.testing.assert_allclose(ev.loglik, ll, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ev.score, U, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ev.information, info, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(prob.score_residuals(beta), resid, rtol=1e-8, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(cox_data())
def test_centring_changes_nothing_and_residuals_sum_to_score(data):
    time, event, X, w, strata, entry, ties, beta = data
    a = CoxProblem(time, event, X, w, strata, entry, ties, center=np.zeros(X.shape[1]))
    b = CoxProblem(time, event, X, w, strata, entry, ties)  # weighted-mean centring
    ea, eb = a.evaluate(beta), b.evaluate(beta)
    np.testing.assert_allclose(ea.loglik, eb.loglik, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ea.score, eb.score, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ea.information, eb.information, rtol=1e-8, atol=1e-10)
    # weighted score residuals add up to the score vector
    np.testing.assert_allclose(
        (a.score_residuals(beta) * w[:, None]).sum(axis=0), ea.score, rtol=1e-8, atol=1e-10
    )


def test_tiny_example_closed_forms_at_zero():
    """Therneau & Grambsch's 6-observation example: r = exp(beta) = 1 at beta = 0.

    Breslow: l = 2b - log(3r+3) - 2 log(r+3); Efron: l = 2b - log(3r+3) - log(r+3) - log(r/2+5/2).
    """
    time = np.array([1, 1, 6, 6, 8, 9.0])
    event = np.array([1, 0, 1, 1, 0, 1], bool)
    X = np.array([[1], [1], [1], [0], [0], [0.0]])
    w = np.ones(6)
    for ties, ll0, u0 in [
        ("breslow", -np.log(6) - 2 * np.log(4), 2 - 0.5 - 2 / 4),
        ("efron", -np.log(6) - np.log(4) - np.log(3), 2 - 0.5 - 1 / 4 - 1 / 6),
    ]:
        ev = CoxProblem(time, event, X, w, ties=ties).evaluate(np.zeros(1))
        np.testing.assert_allclose(ev.loglik, ll0, rtol=1e-14)
        np.testing.assert_allclose(ev.score, [u0], rtol=1e-14)


def test_large_linear_predictor_does_not_overflow():
    rng = np.random.default_rng(0)
    time = rng.exponential(size=50)
    event = np.ones(50, bool)
    X = rng.normal(size=(50, 1)) * 10  # linear predictor spans about +-600
    ev = CoxProblem(time, event, X, np.ones(50)).evaluate(np.array([20.0]))
    assert np.isfinite(ev.loglik) and np.all(np.isfinite(ev.information))
    # the same quantities with the data rescaled: x -> x/10, beta -> 10 beta
    ev2 = CoxProblem(time, event, X / 10, np.ones(50)).evaluate(np.array([200.0]))
    np.testing.assert_allclose(ev2.loglik, ev.loglik, rtol=1e-12)
