"""Tests of drivervte.meta.trimfill against metafor 3.8 ``trimfill`` (L0, R0, Q0; forced and
automatic side), and its invariants. Tolerances are explained in ``_bias_ref``."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from _bias_ref import DATASETS, assert_close, atol_for, cases, fit_case, rtol_for
from hypothesis import given, settings
from hypothesis import strategies as st

from drivervte.errors import ConvergenceWarning, InputError, SmallSampleWarning
from drivervte.meta.bias import trimfill
from drivervte.meta.rma import fit_rma
from drivervte.meta.trimfill import _k0_step

FIT_KEYS = ["estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper", "Q", "Q_pvalue",
            "tau2", "I2", "H2"]
SPECS = [(c, t) for c in cases("rma.uni", "trimfill") for t in c["trimfill"]]


def _spec_id(spec):
    c, t = spec
    return f"{c['id']}/{t['estimator']}/{t['side_requested'] or 'auto'}"


@pytest.mark.parametrize("spec", SPECS, ids=[_spec_id(s) for s in SPECS])
def test_trimfill_matches_metafor(spec):
    case, ref = spec
    res = fit_case(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        if "error" in ref:
            # metafor stops with an error (Q0: NaN k0); drivervte reports it instead.
            with pytest.warns(ConvergenceWarning, match="Q0"):
                tf = trimfill(res, side=ref["side_requested"], estimator=ref["estimator"])
            assert not tf.converged and tf.k0 is None and np.isnan(tf.estimate)
            return
        tf = trimfill(res, side=ref["side_requested"], estimator=ref["estimator"])
    assert tf.side == ref["side"]
    assert tf.side_chosen == ("given" if ref["side_requested"] else "auto")
    assert tf.k0 == ref["k0"]
    assert tf.k_filled == ref["fit"]["k"]
    tol = rtol_for(case)
    assert_close(tf.se_k0, ref["se_k0"], rtol=1e-12, what="se_k0")
    if ref["p_k0"] is not None:
        assert tf.p_k0 == pytest.approx(ref["p_k0"], rel=1e-14)
    if ref["k0"]:
        assert_close(tf.filled_yi, ref["fill_yi"], rtol=tol, what="fill_yi")
        assert_close(tf.filled_vi, ref["fill_vi"], rtol=1e-15, what="fill_vi")
    for key in FIT_KEYS:
        assert_close(getattr(tf, key), ref["fit"][key], rtol=tol, atol=atol_for(key),
                     what=key)
    if ref["fit"].get("df") is not None:
        assert tf.df == ref["fit"]["df"]


def test_fixture_grid_has_both_sides_and_missing_studies():
    """Guard: the fixture exercises k0 > 0 on both sides and every estimator."""
    seen = {(t["side"], t["estimator"]) for _, t in SPECS if t.get("k0")}
    assert {("left", "L0"), ("right", "L0"), ("left", "R0"), ("right", "R0")} <= seen
    assert any("error" in t for _, t in SPECS)


def test_mirror_pairs_metafor_tie_artefact():
    """A funnel of exact mirror pairs: R0 finds nothing, L0 finds one study (ranks of
    tied |yi - b| are broken by position, as metafor's rank(ties = "first"))."""
    c = next(c for c in cases("rma.uni", "trimfill") if c["dataset"] == "mirror")
    res = fit_case(c)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        assert trimfill(res, side="left", estimator="R0").k0 == 0
        assert trimfill(res, side="right", estimator="R0").k0 == 0
        assert trimfill(res, estimator="L0").k0 == 1


# ------------------------------------------------------------------ properties
@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.floats(-1, 1), st.floats(0.05, 2), st.floats(0.01, 0.5),
       st.sampled_from(["left", "right"]), st.sampled_from(["L0", "R0"]),
       st.sampled_from(["EE", "DL", "REML"]), st.randoms(use_true_random=False))
def test_symmetric_funnel_gives_k0_zero(blocks, theta, scale, v, side, est, method, rnd):
    """Deviations theta + s (1, -2, -3, 4), (5, -6, -7, 8), ...: signed ranks are exactly
    balanced (S_r = k(k+1)/4, longest positive run 1), so k0 = 0 for L0 and R0."""
    dev = np.concatenate([(np.arange(1, 5) + 4 * b) * np.array([1, -1, -1, 1])
                          for b in range(blocks)])
    yi = theta + scale * dev
    order = list(range(yi.size))
    rnd.shuffle(order)
    yi = yi[order]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_rma(yi, np.full(yi.size, v), method=method)
        tf = trimfill(res, side=side, estimator=est)
    assert tf.k0 == 0 and tf.converged
    assert tf.estimate == res.estimate and tf.filled_yi.size == 0


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 25), st.integers(0, 10**6), st.sampled_from(["L0", "R0"]),
       st.sampled_from([None, "left", "right"]))
