"""fit_rma against metafor rma.uni / predict.rma (fixtures from tests/reference/R/metafor_rma.R).

Tolerances: the fixture's tight control (threshold/tol 1e-12) makes metafor's iterative
estimates exact roots, so every quantity is compared at RTOL_ITER (1e-6) even for the
iterative methods; we observe agreement near 1e-9 (see the report). Closed-form methods
(EE, DL, HE, HS, SJ) are compared at 1e-8: they differ from R only by summation order,
amplified by the p-value tails. Cases with metafor's *default* stopping rule are replayed
with ``control=METAFOR_DEFAULT_CONTROL``, i.e. metafor's own algorithm and stopping rule,
so they too agree far below 1e-6. (Our default, iterated to the exact maximum, differs
from metafor's *default* output by up to ~2e-4 relative in tau², see
``test_metafor_default_stopping_is_coarse``.)
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from conftest import load_reference
from drivervte.errors import InputError
from drivervte.meta.rma import METHODS, fit_rma, predict
from drivervte.meta.tau2 import METAFOR_DEFAULT_CONTROL
from tolerances import ATOL_ZERO, RTOL_ITER

REF = load_reference("metafor_rma")
CASES = REF["cases"]
CLOSED = {"EE", "DL", "HE", "HS", "SJ"}
METAFOR_DEFAULT = METAFOR_DEFAULT_CONTROL


def arr(x):
    return np.atleast_1d(np.array([np.nan if v is None else v for v in np.atleast_1d(x)],
                                  dtype=float))


def close(actual, expected, rtol, what):
    a, e = arr(actual), arr(expected)
    assert a.shape == e.shape, what
    np.testing.assert_allclose(a, e, rtol=rtol, atol=ATOL_ZERO, equal_nan=True, err_msg=what)


def fit_case(case, **kw):
    ds = REF["datasets"][case["dataset"]]
    X = names = None
    if case["design"]:
        des = REF["designs"][case["design"]]
        X, names = np.array(des["X"], float), des["colnames"]
    control = METAFOR_DEFAULT if case["control"] == "default" else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_rma(ds["yi"], ds["vi"], X, method=case["method"], test=case["test"],
                       control=control, mod_names=names, **kw)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_against_metafor(case):
    o = case["output"]
    r = fit_case(case)
    rtol = 1e-8 if case["method"] in CLOSED else RTOL_ITER
    m = r.moderators
    if case["design"]:
        assert m is not None
        close(m.coef, o["beta"], rtol, "beta")
        close(m.se, o["se"], rtol, "se")
        close(m.statistic, o["zval"], rtol, "zval")
        close(m.pvalue, o["pval"], rtol, "pval")
        close(m.ci_lower, o["ci_lb"], rtol, "ci.lb")
        close(m.ci_upper, o["ci_ub"], rtol, "ci.ub")
        close(m.QM, o["QM"], rtol, "QM")
        close(m.QM_pvalue, o["QMp"], rtol, "QMp")
        assert m.QM_df == o["QMdf"][0]
        assert m.QM_df2 == (None if o["QMdf"][1] is None else o["QMdf"][1])
        close(m.R2, o["R2"], rtol, "R2")
    else:
        assert m is None
        close(r.estimate, o["beta"], rtol, "beta")
        close(r.se, o["se"], rtol, "se")
        close(r.statistic, o["zval"], rtol, "zval")
        close(r.pvalue, o["pval"], rtol, "pval")
        close([r.ci_lower, r.ci_upper], [o["ci_lb"], o["ci_ub"]], rtol, "ci")
        pr = o["predict"]
        close([r.pi_lower, r.pi_upper], [pr["pi_lb"], pr["pi_ub"]], rtol, "pi")
    close(r.tau2, o["tau2"], rtol, "tau2")
    close(r.se_tau2, o["se_tau2"], rtol, "se.tau2")
    close(r.Q, o["QE"], rtol, "QE")
    close(r.Q_pvalue, o["QEp"], rtol, "QEp")
    assert r.Q_df == o["k"] - o["p"]
    close(r.I2, o["I2"], rtol, "I2")
    close(r.H2, o["H2"], rtol, "H2")
    close(r.weights, o["weights"], rtol, "weights")
    close(r.settings["s2w"], o["s2w"], rtol, "s2w")
    assert r.df == (o["k"] - o["p"] if case["test"] == "knha" else None)
    assert r.converged


@pytest.mark.parametrize("case", [c for c in CASES if c["design"]],
                         ids=[c["id"] for c in CASES if c["design"]])
def test_predict_against_metafor(case):
    pr = case["output"]["predict"]
    r = fit_case(case)
    p = predict(r, pr["newmods"])
    rtol = 1e-8 if case["method"] in CLOSED else RTOL_ITER
    for ours, key in [(p.pred, "pred"), (p.se, "se"), (p.ci_lower, "ci_lb"),
                      (p.ci_upper, "ci_ub"), (p.pi_lower, "pi_lb"), (p.pi_upper, "pi_ub")]:
        close(ours, pr[key], rtol, key)


def test_grid_is_complete():
    """Every method x test x model type is in the fixture (guards a silently shrunk grid)."""
    have = {(c["dataset"], c["design"], c["method"], c["test"]) for c in CASES
            if c["control"] != "default"}
    models = {(c["dataset"], c["design"]) for c in CASES}
    assert len(models) == 13
    for ds, des in models:
        for method in REF["meta"]["methods"]:
            for test in ("z", "knha"):
                assert (ds, des, method, test) in have, (ds, des, method, test)
    assert set(REF["meta"]["methods"]) == set(METHODS) - {"FE"}
    kinds = {("none" if d is None else ("cat" if "alloc" in d or "design" in d else "cont"))
             for _, d in models}
    assert kinds == {"none", "cat", "cont"}
    assert any(c["control"] == "default" for c in CASES)


def test_k1_against_metafor():
    ref = REF["k1"]
    with pytest.warns(UserWarning, match="k = 1"):
        r = fit_rma([ref["yi"]], [ref["vi"]], method="REML", test="knha")
    assert r.test == "z"
    close(r.estimate, ref["beta"], 1e-12, "beta")
    close(r.se, ref["se"], 1e-12, "se")
    close([r.ci_lower, r.ci_upper], [ref["ci_lb"], ref["ci_ub"]], 1e-12, "ci")
    assert (r.tau2, r.Q, r.Q_df, r.Q_pvalue, r.I2, r.H2) == (0.0, 0.0, 0, 1.0, 0.0, 1.0)
    assert r.se_tau2 is None and r.tau2_ci_lower is None
    assert np.isnan(r.pi_lower) and np.isnan(r.pi_upper)
    assert r.weights.tolist() == [100.0]
    with pytest.warns(UserWarning, match="k = 1"):
        fixed = fit_rma([ref["yi"]], [ref["vi"]], tau2=0.5)
    assert fixed.pi_upper == pytest.approx(
        ref["beta"] + 1.959963984540054 * np.sqrt(ref["vi"] + 0.5 + 0.5), rel=1e-12)


def test_to_dict_is_json_and_has_the_documented_keys():
    c = next(c for c in CASES if c["design"] == "bcg/ablat" and c["method"] == "REML"
             and c["test"] == "knha")
    d = fit_case(c, measure="RR").to_dict()
    json.dumps(d, allow_nan=False)
    assert d["moderators"]["names"] == ["(Intercept)", "ablat"]
    assert d["moderators"]["QM_df2"] == 11
    assert d["df"] == 11
    assert d["transformed"]["scale"] != "identity"
    assert abs(sum(s["weight"] for s in d["studies"]) - 100) < 1e-9


def test_ee_has_no_prediction_interval_or_tau2_ci():
    c = next(c for c in CASES if c["dataset"] == "bcg" and c["design"] is None
             and c["method"] == "EE" and c["test"] == "z")
    r = fit_case(c)
    assert np.isnan(r.pi_lower) and np.isnan(r.pi_upper)
    assert r.tau2 == 0 and r.se_tau2 is None and r.tau2_ci_lower is None
    assert r.to_dict()["pi_lower"] is None


def test_knha_scaling_below_one_is_not_truncated():
    """metafor 3.8's test='knha' does not truncate s2w at 1 (that is test='adhoc')."""
    ds = REF["datasets"]["homog"]
    z = fit_rma(ds["yi"], ds["vi"], method="REML")
    kh = fit_rma(ds["yi"], ds["vi"], method="REML", test="knha")
    s2w = kh.settings["s2w"]
    assert 0 < s2w < 1
    np.testing.assert_allclose(kh.se, z.se * np.sqrt(s2w), rtol=1e-12)


