"""FineGray.predict: predicted cumulative incidence with standard errors and CIs.

- ``method="survfit"`` against R ``survival::survfit.coxph`` on ``survival::finegray`` data
  (fixtures from tests/reference/R/survival_finegray_predict.R): cumulative hazard, its SE and
  the log-log limits, model-based and robust, with ties, public data and delayed entry.
- ``method="influence"`` has no R reference: its linear-time influence functions are checked
  against a direct (dense) evaluation of the same formulas, against leave-one-out (jackknife)
  differences subject by subject, and its beta part against crr's sandwich.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import load_reference
from drivervte.errors import InputError, NotFittedError
from drivervte.survival.finegray import FineGray
from drivervte.survival.finegray_predict import (
    baseline_influence,
    baseline_terms,
    influence_cross,
)
from tolerances import RTOL_ITER

REF = load_reference("survival_finegray_predict")
CASES = {c["name"]: c for c in REF["cases"]}


def _frame(case):
    df = pd.DataFrame(REF["data"][case["data"]])
    mg = case["data"] == "mgus2"
    df["entry0"] = df["entry"] if "entry" in case else 0.0
    return df, ("etime" if mg else "time"), ("event" if mg else "status")


@pytest.mark.parametrize("name", sorted(CASES))
def test_survfit_method_equals_R(name):
    case = CASES[name]
    df, time, status = _frame(case)
    # finegray's conventions (the delayed-entry path; entry 0 = no delayed entry)
    fg = FineGray(cause=case["cause"], variance="sandwich" if case["robust"] else "model",
                  tol=1e-12)
    fg.fit(df, time=time, status=status, covariates=list(case["covariates"]), entry="entry0")
    np.testing.assert_allclose(fg.coef_, case["coef"], rtol=RTOL_ITER)
    pr = fg.predict(np.array(case["profiles"]), case["times"], method="survfit")
    np.testing.assert_allclose(pr.cumhaz, np.array(case["cumhaz"]), rtol=RTOL_ITER, atol=1e-15)
    np.testing.assert_allclose(pr.se_cumhaz, np.array(case["std_err"]), rtol=RTOL_ITER,
                               atol=1e-15)
    # R gives the limits of S = 1 - F
    np.testing.assert_allclose(pr.ci_lower, 1 - np.array(case["upper"]), rtol=RTOL_ITER,
                               atol=1e-14)
    np.testing.assert_allclose(pr.ci_upper, 1 - np.array(case["lower"]), rtol=RTOL_ITER,
                               atol=1e-14)


def test_crr_fit_point_estimates_and_model_survfit_equal_R_without_ties():
    case = CASES["cont_model"]
    df, time, status = _frame(case)
    fg = FineGray(variance="model", tol=1e-12).fit(df, time=time, status=status,
                                                   covariates=list(case["covariates"]))
    pr = fg.predict(np.array(case["profiles"]), case["times"], method="survfit")
    np.testing.assert_allclose(pr.estimate, np.array(case["crr_cif"]), rtol=RTOL_ITER,
                               atol=1e-15)
    np.testing.assert_allclose(pr.se_cumhaz, np.array(case["std_err"]), rtol=RTOL_ITER,
                               atol=1e-15)


# ------------------------------------------------------------------ influence method
def _sim(n=160, seed=3, ties=False, censor=(1.0, 10.0), groups=False):
    rng = np.random.default_rng(seed)
    x1 = rng.binomial(1, 0.4, n)
    x2 = rng.normal(size=n)
    t1 = rng.exponential(1 / (0.1 * np.exp(0.5 * x1 + 0.3 * x2)))
    t2 = rng.exponential(1 / (0.15 * np.exp(-0.3 * x1)))
    tc = rng.uniform(*censor, n)
    t = np.minimum.reduce([t1, t2, tc])
    s = np.where(t == t1, 1, np.where(t == t2, 2, 0))
    if ties:
        t = np.ceil(t)
    g = rng.integers(0, 2, n) if groups else np.zeros(n, int)
    return t, s, np.column_stack([x1, x2]), g


def _dense_baseline_influence(D, e, S0, kap, psi):
    """The influence of the centred Breslow baseline by direct sums over subjects, failure
    times and censoring times (O(n d) and worse), written from the formulas."""
    n, d = D.time.size, D.uft.size
    W = np.zeros((n, d))  # w_j(t_k)
    for k in range(d):
        for j in range(n):
            if D.time[j] >= D.uft[k]:
                W[j, k] = 1.0
            elif D.ici[j] == 2:
                W[j, k] = D.Gk[D.group[j], k] / D.Gown[j]
    Phi = np.zeros((n, kap.size))
    for c, kc in enumerate(kap):
        for k in range(kc):
            fails = (D.ici == 1) & (D.time == D.uft[k])
            Phi[:, c] += (fails - W[:, k] * e * D.dk[k] / S0[k]) / S0[k]
    if not psi:
        return Phi
    for g in range(D.ncg):
        members = np.flatnonzero(D.group == g)
        cens = members[D.ici[members] == 0]
        for u in np.unique(D.time[cens]):
            Y = np.sum(D.time[members] >= u)
            cu = np.sum(D.time[cens] == u)
            comp = members[(D.ici[members] == 2) & (D.time[members] <= u)]
            q = np.zeros(kap.size)
            for c, kc in enumerate(kap):
                for k in range(kc):
                    if D.uft[k] > u:
                        q[c] += D.dk[k] / S0[k] ** 2 * np.sum(
                            D.Gk[g, k] / D.Gown[comp] * e[comp])
            for i in members:
                if D.time[i] >= u:
                    Phi[i] -= cu * q / Y**2
                if D.ici[i] == 0 and D.time[i] == u:
                    Phi[i] += q / Y
    return Phi


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("groups", [False, True])
@pytest.mark.parametrize("psi", [False, True])
def test_baseline_influence_scan_equals_dense(ties, groups, psi):
    t, s, X, g = _sim(n=70, ties=ties, groups=groups)
    fg = FineGray(tol=1e-12).fit(time=t, status=s, X=X, covariates=["x1", "x2"], cengroup=g)
    D, beta = fg._data, fg.coef_
    S0 = baseline_terms(D, beta)[0]
    e = np.exp(D.X @ beta)
    kap = np.searchsorted(D.uft, [0.5, 2.0, 4.0, 7.0, 50.0], side="right")
    fast = baseline_influence(D, e, S0, kap, psi)
    dense = _dense_baseline_influence(D, e, S0, kap, psi)
    np.testing.assert_allclose(fast, dense, rtol=1e-10, atol=1e-13)


def test_influence_of_beta_reproduces_the_crr_sandwich():
    t, s, X, g = _sim(ties=True, groups=True)
    fg = FineGray(tol=1e-12).fit(time=t, status=s, X=X, covariates=["x1", "x2"], cengroup=g)
    D, beta = fg._data, fg.coef_
    S0 = baseline_terms(D, beta)[0]
    _, _, V = influence_cross(D, beta, S0, fg.vcov_model_, np.array([3]), psi=True)
    np.testing.assert_allclose(V, fg.vcov_, rtol=1e-10)
    # the residuals kept from the fit give the same
    _, _, V2 = influence_cross(D, beta, S0, fg.vcov_model_, np.array([3]), psi=True,
                               R=fg._resid)
    np.testing.assert_allclose(V2, V, rtol=1e-12)


def test_influence_functions_match_leave_one_out_differences():
    """phi_i(t) ~ Lambda_hat(t|z) - Lambda_hat_(-i)(t|z): refitting without subject i
    re-estimates beta, the baseline and the censoring curve. With the censoring term the
    agreement is close; without it the censored subjects are off at late times."""
    n = 200
    t, s, X, _ = _sim(n=n, seed=5)
    z, times = np.array([1.0, 1.0]), np.array([2.0, 5.0, 8.0])

    def fit(idx):
        return FineGray(tol=1e-13).fit(time=t[idx], status=s[idx], X=X[idx],
                                       covariates=["x1", "x2"])

    fg = fit(np.arange(n))
    D, beta = fg._data, fg.coef_
    S0, lam, _, H = baseline_terms(D, beta)
    kap = np.searchsorted(D.uft, times, side="right")
    zc = z - D.xmean
    r = np.exp(zc @ beta)
    h = lam[kap - 1][:, None] * zc[None, :] - H[kap - 1]
    theta = fg.predict(z, times).cumhaz.ravel()
    loo = np.array([fit(np.delete(np.arange(n), i)).predict(z, times).cumhaz.ravel()
                    for i in range(n)])
    diff = theta - loo
    from drivervte.survival.finegray_scan import sandwich_terms

    rms = {}
    for psi in (True, False):
        Phi = baseline_influence(D, np.exp(D.X @ beta), S0, kap, psi)
        phib = sandwich_terms(D, beta, psi=psi)[0] @ fg.vcov_model_
        phi = np.empty((n, times.size))
        phi[D.order] = r * (Phi + phib @ h.T)
        rms[psi] = np.sqrt(np.mean((phi - diff) ** 2, axis=0)) / diff.std(axis=0)
    assert np.all(rms[True] < 0.08), rms
    assert rms[False][-1] > 1.5 * rms[True][-1], rms


# ------------------------------------------------------------------ contract and edges
@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(1)
    n = 300
    df = pd.DataFrame({
        "time": rng.exponential(10, n).round(2) + 0.01,
        "status": rng.choice([0, 1, 2], n, p=[0.4, 0.3, 0.3]),
        "egfr": rng.choice(["mut", "wt"], n),
        "age": rng.normal(64, 9, n).round(),
        "stage": rng.choice(["IIIB", "IVA", "IVB"], n),
    })
    fg = FineGray().fit(df, time="time", status="status",
                        covariates=["egfr", "age", "stage"], reference={"stage": "IIIB"})
    return fg, df


def test_profiles_by_level_by_dummy_and_by_array_agree(fitted):
    fg, _ = fitted
    assert fg.names_ == ["egfr", "age", "stage[T.IVA]", "stage[T.IVB]"]
    a = fg.predict({"egfr": 1, "age": 70, "stage": "IVB"}, [6, 12])
    b = fg.predict({"egfr": 1, "age": 70, "stage[T.IVA]": 0, "stage[T.IVB]": 1}, [6, 12])
    c = fg.predict([[1, 70, 0, 1]], [6, 12])
    ref = fg.predict({"egfr": 1, "age": 70, "stage": "IIIB"}, [6, 12])
    np.testing.assert_array_equal(a.estimate, b.estimate)
    np.testing.assert_array_equal(a.se, c.se)
    assert ref.values[0]["stage[T.IVB]"] == 0.0 and ref.values[0]["stage[T.IVA]"] == 0.0
    np.testing.assert_allclose(a.estimate, fg.predict_cif([[1, 70, 0, 1]], times=[6, 12]))


def test_limits_bracket_the_estimate_and_start_at_zero(fitted):
    fg, _ = fitted
    times = [0.0, 1, 3, 6, 12, 24, 1e6]
    for method in ("influence", "survfit"):
        pr = fg.predict([{"egfr": 0, "age": 60, "stage": "IVA"},
                         {"egfr": 1, "age": 75, "stage": "IVB"}], times, method=method)
        assert np.all(pr.ci_lower <= pr.estimate) and np.all(pr.estimate <= pr.ci_upper)
        assert np.all((pr.ci_lower >= 0) & (pr.ci_upper <= 1))
        assert np.all(np.diff(pr.estimate, axis=0) >= 0)
        first = fg.uftime_[0]
        if first > 0:
            assert np.all(pr.estimate[0] == 0) and np.all(pr.se[0] == 0)
        assert np.all(pr.se[1:] > 0)


def test_level_widens_interval(fitted):
    fg, _ = fitted
    p = {"egfr": 1, "age": 64, "stage": "IVA"}
    a, b = fg.predict(p, [12], level=0.9), fg.predict(p, [12], level=0.99)
    assert b.ci_lower[0, 0] < a.ci_lower[0, 0] and b.ci_upper[0, 0] > a.ci_upper[0, 0]


def test_to_dict_keys_and_summary(fitted):
    fg, _ = fitted
    pr = fg.predict({"egfr": 1, "age": 64, "stage": "IVA"}, [6, 12, 24])
    d = pr.to_dict()
    assert set(d) == {"cause", "times", "level", "method", "profiles", "notes"}
    assert set(d["profiles"][0]) == {"values", "cif", "se", "ci_lower", "ci_upper",
                                     "cumhaz", "se_cumhaz"}
    assert d["times"] == [6.0, 12.0, 24.0] and len(d["profiles"][0]["cif"]) == 3
    text = pr.summary()
    assert "not a medical device" in text and "95% CI" in text


@pytest.mark.parametrize(
    ("profile", "column"),
    [
        ({"egfr": 1, "age": 64}, "stage[T.IVA]"),
        ({"egfr": 1, "age": 64, "stage": "IVC"}, "stage"),
        ({"egfr": 1, "age": "old", "stage": "IVA"}, "age"),
        ({"egfr": 1, "age": 64, "stage": "IVA", "kras": 1}, "kras"),
        ({"egfr": 1, "age": float("nan"), "stage": "IVA"}, "age"),
    ],
)
def test_bad_profiles_name_the_column(fitted, profile, column):
    fg, _ = fitted
    with pytest.raises(InputError) as e:
        fg.predict(profile, [12])
    assert e.value.column == column


def test_bad_arguments(fitted):
    fg, _ = fitted
    p = {"egfr": 1, "age": 64, "stage": "IVA"}
    with pytest.raises(InputError):
        fg.predict(p, [np.nan])
    with pytest.raises(InputError):
        fg.predict(p, [12], method="bootstrap")
    with pytest.raises(InputError):
        fg.predict(p, [12], level=95)
    with pytest.raises(InputError):
        fg.predict([[1.0, 2.0]], [12])
    with pytest.raises(NotFittedError):
        FineGray().predict(p, [12])


def test_cov2_fit_has_point_predictions_only():
    t, s, X, _ = _sim()
    fg = FineGray().fit(time=t, status=s, X=X, covariates=["x1", "x2"], cov2=X[:, :1],
                        tf=lambda u: np.log(u).reshape(-1, 1))
    with pytest.raises(InputError, match="cov2"):
        fg.predict([[0.0, 0.0]], [5])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(25, 80), ties=st.booleans())
def test_property_interval_contains_estimate_and_variances_are_finite(seed, n, ties):
    t, s, X, _ = _sim(n=n, seed=seed, ties=ties)
    if not np.any(s == 1) or np.ptp(X[s >= 0, 0]) == 0:
        return
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fg = FineGray().fit(time=t, status=s, X=X, covariates=["x1", "x2"])
    if not fg.converged_:
        return
    pr = fg.predict([[0.0, 0.0], [1.0, 1.5]], np.quantile(t, [0.1, 0.5, 0.9]))
    assert np.all(np.isfinite(pr.se_cumhaz))
    assert np.all(pr.ci_lower <= pr.estimate + 1e-15)
    assert np.all(pr.estimate <= pr.ci_upper + 1e-15)


def test_notes_for_extrapolation_and_negative_times(fitted):
    fg, df = fitted
    p = {"egfr": 1, "age": 64, "stage": "IVA"}
    last = df["time"].max()
    pr = fg.predict(p, [12, last + 10])
    assert any("beyond the last follow-up" in n for n in pr.notes)
    np.testing.assert_allclose(pr.estimate[1], fg.predict(p, [last]).estimate[0])
    assert not any("beyond" in n for n in fg.predict(p, [12]).notes)
    with pytest.raises(InputError, match=">= 0"):
        fg.predict(p, [-1.0])


def test_unconverged_fit_warns_and_says_so():
    from drivervte.errors import ConvergenceWarning

    rng = np.random.default_rng(1)
    n = 200
    x = rng.integers(0, 2, n)
    s = rng.integers(0, 3, n)
    s[(x == 1) & (s == 1)] = 2  # no event of the cause with x = 1: separation
    t = rng.exponential(10, n)
    with pytest.warns(ConvergenceWarning):
        fg = FineGray().fit(time=t, status=s, X=x[:, None], covariates=["x"])
    assert not fg.converged_
    with pytest.warns(ConvergenceWarning, match="not reliable"):
        pr = fg.predict([[0.0]], [5.0])
    assert any("did not converge" in n for n in pr.notes)


def test_fit_and_predict_from_polars_duckdb_and_a_path(fitted, tmp_path):
    """The table may be a polars DataFrame, a DuckDB relation or a file path (read by
    read_table): the same fit, and profiles by level still work."""
    duckdb = pytest.importorskip("duckdb")
    pl = pytest.importorskip("polars")
    fg, df = fitted
    path = tmp_path / "c.parquet"
    df.to_parquet(path)
    p = {"egfr": "mut", "age": 64, "stage": "IVB"}
    ref = fg.predict(p, [6, 12])
    for data in (pl.from_pandas(df), duckdb.connect().from_df(df), str(path)):
        other = FineGray().fit(data, time="time", status="status",
                               covariates=["egfr", "age", "stage"], reference={"stage": "IIIB"})
        np.testing.assert_allclose(other.coef_, fg.coef_, rtol=1e-12)
        np.testing.assert_allclose(other.predict(p, [6, 12]).se, ref.se, rtol=1e-12)


def test_flag_words_in_profiles(fitted):
    fg, _ = fitted
    assert fg.flags_ == {"egfr"}
    p = {"age": 64, "stage": "IVB"}
    a, b = fg.predict({**p, "egfr": "MUT "}, [6]), fg.predict({**p, "egfr": 1}, [6])
    np.testing.assert_array_equal(a.se, b.se)
    assert fg.predict({**p, "egfr": "wt"}, [6]).values[0]["egfr"] == 0.0
    with pytest.raises(InputError) as e:
        fg.predict({**p, "egfr": "maybe"}, [6])
    assert e.value.column == "egfr"
    with pytest.raises(InputError):  # words only for flag columns
        fg.predict({"egfr": 1, "age": "old", "stage": "IVB"}, [6])
