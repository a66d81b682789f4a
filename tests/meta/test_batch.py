"""fit_batch against single metafor::rma.uni fits (fixture metafor_batch.json)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import load_reference
from drivervte.errors import ConvergenceWarning, InputError
from drivervte.meta.batch import fit_batch, reml_tau2_exact
from tolerances import ATOL_ZERO, RTOL_EXACT, RTOL_ITER

REF = load_reference("metafor_batch")
CASES = REF["cases"]
KEYS = [("tau2", "tau2"), ("se_tau2", "se_tau2"), ("estimate", "beta"), ("se", "se"),
        ("statistic", "zval"), ("pvalue", "pval"), ("ci_lower", "ci_lb"),
        ("ci_upper", "ci_ub"), ("Q", "QE"), ("Q_pvalue", "QEp"), ("I2", "I2"), ("H2", "H2")]


def rnum(x) -> float:
    return np.nan if (x is None or isinstance(x, str)) else float(x)


def padded():
    """All fixture analyses as one k x B array, padded with NaN (unequal k)."""
    ys = [np.atleast_1d(np.asarray(c["yi"], float)) for c in CASES]
    vs = [np.atleast_1d(np.asarray(c["vi"], float)) for c in CASES]
    kmax = max(len(y) for y in ys)
    Y = np.full((kmax, len(ys)), np.nan)
    V = np.full((kmax, len(ys)), np.nan)
    for j, (y, v) in enumerate(zip(ys, vs, strict=True)):
        Y[: len(y), j], V[: len(v), j] = y, v
    return Y, V


def test_fixture_has_the_hard_draws():
    names = {c["name"] for c in CASES}
    assert {"all_equal_yi", "extreme_vi_ratio", "k2", "k1", "tiny_vi", "fisher_slow",
            "fisher_2cycle"} <= names
    assert sum(n.startswith("sim") for n in names) == 200


# REML: the same Fisher-scoring path and stopping rule as metafor, so agreement is at
# rounding level, far inside RTOL_ITER; DL/EE are closed form (RTOL_EXACT).
@pytest.mark.parametrize("method,rtol", [("REML", RTOL_ITER / 100), ("DL", RTOL_EXACT),
                                         ("EE", RTOL_EXACT)])
def test_batch_matches_single_rma_uni(method, rtol):
    Y, V = padded()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = fit_batch(Y, V, method=method)
    # where rma.uni stops with an error, the column fails (and only there)
    r_failed = np.array(["error" in c["output"][method] for c in CASES])
    assert (~res.converged).tolist() == r_failed.tolist()
    assert r_failed.sum() == (2 if method == "REML" else 0)
    for ours, r in KEYS:
        want = np.array([np.nan if f else rnum(c["output"][method][r])
                         for c, f in zip(CASES, r_failed, strict=True)])
        got = getattr(res, ours)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=ATOL_ZERO, equal_nan=True,
                                   err_msg=f"{method} {ours}")
    assert res.k.tolist() == [len(np.atleast_1d(c["yi"])) for c in CASES]


def test_fallback_matches_metafor_with_halved_steps_where_fisher_scoring_fails():
    Y, V = padded()
    res = fit_batch(Y, V, fallback=True)
    assert res.converged.all()
    for j, c in enumerate(CASES):
        if "REML_stepadj" in c["output"]:
            ref = c["output"]["REML_stepadj"]
            # metafor iterated with threshold 1e-12; ours is the exact root
            assert res.tau2[j] == pytest.approx(ref["tau2"], rel=1e-9)
            assert res.estimate[j] == pytest.approx(ref["beta"], rel=1e-9)
            assert res.se[j] == pytest.approx(ref["se"], rel=1e-9)
            assert "exact root" in res.reason[j]


def test_max_relative_difference_reml_tau2_is_tiny():
    Y, V = padded()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = fit_batch(Y, V)
    want = np.array([rnum(c["output"]["REML"].get("tau2")) for c in CASES])
    pos = want > 1e-8
    assert np.max(np.abs(res.tau2[pos] / want[pos] - 1)) < 1e-9


def test_column_order_and_batching_do_not_matter():
    Y, V = padded()
    full = fit_batch(Y, V, fallback=True)
    perm = np.random.default_rng(3).permutation(Y.shape[1])
    shuffled = fit_batch(Y[:, perm], V[:, perm], fallback=True)
    np.testing.assert_array_equal(shuffled.tau2, full.tau2[perm])
    single = fit_batch(Y[:, 7], V[:, 7])
    assert single.tau2[0] == full.tau2[7] and single.iterations[0] == full.iterations[7]


def test_failures_do_not_abort_the_batch():
    Y, V = padded()
    Y, V = Y[:, :4].copy(), V[:, :4].copy()
    V[0, 1] = -0.1          # non-positive variance
    Y[:, 2] = np.nan        # no studies
    res = fit_batch(Y, V)
    assert res.converged.tolist() == [True, False, False, True]
    assert "non-positive" in res.reason[1] and "no studies" in res.reason[2]
    assert np.isnan(res.tau2[1]) and np.isfinite(res.tau2[3])
    assert res.to_dict()["tau2"][1] is None


def test_non_convergence_is_flagged_and_warned():
    Y, V = padded()
    with pytest.warns(ConvergenceWarning):
        res = fit_batch(Y, V, maxiter=1)
    assert (~res.converged).any()
    failed = ~res.converged
    assert np.isnan(res.tau2[failed]).all()
    assert all("did not converge" in res.reason[j] for j in np.flatnonzero(failed))


def test_all_equal_yi_gives_zero_tau2():
    res = fit_batch(np.full(6, 0.25), np.array([0.1, 0.2, 0.05, 0.3, 0.1, 0.07]))
    assert res.tau2[0] == 0.0 and res.Q[0] == 0.0 and res.I2[0] == 0.0


def test_input_errors():
    with pytest.raises(InputError, match="shape"):
        fit_batch(np.zeros((3, 2)), np.ones((3, 3)))
    with pytest.raises(InputError) as ei:
        fit_batch(np.zeros(3), np.ones(3), method="PM")
    assert ei.value.column == "method"


def test_summary_and_frame():
    Y, V = padded()
    res = fit_batch(Y[:, :12], V[:, :12], method="DL")
    assert "DL batch: 12 analyses" in res.summary()
    assert list(res.to_frame().columns)[:2] == ["k", "tau2"]


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 15), st.integers(0, 10_000), st.floats(0.0, 2.0))
def test_tau2_nonnegative_and_shift_invariant(k, seed, shift):
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.01, 0.5, size=(k, 5))
    y = rng.normal(0, 1, size=(k, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # fallback: metafor's Fisher scoring stalls on a few draws (e.g. k=7, seed=7842)
        a = fit_batch(y, v, fallback=True)
        b = fit_batch(y + shift, v, fallback=True)
    assert (a.tau2 >= 0).all() and a.converged.all()
    np.testing.assert_allclose(b.tau2, a.tau2, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(b.estimate, a.estimate + shift, rtol=1e-6, atol=1e-6)


def test_reml_exact_agrees_with_tightly_iterated_fisher_scoring():
    Y, V = padded()
    exact = reml_tau2_exact(Y, V)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tight = fit_batch(Y, V, threshold=1e-12, maxiter=10_000, ll0check=False)
    ok = tight.converged  # the 2-cycle draw never converges with full steps
    assert ok.sum() >= len(CASES) - 1
    np.testing.assert_allclose(exact[ok], tight.tau2[ok], rtol=1e-8, atol=1e-10)


def test_fallback_fills_columns_where_fisher_scoring_stalls():
    # A draw where rma.uni's Fisher scoring needs 558 steps (metafor stops at 100).
    rng = np.random.default_rng(2026)
    v = rng.chisquare(3, size=(20, 10_000)) / 60 + 0.005
    tau2 = rng.choice([0.0, 0.01, 0.05, 0.2], size=10_000)
    y = rng.normal(0.3, np.sqrt(v + tau2))
    y, v = y[:, [50, 0]], v[:, [50, 0]]
    with pytest.warns(ConvergenceWarning):
        plain = fit_batch(y, v)
    assert plain.converged.tolist() == [False, True]
    fb = fit_batch(y, v, fallback=True)
    assert fb.converged.all() and "exact root" in fb.reason[0]
    long = fit_batch(y[:, 0], v[:, 0], maxiter=100_000, threshold=1e-12)
    assert fb.tau2[0] == pytest.approx(long.tau2[0], rel=1e-7)
    assert fb.tau2[1] == plain.tau2[1]


def test_exact_mode_matches_reml_tau2_exact_and_metafor_within_its_stopping_rule():
    Y, V = padded()
    ex = fit_batch(Y, V, exact=True)
    np.testing.assert_array_equal(ex.tau2, reml_tau2_exact(Y, V))
    assert (ex.iterations == 0).all() and ex.converged.all()
    want = np.array([rnum(c["output"]["REML"].get("tau2")) for c in CASES])
    ok = np.isfinite(want)
    # metafor stops when a Fisher step moves tau2 by <= 1e-5
    np.testing.assert_allclose(ex.tau2[ok], want[ok], rtol=0, atol=1e-4)


def test_reml_exact_is_the_root_found_by_brentq():
    from scipy.optimize import brentq

    from drivervte.meta.batch import _score

    rng = np.random.default_rng(11)
    v = rng.uniform(0.005, 0.3, size=(15, 30))
    y = rng.normal(0.2, np.sqrt(v + rng.choice([0, 0.02, 0.3], size=30)))
    ex = reml_tau2_exact(y, v)
    m = np.ones_like(y)
    for j in range(30):
        def f(t, j=j):
            return _score(y[:, [j]], v[:, [j]], m[:, [j]], t)[0]
        if f(0.0) <= 0:
            assert ex[j] == 0.0
            continue
        hi = 1.0
        while f(hi) > 0:
            hi *= 2
        assert ex[j] == pytest.approx(brentq(f, 0, hi, xtol=1e-15, rtol=1e-15), rel=1e-12)


def test_docstring_example_runs():
    import doctest

    import drivervte.meta.batch as mod

    result = doctest.testmod(mod)
    assert result.attempted > 0 and result.failed == 0


def test_exact_mode_agrees_with_the_single_fit_engine():
    """fit_batch(exact=True) and drivervte.meta.rma.fit_rma (REML) reach the same optimum."""
    from drivervte.meta.rma import fit_rma

    rng = np.random.default_rng(5)
    v = rng.uniform(0.005, 0.3, size=(12, 25))
    y = rng.normal(0.1, np.sqrt(v + rng.choice([0.0, 0.03, 0.3], size=25)))
    ex = fit_batch(y, v, exact=True)
    for j in range(25):
        single = fit_rma(y[:, j], v[:, j], method="REML", confint=False)
        assert ex.tau2[j] == pytest.approx(single.tau2, rel=1e-7, abs=1e-10)
        assert ex.estimate[j] == pytest.approx(single.estimate, rel=1e-7, abs=1e-10)
        assert ex.se[j] == pytest.approx(single.se, rel=1e-7)