def test_fixed_tau2():
    ds = REF["datasets"]["bcg"]
    r = fit_rma(ds["yi"], ds["vi"], method="REML", tau2=0.1)
    assert r.tau2 == 0.1 and r.tau2_ci_lower is None
    w = 1 / (np.array(ds["vi"]) + 0.1)
    np.testing.assert_allclose(r.estimate, np.sum(w * ds["yi"]) / w.sum(), rtol=1e-12)
    with pytest.raises(InputError, match="tau2"):
        fit_rma(ds["yi"], ds["vi"], tau2=-1)


# ----------------------------------------------------------------- edge cases / inputs
def test_identical_estimates_give_zero_tau2_for_every_method():
    for m in METHODS:
        r = fit_rma([0.3] * 4, [0.1, 0.2, 0.3, 0.4], method=m)
        assert r.tau2 == 0 and r.I2 == 0 and r.Q == 0
        assert r.estimate == pytest.approx(0.3, rel=1e-12)


@pytest.mark.parametrize("bad", [0.0, -0.1, np.nan, np.inf])
def test_bad_variance_names_the_row(bad):
    with pytest.raises(InputError) as ei:
        fit_rma([0.1, 0.2, 0.3], [0.1, bad, 0.1])
    assert ei.value.column == "vi" and ei.value.rows == [1]


