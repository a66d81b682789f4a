"""Unit tests of the tau² estimators: closed forms by hand, algorithm identities, control.

Agreement with metafor for every estimator is tested in test_rma.py (all fixture cases);
here: each closed form against a direct NumPy evaluation of its textbook formula, the
PM = EB identity, metafor's stopping rule replayed, and the failure modes.
"""

from __future__ import annotations

import numpy as np
import pytest

from drivervte.errors import InputError
from drivervte.meta import tau2 as t2m

YI = np.array([-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62, 0.01, -0.47, -1.37, -0.34,
               0.45, -0.02])
VI = np.array([0.33, 0.19, 0.42, 0.02, 0.05, 0.007, 0.22, 0.004, 0.06, 0.07, 0.01, 0.53, 0.07])
X1 = np.ones((13, 1))


def test_dl_matches_textbook_formula():
    w = 1 / VI
    mu = np.sum(w * YI) / w.sum()
    Q = np.sum(w * (YI - mu) ** 2)
    expect = max(0, (Q - 12) / (w.sum() - np.sum(w**2) / w.sum()))
    assert t2m.tau2_dl(YI, VI, X1).tau2 == pytest.approx(expect, rel=1e-12)


def test_he_matches_textbook_formula():
    expect = max(0, np.var(YI, ddof=1) - VI.mean())
    assert t2m.tau2_he(YI, VI, X1).tau2 == pytest.approx(expect, rel=1e-12)


def test_hs_matches_textbook_formula():
    w = 1 / VI
    mu = np.sum(w * YI) / w.sum()
    expect = max(0, (np.sum(w * (YI - mu) ** 2) - 13) / w.sum())
    assert t2m.tau2_hs(YI, VI, X1).tau2 == pytest.approx(expect, rel=1e-12)


def test_sj_matches_textbook_formula():
    t0 = np.mean((YI - YI.mean()) ** 2)
    w = 1 / (VI + t0)
    mu = np.sum(w * YI) / w.sum()
    expect = t0 * np.sum(w * (YI - mu) ** 2) / 12
    assert t2m.tau2_sj(YI, VI, X1).tau2 == pytest.approx(expect, rel=1e-12)


def test_pm_solves_generalised_q_equation():
    est = t2m.tau2_pm(YI, VI, X1)
    assert est.tau2 > 0
    assert t2m.qe_at(est.tau2, YI, VI, X1) == pytest.approx(12, rel=1e-12)


def test_eb_equals_pm_at_full_precision():
    assert t2m.tau2_eb(YI, VI, X1).tau2 == pytest.approx(t2m.tau2_pm(YI, VI, X1).tau2,
                                                         rel=1e-9)


def test_reml_and_ml_are_stationary_points():
    """At the REML (ML) estimate the score is zero: y'PPy = tr P (y'PPy = sum w)."""
    for fn, kind in [(t2m.tau2_reml, "REML"), (t2m.tau2_ml, "ML")]:
        est = fn(YI, VI, X1)
        w = 1 / (VI + est.tau2)
        P = t2m.proj(X1, w)
        Py = P @ (YI - YI.mean())
        target = np.trace(P) if kind == "REML" else w.sum()
        assert Py @ Py == pytest.approx(target, rel=1e-9)
        assert est.converged and est.iterations > 1


def test_metafor_stopping_rule_gives_a_coarser_estimate():
    tight = t2m.tau2_reml(YI, VI, X1).tau2
    loose = t2m.tau2_reml(YI, VI, X1, control={"threshold": 1e-5, "relative": False})
    assert abs(loose.tau2 - tight) < 1e-4
    assert loose.iterations <= t2m.tau2_reml(YI, VI, X1).iterations


def test_pm_extends_a_too_small_bracket():
    est = t2m.tau2_pm(YI * 100, VI, X1, control={"tau2_max": 1.0})
    assert est.converged and est.tau2 > 1.0
    assert t2m.qe_at(est.tau2, YI * 100, VI, X1) == pytest.approx(12, rel=1e-10)


