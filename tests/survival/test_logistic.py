"""Logistic regression against R glm (fixture tests/reference/R/stats_glm.R), separation, Firth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import load_reference
from drivervte.errors import ConvergenceWarning, InputError, NotFittedError
from drivervte.survival.logistic import Logistic, detect_separation
from tolerances import RTOL_ITER

REF = load_reference("stats_glm")
CASES = {c["id"]: c for c in REF["cases"]}
REGULAR = [k for k in CASES if k != "separation"]


def case_arrays(case):
    ds = REF["datasets"][case["dataset"]]
    X = np.column_stack([np.asarray(ds[c], dtype=float) for c in case["covariates"]])
    return np.asarray(ds[case["outcome"]], dtype=float), X


@pytest.mark.parametrize("case_id", REGULAR)
def test_matches_glm(case_id):
    """IRLS to a 1e-12 deviance change vs glm(epsilon = 1e-14): agreement ~1e-13 observed."""
    case = CASES[case_id]
    e = case["expected"]
    y, X = case_arrays(case)
    res = Logistic().fit(outcome=y, X=X, covariates=case["covariates"]).result_
    assert res.names == e["names"]
    np.testing.assert_allclose(res.coef, e["coef"], rtol=RTOL_ITER)
    np.testing.assert_allclose(res.vcov, e["vcov"], rtol=RTOL_ITER)
    np.testing.assert_allclose(np.log(res.ci_lower), e["ci_lower"], rtol=RTOL_ITER)
    np.testing.assert_allclose(np.log(res.ci_upper), e["ci_upper"], rtol=RTOL_ITER)
    np.testing.assert_allclose(
        [res.loglik, res.loglik_null], [e["loglik"], e["loglik_null"]], rtol=1e-10
    )
    np.testing.assert_allclose(
        [res.deviance, res.null_deviance, res.aic],
        [e["deviance"], e["null_deviance"], e["aic"]],
        rtol=1e-10,
    )
    assert res.converged and not res.separation
    assert res.n == e["n"] and res.events == e["events"]
    assert res.lr_statistic == pytest.approx(e["null_deviance"] - e["deviance"], rel=1e-9)


def test_separation_flagged_where_glm_is_silent():
    case = CASES["separation"]
    assert case["warnings"] == []  # R's glm reports convergence and no warning here
    y, X = case_arrays(case)
    with pytest.warns(ConvergenceWarning, match="separation by alk"):
        res = Logistic().fit(outcome=y, X=X, covariates=case["covariates"]).result_
    assert res.separation and res.separated == ["alk"] and not res.converged
    d = res.to_dict()
    assert d["pvalue"]["alk"] is None and d["ci_lower"]["alk"] is None
    assert d["pvalue"]["age"] is not None
    json.dumps(d, allow_nan=False)


def test_no_false_separation_on_regular_data():
    for k in REGULAR:
        y, X = case_arrays(CASES[k])
        assert detect_separation(np.column_stack([np.ones(len(y)), X]), y) is None


def test_quasi_complete_separation_detected():
    # a zero cell: no events among exposed, events and non-events among unexposed
    x = np.array([1, 1, 1, 0, 0, 0, 0, 0], float)
    y = np.array([0, 0, 0, 1, 0, 1, 0, 1], float)
    assert detect_separation(np.column_stack([np.ones(8), x]), y) is not None


@pytest.mark.parametrize("a,b,c,d", [(3, 0, 2, 5), (4, 2, 1, 6), (0, 5, 3, 3), (10, 1, 7, 9)])
def test_firth_two_by_two_closed_form(a, b, c, d):
    """Firth for one binary covariate = 2x2 log OR with 1/2 added to every cell.

    (a events / b non-events among exposed, c / d among unexposed.) For the saturated model
    the hat values sum to 1 per group, so the modified score gives p = (y + 1/2)/(n + 1).
    """
    x = np.r_[np.ones(a + b), np.zeros(c + d)]
    y = np.r_[np.ones(a), np.zeros(b), np.ones(c), np.zeros(d)]
    res = Logistic(method="firth").fit(outcome=y, X=x, covariates=["exposed"]).result_
    log_or = np.log((a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5)))
    np.testing.assert_allclose(res.coef[1], log_or, rtol=1e-9)
    np.testing.assert_allclose(res.coef[0], np.log((c + 0.5) / (d + 0.5)), rtol=1e-9, atol=1e-12)
    assert res.converged and res.method == "firth"
    # Fisher variance at the estimate: 1/(n p (1-p)) summed per group
    p1, p0 = (a + 0.5) / (a + b + 1), (c + 0.5) / (c + d + 1)
    v = 1 / ((a + b) * p1 * (1 - p1)) + 1 / ((c + d) * p0 * (1 - p0))
    np.testing.assert_allclose(res.se[1] ** 2, v, rtol=1e-8)


def test_firth_under_separation_is_finite():
    y, X = case_arrays(CASES["separation"])
    res = Logistic(method="firth").fit(outcome=y, X=X, covariates=["alk", "age"]).result_
    assert np.all(np.isfinite(res.coef)) and res.separation and res.converged
    assert np.isfinite(res.pvalue).all() and res.lr_statistic > 0


def test_dataframe_path():
    df = pd.DataFrame(
        {
            "vte": [1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0],
            "gene": [
                "EGFR",
                "WT",
                "ALK",
                "ALK",
                "WT",
                "EGFR",
                "WT",
                "EGFR",
                "WT",
                "ALK",
                "WT",
                "EGFR",
            ],
            "age": [60, 55, np.nan, 70, 62, 58, 49, 66, 71, 52, 63, 57],
        }
    )
    with pytest.raises(InputError) as exc:
        Logistic().fit(df, outcome="vte", covariates=["gene", "age"])
    assert exc.value.column == "age" and exc.value.rows == [2]
    res = (
        Logistic()
        .fit(
            df,
            outcome="vte",
            covariates=["gene", "age"],
            missing="exclude",
            reference={"gene": "WT"},
        )
        .result_
    )
    assert res.names == ["(Intercept)", "gene[T.ALK]", "gene[T.EGFR]", "age"]
    assert res.n == 11 and res.excluded[0]["row"] == 2


@pytest.mark.parametrize(
    "y, X, column",
    [
        ([0, 1, 2, 1], [[1], [2], [3], [4]], "outcome"),
        ([1, 1, 1, 1], [[1], [2], [3], [4]], "outcome"),
        ([0, 1, 0, 1], [[1], [1], [1], [1]], "x1"),
        ([0, 1, 0, 1], [[1, 2], [2, 4], [3, 6], [0, 0]], "x2"),
        ([0, 1, 0, 1], [[1], [np.nan], [3], [4]], "x1"),
    ],
)
def test_input_errors(y, X, column):
    with pytest.raises(InputError) as exc:
        Logistic().fit(outcome=np.asarray(y), X=np.asarray(X, float))
    assert exc.value.column == column


def test_single_name():
    y, X = case_arrays(CASES["vte_alk"])
    res = Logistic().fit(outcome=y, X=X[:, 0], covariates="alk").result_
    assert res.names == ["(Intercept)", "alk"]


def test_not_fitted_and_bad_method():
    with pytest.raises(NotFittedError):
        Logistic().summary()
    with pytest.raises(NotFittedError):
        _ = Logistic().coef_
    with pytest.raises(InputError, match="method"):
        Logistic(method="exact").fit(outcome=np.array([0, 1]), X=np.array([0.0, 1.0]))
