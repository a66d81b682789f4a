"""Tests of drivervte.meta.influence: leave-one-out, cumulative, influence diagnostics.

Reference numbers: metafor 3.8 ``leave1out``, ``cumul``, ``influence``, ``rstandard``
(tests/reference/R/metafor_bias.R); tolerances are explained in ``_bias_ref``.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from _bias_ref import (
    DATASETS,
    assert_close,
    atol_for,
    case_id,
    cases,
    fit_case,
    fit_counts_case,
    rtol_for,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from drivervte.errors import InputError
from drivervte.meta.influence import cumulative, influence, leave_one_out
from drivervte.meta.rma import fit_rma

SERIES_KEYS = ["estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper", "Q",
               "Q_pvalue", "tau2", "I2", "H2"]
INF_KEYS = ["rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "QE_del", "hat", "weight",
            "rstandard", "rstandard_resid", "rstandard_se"]


def _check_series(ours, ref, case, labels=True):
    if labels:
        assert ours.study == ref["study"]
    else:  # MH tables without an effect size have no label in the model: row numbers
        assert ours.study == [f"row {i + 1}" for i in range(len(ref["study"]))]
    for key in SERIES_KEYS:
        if ref.get(key) is None:  # metafor drops tau2 for EE/MH/Peto models
            assert np.allclose(ours.tau2, 0.0)
            continue
        assert_close(getattr(ours, key), ref[key], rtol=rtol_for(case), atol=atol_for(key),
                     what=f"{case['id']} {key}")


# ------------------------------------------------------------------ reference: rma.uni
@pytest.mark.parametrize("case", cases("rma.uni", "leave1out"), ids=case_id)
def test_leave_one_out_matches_metafor(case):
    res = fit_case(case)
    out = leave_one_out(res)
    _check_series(out, case["leave1out"], case)
    assert out.converged.all()


@pytest.mark.parametrize("case", cases("rma.uni"), ids=case_id)
def test_cumulative_matches_metafor(case):
    res = fit_case(case)
    _check_series(cumulative(res), case["cumul"], case)


@pytest.mark.parametrize("case", cases("rma.uni", "cumul_key"), ids=case_id)
def test_cumulative_by_key_matches_metafor(case):
    """Order by a sort key with ties (publication year): R's order() is stable."""
    res = fit_case(case)
    key = case["cumul_key"]["order"]
    assert len(set(key)) < len(key), "the fixture should exercise tied keys"
    _check_series(cumulative(res, order=key), case["cumul_key"], case)


@pytest.mark.parametrize("case", cases("rma.uni", "influence"), ids=case_id)
def test_influence_matches_metafor(case):
    res = fit_case(case)
    inf = influence(res)
    ref = case["influence"]
    for key in INF_KEYS:
        assert_close(getattr(inf, key), ref[key], rtol=rtol_for(case), atol=atol_for(key),
                     what=f"{case['id']} {key}")
    assert_close(inf.dfbetas[:, 0], ref["dfbetas"], rtol=rtol_for(case),
                 what=f"{case['id']} dfbetas")
    assert inf.inf.tolist() == ref["inf"]


@pytest.mark.parametrize("case", cases("rma.uni.mods"), ids=case_id)
def test_influence_meta_regression_matches_metafor(case):
    d = DATASETS[case["dataset"]]
    X = np.column_stack([np.ones(len(d["yi"])), d["ablat"]])
    res = fit_case(case, X=X)
    assert_close(res.beta, case["fit"]["beta"], rtol=1e-6, what="beta")
    inf = influence(res)
    ref = case["influence"]
    for key in INF_KEYS:
        assert_close(getattr(inf, key), ref[key], rtol=1e-6, atol=atol_for(key),
                     what=f"{case['id']} {key}")
    for j, name in enumerate(ref["dfbetas"]):
        assert_close(inf.dfbetas[:, j], ref["dfbetas"][name], rtol=1e-6, what=name)
    assert inf.inf.tolist() == ref["inf"]
    assert inf.p == 2