def test_fixed_tau2_is_returned_with_its_se():
    for m in t2m.TAU2_METHODS:
        est = t2m.estimate_tau2(m, YI, VI, X1, tau2_fixed=0.2)
        assert est.tau2 == 0.2 and np.isfinite(est.se_tau2) and est.se_tau2 > 0


def test_maxiter_exhaustion_is_not_converged():
    est = t2m.tau2_reml(YI, VI, X1, control={"maxiter": 1, "tau2_init": 10.0,
                                              "fallback": False})
    assert not est.converged and np.isnan(est.tau2) and est.warnings
    # with the fallback (default) the maximum is found directly and agrees
    fb = t2m.tau2_reml(YI, VI, X1, control={"maxiter": 1, "tau2_init": 10.0})
    assert fb.converged and "found directly" in fb.warnings[0]
    assert fb.tau2 == pytest.approx(t2m.tau2_reml(YI, VI, X1).tau2, rel=1e-10)


def test_eb_fallback_is_the_pm_root():
    fb = t2m.tau2_eb(YI, VI, X1, control={"maxiter": 1, "tau2_init": 10.0})
    assert fb.converged and "Paule-Mandel" in fb.warnings[0]
    assert fb.tau2 == pytest.approx(t2m.tau2_pm(YI, VI, X1).tau2, rel=1e-12)


def test_ml_fallback_at_the_boundary():
    y = np.array([0.10, 0.12, 0.09, 0.11, 0.13])
    v = np.array([0.04, 0.05, 0.03, 0.06, 0.05])
    fb = t2m.tau2_ml(y, v, np.ones((5, 1)), control={"maxiter": 0, "tau2_init": 1.0})
    assert fb.converged and fb.tau2 == 0


def test_unknown_control_key():
    with pytest.raises(InputError, match="control"):
        t2m.tau2_reml(YI, VI, X1, control={"thresh": 1})


def test_boundary_all_methods_zero_for_homogeneous_data():
    """Q < k - 1: every estimator truncates at 0, except SJ, which is positive by design
    (tau0^2 * Q / (k - 1) with tau0^2 > 0)."""
    y = np.array([0.10, 0.12, 0.09, 0.11, 0.13])
    v = np.array([0.04, 0.05, 0.03, 0.06, 0.05])
    for m in t2m.TAU2_METHODS:
        est = t2m.estimate_tau2(m, y, v, np.ones((5, 1))).tau2
        if m == "SJ":
            assert 0 < est < 1e-5
        else:
            assert est == 0, m


def test_proj_traces_match_the_explicit_matrix():
    """Proj's O(k p^2) traces equal the k x k matrix expressions metafor evaluates."""
    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(13), rng.normal(size=13), rng.integers(0, 2, 13)])
    w = 1 / (VI + 0.1)
    pr = t2m.Proj(X, w)
    P = w[:, None] * np.eye(13) - (w[:, None] * X) @ np.linalg.solve(
        X.T @ (w[:, None] * X), (X * w[:, None]).T)
    np.testing.assert_allclose(t2m.proj(X, w), P, atol=1e-12)
    np.testing.assert_allclose(pr.Py(YI), P @ YI, rtol=1e-10, atol=1e-12)
    assert pr.quad(YI) == pytest.approx(YI @ P @ YI, rel=1e-10)
    assert pr.trP() == pytest.approx(np.trace(P), rel=1e-10)
    assert pr.trPP() == pytest.approx(np.sum(P * P), rel=1e-10)
    PV = P * VI[None, :]
    u = w * VI
    assert pr.tr2(u, u) == pytest.approx(np.sum(PV * PV.T), rel=1e-10)
    assert pr.tr2(u, w) == pytest.approx(np.sum(PV * P), rel=1e-10)