def test_k0_nonnegative_and_fill_mirrors_about_the_estimate(k, seed, est, side):
    rng = np.random.default_rng(seed)
    yi, vi = rng.normal(0.3, 0.5, k), rng.uniform(0.01, 0.5, k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_rma(yi, vi, method="DL")
        tf = trimfill(res, side=side, estimator=est)
    assert tf.converged and 0 <= tf.k0 < k
    assert tf.k_filled == k + tf.k0 == tf.model.k
    if tf.k0:
        # filled = 2 b - y for the k0 most extreme studies on the side opposite to the
        # missing ones, with their variances: every pair sums to the same 2 b.
        idx = np.argsort(yi, kind="stable")
        src = idx[k - tf.k0:] if tf.side == "left" else idx[: tf.k0][::-1]
        sums = tf.filled_yi + yi[src]
        np.testing.assert_allclose(sums, sums[0], rtol=0, atol=1e-12)
        np.testing.assert_array_equal(tf.filled_vi, vi[src])
        d = tf.to_dict()
        assert len(d["filled"]) == tf.k0 and d["k0"] == tf.k0
        json.dumps(d)


def test_k0_step_formulas():
    # All positive signed ranks: L0 = (4 k(k+1)/2 - k(k+1))/(2k - 1); R0 with no negative
    # rank gives k - 1 (metafor would fail on max() of an empty set).
    k = 5
    yc = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    assert _k0_step(yc, k, "L0")[0] == pytest.approx(k * (k + 1) / (2 * k - 1))
    assert _k0_step(yc, k, "R0")[0] == k - 1
    assert _k0_step(yc, k, "R0")[1] == pytest.approx(np.sqrt(2 * (k - 1) + 2))


# ------------------------------------------------------------------ input rules
def test_trimfill_rejects_bad_input():
    d = DATASETS["bcg"]
    res = fit_rma(d["yi"], d["vi"])
    with pytest.raises(InputError, match="side"):
        trimfill(res, side="up")
    with pytest.raises(InputError, match="estimator"):
        trimfill(res, estimator="X0")
    mods = fit_rma(d["yi"], d["vi"], np.column_stack([np.ones(13), d["ablat"]]))
    with pytest.raises(InputError, match="moderators"):
        trimfill(mods)
    with pytest.raises(InputError, match="at least 3"):
        trimfill(fit_rma(d["yi"][:2], d["vi"][:2], method="EE"))


def test_trimfill_rejects_mh():
    from drivervte.meta.mantel_haenszel import rma_mh

    c = DATASETS["egger2001"]["counts"]
    with pytest.raises(InputError, match="rma"):
        trimfill(rma_mh(c["ai"], c["bi"], c["ci"], c["di"]))


def test_auto_side_needs_distinct_variances():
    res = fit_rma([0.1, 0.5, 0.2, 0.9], [0.1] * 4, method="EE")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        with pytest.raises(InputError, match="side='left'"):
            trimfill(res)
        assert trimfill(res, side="left").converged


def test_small_k_warning_and_summary():
    d = DATASETS["normand1999"]
    res = fit_rma(d["yi"], d["vi"], method="EE")
    with pytest.warns(SmallSampleWarning):
        tf = trimfill(res)
    assert tf.k0 == 2 and "Filled 1" in tf.summary()
    assert any("Cochrane" in w for w in tf.to_dict()["warnings"])


def test_filled_model_keeps_settings():
    """The filled model keeps test, level and a fixed tau² of the original model."""
    d = DATASETS["egger2001"]
    res = fit_rma(d["yi"], d["vi"], test="knha", level=90, tau2=0.05)
    tf = trimfill(res)
    assert tf.k0 > 0
    assert tf.model.test == "knha" and tf.model.level == 90 and tf.model.tau2 == 0.05
    assert tf.df == tf.k_filled - 1


@pytest.mark.parametrize("estimator", ["L0", "R0"])
def test_equal_effects_give_k0_zero(estimator):
    """Differences yi - b at rounding level carry no sign: nothing is missing."""
    res = fit_rma([0.2] * 6, [0.1, 0.2, 0.3, 0.1, 0.2, 0.4], method="REML")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        tf = trimfill(res, estimator=estimator)
    assert tf.k0 == 0 and tf.converged


def test_filled_studies_carry_their_sample_sizes():
    """metafor's ni.fill: the filled studies get the sample sizes of the mirrored ones
    (needed to back-transform e.g. Freeman-Tukey proportions)."""
    d = DATASETS["egger2001"]
    ni = np.arange(len(d["yi"])) * 10.0 + 50
    res = fit_rma(d["yi"], d["vi"], ni=ni)
    tf = trimfill(res, side="right")
    assert tf.k0 > 0 and len(tf.model.ni) == tf.k_filled
    for y, v, n in zip(tf.filled_yi, tf.filled_vi, tf.model.ni[len(ni):], strict=True):
        j = int(np.flatnonzero(np.isclose(np.asarray(d["vi"]), v))[0])
        assert n == ni[j] and np.isfinite(y)