def test_fixture_covers_flagged_studies():
    """Guard: the influence fixtures include studies that metafor flags as influential."""
    flagged = sum(sum(c["influence"]["inf"]) for c in cases("rma.uni", "influence"))
    assert flagged >= 5


# ------------------------------------------------------------------ reference: MH / Peto
@pytest.mark.parametrize("case", cases("rma.mh") + cases("rma.peto"), ids=case_id)
def test_leave_one_out_mh_peto_matches_metafor(case):
    res = fit_counts_case(case)
    out = leave_one_out(res)
    _check_series(out, case["leave1out"], case, labels=case["dataset"] != "doublezero")
    assert out.converged.all()


@pytest.mark.parametrize("case", cases("rma.mh")[:1], ids=case_id)
def test_cumulative_mh_last_row_is_full_model(case):
    res = fit_counts_case(case)
    cu = cumulative(res)
    assert cu.estimate[-1] == pytest.approx(res.estimate, rel=1e-12)
    assert cu.se[-1] == pytest.approx(res.se, rel=1e-12)


def test_mh_peto_have_no_influence_diagnostics():
    res = fit_counts_case(cases("rma.mh")[0])
    with pytest.raises(InputError, match="rma"):
        influence(res)


# ------------------------------------------------------------------ behaviour and edges
def _bcg(method="REML", **kw):
    d = DATASETS["bcg"]
    return fit_rma(d["yi"], d["vi"], method=method, study=d["study"], **kw)


def test_to_dict_is_a_list_of_rows_with_stable_keys():
    out = leave_one_out(_bcg())
    rows = out.to_dict()
    assert isinstance(rows, list) and len(rows) == 13
    assert list(rows[0]) == ["study", "estimate", "se", "statistic", "df", "pvalue",
                             "ci_lower", "ci_upper", "Q", "Q_pvalue", "tau2", "I2", "H2",
                             "converged", "note"]
    assert rows[0]["df"] is None  # z-test
    json.dumps(rows)
    assert "Aronson" in out.summary()


def test_knha_rows_report_t_degrees_of_freedom():
    out = leave_one_out(_bcg(test="knha"))
    assert np.all(out.df == 13 - 2)


def test_cumulative_first_row_is_the_single_study():
    d = DATASETS["bcg"]
    cu = cumulative(_bcg(test="knha"))
    assert cu.estimate[0] == pytest.approx(d["yi"][0])
    assert cu.se[0] == pytest.approx(np.sqrt(d["vi"][0]))
    assert cu.tau2[0] == 0 and np.isnan(cu.df[0])  # k = 1: z-test, as metafor
    assert "k = 1" in cu.notes[0]


def test_cumulative_positions_equal_key_order():
    res = _bcg()
    year = DATASETS["bcg"]["year"]
    by_key = cumulative(res, order=year)
    by_pos = cumulative(res, positions=by_key.positions)
    np.testing.assert_array_equal(by_key.estimate, by_pos.estimate)
    rev = cumulative(res, order=year, decreasing=True)
    assert rev.study[0] == DATASETS["bcg"]["study"][int(np.argmax(year))]


def test_cumulative_rejects_bad_order():
    res = _bcg()
    with pytest.raises(InputError, match="one sort key per study"):
        cumulative(res, order=[1, 2, 3])
    with pytest.raises(InputError, match="missing") as exc:
        cumulative(res, order=[np.nan, *range(12)])
    assert exc.value.rows == [0]
    with pytest.raises(InputError, match="permutation"):
        cumulative(res, positions=[0] * 13)


def test_k1_and_moderators_are_rejected():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = fit_rma([0.1], [0.2], method="EE")
    with pytest.raises(InputError, match="at least 2"):
        leave_one_out(one)
    with pytest.raises(InputError, match="at least 2"):
        influence(one)
    d = DATASETS["bcg"]
    X = np.column_stack([np.ones(13), d["ablat"]])
    mods = fit_rma(d["yi"], d["vi"], X)
    with pytest.raises(InputError, match="moderators"):
        leave_one_out(mods)
    with pytest.raises(InputError, match="moderators"):
        cumulative(mods)