def test_nonfinite_effect_names_the_row():
    with pytest.raises(InputError) as ei:
        fit_rma([0.1, np.nan, 0.3], [0.1, 0.1, 0.1])
    assert ei.value.column == "yi" and ei.value.rows == [1]


def test_too_many_moderators():
    X = np.column_stack([np.ones(3), [1.0, 2, 3], [1.0, 4, 9]])
    with pytest.raises(InputError, match="cannot be estimated"):
        fit_rma([0.1, 0.2, 0.3], [0.1] * 3, X)
    # EE needs only k >= p
    r = fit_rma([0.1, 0.2, 0.35], [0.1] * 3, X, method="EE")
    assert r.Q_df == 0 and r.Q == 0
    with pytest.raises(InputError, match="studies"):
        fit_rma([0.1, 0.2], [0.1] * 2, np.ones((2, 3)), method="EE")


def test_rank_deficient_design_names_columns():
    x = np.array([1.0, 2, 3, 4, 5])
    X = np.column_stack([np.ones(5), x, 2 * x])
    with pytest.raises(InputError, match="dose2") as ei:
        fit_rma(np.arange(5) / 10, [0.1] * 5, X, mod_names=["intrcpt", "dose", "dose2"])
    assert ei.value.column == "mods"


def test_unknown_control_key_for_every_method():
    with pytest.raises(InputError, match="control"):
        fit_rma([0.1, 0.2], [0.1, 0.1], method="EE", control={"treshold": 1e-8})


def test_bad_method_and_test():
    with pytest.raises(InputError, match="method"):
        fit_rma([0.1, 0.2], [0.1, 0.1], method="XX")
    with pytest.raises(InputError, match="test"):
        fit_rma([0.1, 0.2], [0.1, 0.1], test="t")


def test_nonconvergence_is_reported_not_garbage():
    ds = REF["datasets"]["bcg"]
    from drivervte.errors import ConvergenceWarning

    with pytest.warns(ConvergenceWarning):
        r = fit_rma(ds["yi"], ds["vi"], method="REML",
                    control={"maxiter": 1, "tau2_init": 5, "fallback": False})
    assert not r.converged and np.isnan(r.estimate) and np.isnan(r.tau2)
    assert any("did not converge" in w for w in r.warnings)
    assert r.to_dict()["estimate"] is None


def test_k2_knha_uses_t_with_one_df():
    ds = REF["datasets"]["bcg2"]
    r = fit_rma(ds["yi"], ds["vi"], method="DL", test="knha")
    assert r.df == 1
    half = (r.ci_upper - r.ci_lower) / 2
    from scipy import stats

    assert half == pytest.approx(stats.t.isf(0.025, 1) * r.se, rel=1e-12)


def test_summary_mentions_method_and_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = fit_rma([0.2], [0.1])
    s = r.summary()
    assert "REML" in s and "k = 1" in s


