"""subgroup_analysis against the metafor recipe (separate models, then an EE model of the
subgroup estimates; common-tau² meta-regression), fixtures from metafor_rma.R."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from conftest import load_reference
from drivervte.errors import InputError
from drivervte.meta.subgroup import subgroup_analysis
from tolerances import RTOL_ITER

REF = load_reference("metafor_rma")
SG = REF["subgroups"]


@pytest.mark.parametrize("case", SG, ids=[f"{c['dataset']}-{c['variable']}-{c['method']}"
                                          for c in SG])
def test_subgroups_against_metafor(case):
    ds = REF["datasets"][case["dataset"]]
    res = subgroup_analysis(ds["yi"], ds["vi"], case["groups_in"], method=case["method"])
    assert list(res.fits) == sorted(case["groups"])
    for lev, ref in case["groups"].items():
        r = res.fits[lev]
        assert r.k == ref["k"]
        np.testing.assert_allclose(
            [r.estimate, r.se, r.ci_lower, r.ci_upper, r.tau2, r.I2],
            [ref["estimate"], ref["se"], ref["ci_lb"], ref["ci_ub"], ref["tau2"], ref["I2"]],
            rtol=RTOL_ITER, atol=1e-8, err_msg=lev)
    np.testing.assert_allclose([res.Q_between, res.Q_between_pvalue],
                               [case["Q_between"], case["Q_between_pvalue"]], rtol=RTOL_ITER)
    assert res.Q_between_df == case["Q_between_df"]
    ct = case["common_tau2"]
    np.testing.assert_allclose(
        [res.common_tau2["QM"], res.common_tau2["QM_pvalue"], res.common_tau2["tau2"]],
        [ct["QM"], ct["QMp"], ct["tau2"]], rtol=RTOL_ITER)
    assert res.common_tau2["QM_df"] == ct["QMdf"][0]


def test_to_dict_keys_and_json():
    ds = REF["datasets"]["bcg"]
    case = SG[0]
    d = subgroup_analysis(ds["yi"], ds["vi"], case["groups_in"]).to_dict()
    json.dumps(d, allow_nan=False)
    assert {"groups", "Q_between", "Q_between_df", "Q_between_pvalue"} <= set(d)
    assert set(d["groups"]["random"]) >= {"k", "estimate", "ci_lower", "ci_upper", "tau2",
                                          "I2"}


def test_singleton_group_works_with_a_note():
    yi = [0.1, 0.3, 0.2, 0.9]
    vi = [0.05, 0.04, 0.06, 0.05]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the k = 1 warning is turned into a note
        res = subgroup_analysis(yi, vi, ["a", "a", "a", "b"], common_tau2=False)
    assert res.fits["b"].k == 1 and res.fits["b"].estimate == pytest.approx(0.9, rel=1e-14)
    assert res.fits["b"].se == pytest.approx(np.sqrt(0.05))
    assert any("single study" in n for n in res.notes)
    assert np.isfinite(res.Q_between) and res.Q_between_df == 1
    assert "subgroup differences" in res.summary()


def test_one_group_has_no_test():
    res = subgroup_analysis([0.1, 0.2, 0.3], [0.1] * 3, ["x"] * 3)
    assert np.isnan(res.Q_between) and res.to_dict()["Q_between"] is None
    assert any("only one subgroup" in n for n in res.notes)


def test_missing_group_names_the_row():
    with pytest.raises(InputError) as ei:
        subgroup_analysis([0.1, 0.2, 0.3], [0.1] * 3, ["a", None, "b"])
    assert ei.value.rows == [1] and ei.value.column == "groups"


def test_identical_subgroups_give_q_between_zero():
    yi = [0.1, 0.4, 0.1, 0.4]
    res = subgroup_analysis(yi, [0.1] * 4, ["a", "a", "b", "b"], method="DL")
    assert res.Q_between == pytest.approx(0, abs=1e-12) and res.Q_between_pvalue == 1


def test_relabelling_and_reordering_do_not_change_the_test():
    ds = REF["datasets"]["bcg"]
    case = SG[0]
    a = subgroup_analysis(ds["yi"], ds["vi"], case["groups_in"])
    perm = np.arange(len(ds["yi"]))[::-1]
    relabel = {"random": "z", "alternate": "a", "systematic": "m"}
    b = subgroup_analysis(np.array(ds["yi"])[perm], np.array(ds["vi"])[perm],
                          [relabel[case["groups_in"][i]] for i in perm])
    assert b.Q_between == pytest.approx(a.Q_between, rel=1e-9)
    assert b.common_tau2["QM"] == pytest.approx(a.common_tau2["QM"], rel=1e-9)
    assert b.fits["z"].estimate == pytest.approx(a.fits["random"].estimate, rel=1e-9)