def test_k2_leave_one_out_gives_single_study_fits():
    d = DATASETS["bcg"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_rma(d["yi"][:2], d["vi"][:2], method="REML")
    out = leave_one_out(res)
    np.testing.assert_allclose(out.estimate, d["yi"][1::-1][:2])
    assert out.converged.all() and all("k = 1" in n for n in out.notes)


def test_failed_refit_gives_nan_row_with_reason():
    """Deleting the only study with a distinct moderator value makes X rank-deficient:
    metafor gives NA; drivervte gives NaN with the reason and warns."""
    yi = np.array([0.1, 0.3, 0.2, 0.5, 0.4])
    vi = np.array([0.1, 0.2, 0.1, 0.3, 0.2])
    X = np.column_stack([np.ones(5), [0, 0, 0, 0, 1.0]])
    res = fit_rma(yi, vi, X, method="EE")
    with pytest.warns(UserWarning, match="row"):
        inf = influence(res)
    assert np.isnan(inf.cook_d[4]) and inf.notes[4]
    assert np.isfinite(inf.cook_d[:4]).all()
    assert inf.hat[4] == pytest.approx(1.0)  # metafor rounds h > 1 - 10 eps to 1


# ------------------------------------------------------------------ properties
effects = st.lists(st.floats(-2, 2, allow_nan=False), min_size=3, max_size=12)


@settings(max_examples=25, deadline=None)
@given(effects, st.data(), st.sampled_from(["EE", "DL"]))
def test_leave_one_out_rows_are_independent_refits(yi, data, method):
    k = len(yi)
    vi = data.draw(st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k))
    res = fit_rma(yi, vi, method=method)
    out = leave_one_out(res)
    assert len(out.study) == k == len(out.to_dict())
    i = data.draw(st.integers(0, k - 1))
    keep = np.arange(k) != i
    ref = fit_rma(np.asarray(yi)[keep], np.asarray(vi)[keep], method=method)
    assert out.estimate[i] == pytest.approx(ref.estimate, rel=1e-12, abs=1e-14)
    assert out.tau2[i] == pytest.approx(ref.tau2, rel=1e-12, abs=1e-14)


@settings(max_examples=25, deadline=None)
@given(effects, st.data())
def test_influence_invariants(yi, data):
    k = len(yi)
    vi = data.draw(st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k))
    res = fit_rma(yi, vi, method="DL")
    inf = influence(res)
    assert inf.hat.sum() == pytest.approx(1.0, rel=1e-9)  # trace of the hat matrix = p
    assert inf.weight.sum() == pytest.approx(100.0, rel=1e-12)
    assert np.all(inf.cook_d >= 0) and np.all(inf.cov_r > 0)
    # intercept-only: dfbetas and dffits carry the same sign (both b - b_(i))
    both = np.abs(inf.dffits) > 1e-8
    assert np.all(np.sign(inf.dffits[both]) == np.sign(inf.dfbetas[both, 0]))
    cu = cumulative(res)
    assert cu.estimate[-1] == pytest.approx(res.estimate, rel=1e-12, abs=1e-14)
    assert json.dumps(inf.to_dict())


def test_refits_keep_a_fixed_tau2():
    """metafor passes tau2 = x$tau2 to refits when tau² was fixed; so does drivervte."""
    res = _bcg(tau2=0.1)
    assert np.all(leave_one_out(res).tau2 == 0.1)
    assert np.all(cumulative(res).tau2[1:] == 0.1)
    assert np.all(influence(res).tau2_del == 0.1)


def test_knha_exact_fit_is_an_input_error():
    res = fit_rma([0.2] * 5, [0.1, 0.2, 0.3, 0.1, 0.2], method="EE", test="knha")
    with pytest.raises(InputError, match="Knapp-Hartung factor is 0"):
        influence(res)