def test_oscillating_fisher_scoring_falls_back_to_the_maximum():
    """metafor's Fisher scoring oscillates here (error with the default step); with
    stepadj=0.5 it converges. Our default finds the same REML maximum directly."""
    ref = REF["oscillating"]
    assert "did not converge" in ref["default_outcome"]
    X = np.column_stack([np.ones(len(ref["x"])), ref["x"]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning: the fit succeeded
        r = fit_rma(ref["yi"], ref["vi"], X, method="REML")
    assert r.converged and any("found directly" in w for w in r.warnings)
    close(r.tau2, ref["tau2"], RTOL_ITER, "tau2")
    close(r.se_tau2, ref["se_tau2"], RTOL_ITER, "se.tau2")
    close(r.moderators.coef, ref["beta"], RTOL_ITER, "beta")
    close(r.moderators.se, ref["se"], RTOL_ITER, "se")
    # metafor's own step, made to converge: same answer
    r2 = fit_rma(ref["yi"], ref["vi"], X, method="REML",
                 control={"stepadj": 0.5, "maxiter": 10000})
    assert not any("found directly" in w for w in r2.warnings)
    close(r2.tau2, ref["tau2"], RTOL_ITER, "tau2 (stepadj)")


@pytest.mark.parametrize("kw", [
    {"yi": [0.1, 0.5], "vi": [0.1, 0.2], "X": np.column_stack([np.ones(2), [0, 1.0]]),
     "method": "EE", "test": "knha"},
    {"yi": [0.3] * 4, "vi": [0.1, 0.2, 0.3, 0.4], "method": "REML", "test": "knha"},
    {"yi": [1e-30, 2e-30, 0], "vi": [1e-60] * 3, "method": "REML"},
    {"yi": [1e30, 2e30, 0], "vi": [1e60] * 3, "method": "PM"},
])
def test_degenerate_inputs_follow_metafor_without_floating_point_warnings(kw):
    """k = p under knha (df 0: p-values NA in metafor) and an exact fit (s2w = 0: se 0,
    metafor's p = 0) give metafor's values, without RuntimeWarnings; extreme scales work."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        r = fit_rma(**kw)
    if kw.get("test") == "knha":
        assert r.settings["s2w"] == 0 and r.se == 0
        assert any("Knapp-Hartung factor is 0" in w for w in r.warnings)
    else:
        assert np.isfinite(r.estimate) and np.isfinite(r.se) and r.tau2 >= 0


def test_vanishing_variances_are_rejected():
    with pytest.raises(InputError, match="1e-100"):
        fit_rma([0.1, 0.2, 0.3], [1e-300] * 3)


def test_predict_fitted_values_and_dataframe_design():
    import pandas as pd

    ds = REF["datasets"]["bcg"]
    des = REF["designs"]["bcg/ablat"]
    X = pd.DataFrame(des["X"], columns=["intrcpt", "ablat"])
    r = fit_rma(ds["yi"], ds["vi"], X)
    assert r.moderators.names == ["intrcpt", "ablat"]
    fitted = predict(r)
    np.testing.assert_allclose(fitted.pred, X.to_numpy() @ r.moderators.coef, rtol=1e-12)
    assert len(fitted.pred) == r.k
    one = predict(r, 30.0)
    assert one.pred[0] == pytest.approx(r.moderators.coef @ [1, 30.0], rel=1e-12)
    assert one.pi_lower[0] < one.ci_lower[0] < one.pred[0] < one.ci_upper[0] < one.pi_upper[0]
    with pytest.raises(InputError, match="newmods"):
        predict(r, [[1.0, 2.0]])
    # intercept-only model: predict() is the pooled estimate with its PI
    r0 = fit_rma(ds["yi"], ds["vi"])
    p0 = predict(r0)
    assert p0.pred[0] == pytest.approx(r0.estimate) and p0.pi_upper[0] == pytest.approx(
        r0.pi_upper)
    p90 = predict(r0, level=90)
    assert p90.ci_upper[0] < p0.ci_upper[0]


def test_metafor_default_stopping_is_coarse():
    """metafor's default threshold (1e-5, absolute) leaves tau² up to ~1e-4 away from the
    maximum; our default lands on the maximum that metafor finds with a tight threshold."""
    worst = 0.0
    for c in (c for c in CASES if c["control"] == "default"):
        tight = next(t for t in CASES if t["control"] != "default" and t["dataset"] ==
                     c["dataset"] and t["design"] == c["design"] and t["method"] ==
                     c["method"] and t["test"] == c["test"])
        ours = fit_case({**c, "control": "tight"})
        close(ours.tau2, tight["output"]["tau2"], RTOL_ITER, c["id"])
        worst = max(worst, abs(c["output"]["tau2"] / tight["output"]["tau2"] - 1))
    assert 1e-5 < worst < 1e-3


def test_intercept_column_is_moved_to_the_front():
    ds = REF["datasets"]["bcg"]
    X = np.array(REF["designs"]["bcg/ablat"]["X"])
    a = fit_rma(ds["yi"], ds["vi"], X, mod_names=["intrcpt", "ablat"])
    b = fit_rma(ds["yi"], ds["vi"], X[:, ::-1], mod_names=["ablat", "intrcpt"])
    assert b.moderators.names == ["intrcpt", "ablat"]
    np.testing.assert_allclose(b.moderators.coef, a.moderators.coef, rtol=1e-12)
    assert b.estimate == pytest.approx(a.estimate, rel=1e-12)
    assert b.moderators.QM == pytest.approx(a.moderators.QM, rel=1e-12)


def test_level_as_proportion_or_percent():
    ds = REF["datasets"]["bcg"]
    a = fit_rma(ds["yi"], ds["vi"], level=90)
    b = fit_rma(ds["yi"], ds["vi"], level=0.90)
    assert (a.ci_lower, a.pi_upper, a.tau2_ci_upper) == pytest.approx(
        (b.ci_lower, b.pi_upper, b.tau2_ci_upper), rel=1e-12)
    c = fit_rma(ds["yi"], ds["vi"])
    assert c.ci_lower < a.ci_lower
    with pytest.raises(InputError, match="level"):
        fit_rma(ds["yi"], ds["vi"], level=100)
