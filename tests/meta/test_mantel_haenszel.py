"""rma_mh against metafor::rma.mh (fixture metafor_mh_peto.json), plus behaviour tests."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import load_reference
from drivervte.errors import InputError
from drivervte.meta.mantel_haenszel import rma_mh
from tolerances import RTOL_EXACT

ALL = load_reference("metafor_mh_peto")["cases"]
CASES = [c for c in ALL if c["call"].startswith("rma.mh")]


def rvec(values) -> np.ndarray:
    """R values from JSON (jsonlite writes NA as "NA") as floats."""
    if isinstance(values, np.ndarray):
        return values.astype(float)
    if not isinstance(values, list):
        values = [values]
    return np.array([np.nan if (v is None or isinstance(v, str)) else v for v in values],
                    dtype=float)


def same(ours, theirs, name):
    """Equal to R within RTOL_EXACT (closed-form estimator); NaN where R has NA."""
    np.testing.assert_allclose(np.atleast_1d(np.asarray(ours, float)), rvec(theirs),
                               rtol=RTOL_EXACT, atol=1e-13, equal_nan=True, err_msg=name)


def fit(fun, case, **extra):
    inp, opt = case["input"], dict(case["options"])
    opt.pop("measure", None) if fun.__name__ == "rma_peto" else None
    return fun(rvec(inp["ai"]), ci=rvec(inp["ci"]), n1i=rvec(inp["n1i"]),
               n2i=rvec(inp["n2i"]), **opt, **extra)


def check_common(res, out):
    same(res.estimate, out["beta"], "beta")
    same(res.se, out["se"], "se")
    same(res.statistic, out["zval"], "zval")
    same(res.pvalue, out["pval"], "pval")
    same(res.ci_lower, out["ci_lb"], "ci.lb")
    same(res.ci_upper, out["ci_ub"], "ci.ub")
    same(res.Q, out["QE"], "QE")
    same(res.Q_pvalue, out["QEp"], "QEp")
    same(res.I2, out["I2"], "I2")
    same(res.H2, out["H2"], "H2")
    assert res.k == out["k"]
    assert res.Q_df == max(out["k_yi"] - 1, 0)
    sel = np.atleast_1d(np.array(out["not_na_yivi"], dtype=bool))
    same(res.yi, rvec(out["yi"])[sel], "yi")
    same(res.vi, rvec(out["vi"])[sel], "vi")
    same(res.weights, rvec(out["weights"])[sel], "weights")
    json.dumps(res.to_dict(), allow_nan=False)


def test_grid_is_complete():
    # 5 data sets x (OR: 5 option sets, RR and RD: 4 each)
    assert len(CASES) == 5 * 13


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_rma_mh_matches_metafor(case):
    out = case["output"]
    res = fit(rma_mh, case)
    check_common(res, out)
    if case["options"]["measure"] == "OR":
        t = res.mh_tests
        for ours, r in [("cmh", "MH"), ("cmh_pvalue", "MHp"), ("cochran", "CO"),
                        ("cochran_pvalue", "COp"), ("breslow_day", "BD"),
                        ("breslow_day_pvalue", "BDp"), ("tarone", "TA"),
                        ("tarone_pvalue", "TAp")]:
            same(np.nan if t[ours] is None else t[ours], out[r], r)
        assert t["k_pos"] == out["k_pos"]


def test_undefined_or_is_nan_with_a_warning():
    res = rma_mh([0, 0], [20, 30], [2, 3], [20, 27])
    assert np.isnan(res.estimate)
    assert any("undefined" in w for w in res.warnings)
    d = res.to_dict()
    assert d["estimate"] is None and d["transformed"]["estimate"] is None


def test_double_zero_study_noted_and_kept_out_of_q():
    res = rma_mh([0, 2, 3], [10, 8, 7], [0, 4, 6], [12, 6, 4], study=["DZ", "A", "B"])
    assert res.k == 3 and res.study == ["A", "B"] and res.Q_df == 1
    assert res.settings["count_study"] == ["DZ", "A", "B"]
    assert res.counts["ai"].tolist() == [0, 2, 3]  # raw counts of every pooled table
    assert any("DZ" in w for w in res.warnings)


def test_missing_counts_excluded_with_reason():
    res = rma_mh([1, np.nan, 3], [10, 8, 7], [2, 4, 6], [12, 6, 4])
    assert res.k == 2
    assert res.excluded == [{"row": 1, "study": "Study 2", "reason": "missing value in ai"}]


def test_errors_name_the_column():
    with pytest.raises(InputError) as ei:
        rma_mh([1, -2], [10, 8], [2, 4], [12, 6])
    assert ei.value.column == "ai" and ei.value.rows == [1]
    with pytest.raises(InputError, match="'OR', 'RR' or 'RD'"):
        rma_mh([1], [10], [2], [12], measure="PLO")
    with pytest.raises(InputError, match="differ in length"):
        rma_mh([1, 2], [10], [2, 3], [12, 3])
    with pytest.raises(InputError, match="one value or a pair"):
        rma_mh([1], [10], [2], [12], add=(0.5, 0.5, 0.5))


def test_summary_and_transformed():
    res = rma_mh([4, 6, 3], [119, 300, 228], [11, 29, 11], [128, 274, 209])
    assert res.transformed["scale"] == "OR"
    assert res.transformed["estimate"] == pytest.approx(np.exp(res.estimate))
    s = res.summary()
    assert "Cochran-Mantel-Haenszel" in s and "MH meta-analysis" in s


tables = st.lists(st.tuples(*[st.integers(0, 60)] * 4), min_size=2, max_size=8)


@settings(max_examples=60, deadline=None)
@given(tables, st.sampled_from(["OR", "RR", "RD"]))
def test_swapping_groups_negates_the_mh_estimate_and_order_does_not_matter(rows, measure):
    a, b, c, d = (np.array(col, float) for col in zip(*rows, strict=True))
    if (a + b == 0).any() or (c + d == 0).any():
        return  # an empty group; validated elsewhere
    try:
        fwd = rma_mh(a, b, c, d, measure=measure)
    except InputError:
        return  # nothing to pool (all double-zero)
    rev = rma_mh(c, d, a, b, measure=measure)
    perm = rma_mh(a[::-1], b[::-1], c[::-1], d[::-1], measure=measure)
    if np.isfinite(fwd.estimate) and np.isfinite(rev.estimate):
        assert rev.estimate == pytest.approx(-fwd.estimate, rel=1e-9, abs=1e-12)
        assert rev.se == pytest.approx(fwd.se, rel=1e-9)
    assert perm.estimate == pytest.approx(fwd.estimate, rel=1e-9, abs=1e-12, nan_ok=True)
    assert perm.Q == pytest.approx(fwd.Q, rel=1e-9, abs=1e-9, nan_ok=True)
