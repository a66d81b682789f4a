"""FineGray: estimator contract, input validation, edge cases and invariants.

Numbers against R are in test_finegray_reference.py; here the linear-time scan is checked
against the per-failure-time (dense) kernel, and properties that must hold for any data.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivervte.errors import ConvergenceWarning, InputError, NotFittedError
from drivervte.survival.finegray import FineGray
from drivervte.survival.finegray_dense import dense_eval
from drivervte.survival.finegray_scan import fast_kernel, prepare, sandwich_terms


def _sim(n=200, seed=0, ties=True, p=3):
    rng = np.random.default_rng(seed)
    X = np.column_stack(
        [rng.binomial(1, 0.4, n), rng.normal(60, 10, n), rng.normal(size=(n, p - 2))]
    )
    t = rng.exponential(10, n) * np.exp(-0.3 * X[:, 0])
    t = np.ceil(t) if ties else t
    s = rng.choice([0, 1, 2], n, p=[0.3, 0.4, 0.3])
    g = rng.integers(0, 2, n)
    return t, s, X, g


# ----------------------------------------------------------------- scan == dense kernel
@pytest.mark.parametrize("ties", [True, False])
@pytest.mark.parametrize("groups", [False, True])
def test_scan_equals_dense_kernel(ties, groups):
    t, s, X, g = _sim(ties=ties)
    D = prepare(t, s, X, g if groups else np.zeros_like(g))
    b = np.array([0.3, -0.01, 0.2])
    ll, U, H, S0, _ = fast_kernel(D, b)
    ll2, U2, H2, S02 = dense_eval(D, b, "kernel")
    np.testing.assert_allclose([ll, *U], [ll2, *U2], rtol=1e-12)
    np.testing.assert_allclose(H, H2, rtol=1e-11)
    np.testing.assert_allclose(S0, S02, rtol=1e-12)
    R = sandwich_terms(D, b)[0].copy()
    R2 = dense_eval(D, b, "variance")[0]
    np.testing.assert_allclose(R, R2, rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------- estimator contract
def test_not_fitted():
    with pytest.raises(NotFittedError):
        FineGray().predict_cif([[0.0]])


def test_fit_returns_self_and_result_keys():
    t, s, X, _ = _sim()
    fg = FineGray()
    assert fg.fit(time=t, status=s, X=X, covariates=["egfr", "age", "z"]) is fg
    d = fg.result_.to_dict()
    assert set(d) == {
        "n",
        "events",
        "coef",
        "se",
        "hr",
        "ci_lower",
        "ci_upper",
        "pvalue",
        "loglik",
        "loglik_null",
        "converged",
        "iterations",
        "se_model",
        "excluded",
        "warnings",
    }
    assert list(d["coef"]) == ["egfr", "age", "z"]
    assert d["events"] == int(np.sum(s == 1)) and d["n"] == 200
    b, se = d["coef"]["egfr"], d["se"]["egfr"]
    assert d["ci_lower"]["egfr"] == pytest.approx(np.exp(b - 1.959963984540054 * se))
    assert "Competing Risks Regression" in fg.result_.summary()
    assert d["loglik"] >= d["loglik_null"]


def test_dataframe_equals_arrays():
    t, s, X, g = _sim()
    df = pd.DataFrame({"t": t, "s": s, "egfr": X[:, 0], "age": X[:, 1], "z": X[:, 2], "g": g})
    a = FineGray().fit(df, time="t", status="s", covariates=["egfr", "age", "z"], cengroup="g")
    b = FineGray().fit(time=t, status=s, X=X, cengroup=g)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-13)
    np.testing.assert_allclose(a.vcov_, b.vcov_, rtol=1e-12)


def test_variance_model_option():
    t, s, X, _ = _sim()
    fg = FineGray(variance="model").fit(time=t, status=s, X=X)
    r = fg.result_
    assert r.se == r.se_model
    fs = FineGray().fit(time=t, status=s, X=X).result_
    assert fs.se != fs.se_model and fs.se_model == r.se_model


# ----------------------------------------------------------------- invariants (hypothesis)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), shift=st.floats(-50, 50), scale=st.floats(0.1, 10))
def test_invariances(seed, shift, scale):
    """Row order does not matter; shifting a covariate leaves everything but the baseline
    unchanged; scaling it by c divides its coefficient and SE by c; CIF predictions for the
    same subject are unchanged by both."""
    t, s, X, g = _sim(n=80, seed=seed)
    if np.sum(s == 1) < 3:
        return
    base = FineGray().fit(time=t, status=s, X=X, cengroup=g)
    perm = np.random.default_rng(seed).permutation(t.size)
    pm = FineGray().fit(time=t[perm], status=s[perm], X=X[perm], cengroup=g[perm])
    np.testing.assert_allclose(pm.coef_, base.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(pm.vcov_, base.vcov_, rtol=1e-7, atol=1e-12)
    X2 = X.copy()
    X2[:, 1] = X2[:, 1] * scale + shift
    tr = FineGray().fit(time=t, status=s, X=X2, cengroup=g)
    np.testing.assert_allclose(tr.coef_[1] * scale, base.coef_[1], rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(tr.coef_[[0, 2]], base.coef_[[0, 2]], rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(
        np.sqrt(tr.vcov_[1, 1]) * scale, np.sqrt(base.vcov_[1, 1]), rtol=1e-6
    )
    np.testing.assert_allclose(tr.result_.loglik, base.result_.loglik, rtol=1e-10)
    np.testing.assert_allclose(
        tr.predict_cif(X2[:3]), base.predict_cif(X[:3]), rtol=1e-7, atol=1e-12
    )


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_cif_monotone_and_bounded(seed):
    t, s, X, _ = _sim(n=60, seed=seed)
    if np.sum(s == 1) < 3:
        return
    fg = FineGray().fit(time=t, status=s, X=X)
    cif = fg.predict_cif(X[:5])
    assert np.all(np.diff(cif, axis=0) >= 0) and np.all((cif >= 0) & (cif < 1))
    at = fg.predict_cif(X[:5], times=[fg.uftime_[0] - 1, fg.uftime_[1], 1e9])
    np.testing.assert_array_equal(at[0], 0.0)
    np.testing.assert_allclose(at[1], cif[1])
    np.testing.assert_allclose(at[2], cif[-1])


# ----------------------------------------------------------------- edge cases
def test_monotone_likelihood_is_flagged():
    """No cause-1 event among egfr = 1: the coefficient diverges to -inf."""
    t, s, X, _ = _sim(n=150, seed=3)
    s = np.where((X[:, 0] == 1) & (s == 1), 2, s)
    with pytest.warns(ConvergenceWarning, match="egfr"):
        fg = FineGray().fit(time=t, status=s, X=X, covariates=["egfr", "age", "z"])
    r = fg.result_
    assert r.converged is False
    assert any("monotone likelihood" in w and "egfr" in w for w in r.warnings)


def test_no_event_of_cause():
    t, s, X, _ = _sim()
    with pytest.raises(InputError, match="no events of cause 3"):
        FineGray(cause=3).fit(time=t, status=s, X=X)
    with pytest.raises(InputError, match="no events"):
        FineGray().fit(time=t, status=np.zeros_like(s), X=X)


def test_negative_and_missing_times_name_rows():
    t, s, X, _ = _sim()
    t[[3, 7]] = -1
    with pytest.raises(InputError) as ei:
        FineGray().fit(time=t, status=s, X=X)
    assert ei.value.column == "time" and ei.value.rows == [3, 7]
    t, s, X, _ = _sim()
    X[5, 1] = np.nan
    with pytest.raises(InputError) as ei:
        FineGray().fit(time=t, status=s, X=X)
    assert ei.value.rows == [5]
    fg = FineGray().fit(time=t, status=s, X=X, missing="exclude")
    assert fg.result_.excluded == [{"row": 5, "reason": "missing value in X"}]
    assert fg.result_.n == 199


def test_constant_and_collinear_covariates():
    t, s, X, _ = _sim()
    Xc = np.column_stack((X, np.ones(t.size)))
    with pytest.raises(InputError, match="constant") as ei:
        FineGray().fit(time=t, status=s, X=Xc, covariates=["a", "b", "c", "one"])
    assert ei.value.column == "one"
    Xl = np.column_stack((X, 2 * X[:, 1] - X[:, 0]))
    with pytest.raises(InputError, match="collinear"):
        FineGray().fit(time=t, status=s, X=Xl)


def test_bad_options():
    t, s, X, _ = _sim()
    with pytest.raises(InputError):
        FineGray(ties="efron").fit(time=t, status=s, X=X)
    with pytest.raises(InputError):
        FineGray(cause=0).fit(time=t, status=s, X=X)
    with pytest.raises(InputError, match="tf"):
        FineGray().fit(time=t, status=s, X=X, cov2=X[:, :1])


def test_single_event_and_all_competing_after():
    """One cause-1 event: the fit is defined (score has a root only if x varies in the
    risk set) and the scan still equals the dense kernel."""
    t = np.array([1.0, 2, 3, 4, 5, 6, 7, 8])
    s = np.array([1, 2, 2, 0, 2, 0, 2, 0])
    X = np.array([[0.0], [1], [0], [1], [0], [1], [1], [0]])
    D = prepare(t, s, X, np.zeros(8, int))
    a = fast_kernel(D, np.array([0.4]))
    b = dense_eval(D, np.array([0.4]), "kernel")
    np.testing.assert_allclose(a[0], b[0], rtol=1e-14)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fg = FineGray().fit(time=t, status=s, X=X)
    # the only event has x = 0, the smallest value: monotone likelihood, flagged
    assert fg.result_.converged is False


# ------------------------------------------------------------ declared causes (causes=)
def _frame_with_stray_code(seed=3):
    t, s, X, _ = _sim(n=120, seed=seed)
    df = pd.DataFrame({"t": t, "vte": s, "egfr": X[:, 0], "age": X[:, 1]})
    df.loc[[5, 40], "vte"] = 3  # a typo: 3 is not a cause
    return df


def test_causes_unknown_code_names_status_column_and_rows():
    df = _frame_with_stray_code()
    with pytest.raises(InputError) as err:
        FineGray().fit(df, time="t", status="vte", covariates=["egfr"], causes=[1, 2])
    assert err.value.column == "vte" and err.value.rows == [5, 40]
    assert "unknown status codes [3]" in str(err.value)
    # array path: same check, positions in the arrays
    with pytest.raises(InputError) as err:
        FineGray().fit(time=df["t"], status=df["vte"], X=df[["egfr"]], causes=[1, 2])
    assert err.value.column == "status" and err.value.rows == [5, 40]


def test_causes_rows_are_input_rows_after_exclusions():
    df = _frame_with_stray_code()
    df.loc[[0, 1], "age"] = np.nan  # excluded first: positions must stay the table's
    with pytest.raises(InputError) as err:
        FineGray().fit(df, time="t", status="vte", covariates=["age"], missing="exclude",
                       causes=[1, 2])  # fmt: skip
    assert err.value.rows == [5, 40]
    with pytest.raises(InputError) as err:
        FineGray().fit(time=df["t"], status=df["vte"], X=df[["age"]], missing="exclude",
                       causes=[1, 2])  # fmt: skip
    assert err.value.rows == [5, 40]


def test_without_causes_a_stray_code_is_a_competing_cause():
    """Behaviour unchanged without causes=: code 3 is one more competing cause, i.e. the
    fit equals the fit with 3 recoded to the competing cause 2."""
    df = _frame_with_stray_code()
    a = FineGray().fit(df, time="t", status="vte", covariates=["egfr", "age"])
    b = FineGray().fit(df.replace({"vte": {3: 2}}), time="t", status="vte",
                       covariates=["egfr", "age"])  # fmt: skip
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.vcov_, b.vcov_)


def test_declared_cause_without_events_changes_nothing():
    t, s, X, _ = _sim(n=150, seed=8)
    a = FineGray().fit(time=t, status=s, X=X)
    b = FineGray().fit(time=t, status=s, X=X, causes=[1, 2, 5])
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.vcov_, b.vcov_)


def test_cause_must_be_declared():
    t, s, X, _ = _sim(n=80)
    with pytest.raises(InputError, match=r"cause 1 is not one of the declared causes \[2\]") as e:
        FineGray().fit(time=t, status=s, X=X, causes=[2])
    assert e.value.column == "cause"
    with pytest.raises(InputError) as e:  # the fit-time cause= is the one checked
        FineGray(cause=1).fit(time=t, status=s, X=X, cause=3, causes=[1, 2])
    assert e.value.column == "cause"
    with pytest.raises(InputError, match="censoring code"):
        FineGray().fit(time=t, status=s, X=X, causes=[0, 1])


def test_causes_with_another_censoring_code():
    """cencode=9: prepare_cohort knows only 0 as censored, so from_frame checks the codes
    itself; the fit equals the 0-coded one."""
    df = _frame_with_stray_code().replace({"vte": {3: 1}})
    df9 = df.replace({"vte": {0: 9}})
    ref = FineGray().fit(df, time="t", status="vte", covariates=["egfr"], causes=[1, 2])
    fit9 = FineGray(cencode=9).fit(df9, time="t", status="vte", covariates=["egfr"],
                                   causes=[1, 2])  # fmt: skip
    np.testing.assert_allclose(fit9.coef_, ref.coef_, rtol=1e-14)
    df9.loc[7, "vte"] = 0  # 0 is not censoring here, and not declared
    with pytest.raises(InputError, match=r"unknown status codes \[0\]; expected 9") as e:
        FineGray(cencode=9).fit(df9, time="t", status="vte", covariates=["egfr"], causes=[1, 2])
    assert e.value.rows == [7]
