"""CoxPH estimator: hand-checked fits, invariances, competing causes, inputs, DataFrame path."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from drivervte.errors import InputError, NotFittedError
from drivervte.survival.cox import CoxPH

TINY_T = np.array([1, 1, 6, 6, 8, 9.0])
TINY_S = np.array([1, 0, 1, 1, 0, 1])
TINY_X = np.array([[1], [1], [1], [0], [0], [0.0]])


def sim(n=300, seed=0, ties=True):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.binomial(1, 0.4, n), rng.normal(size=n)])
    t = rng.exponential(1 / np.exp(X @ [0.5, -0.3]))
    c = rng.exponential(1.5, n)
    time = np.ceil(np.minimum(t, c) * 4) if ties else np.minimum(t, c)
    status = np.where(t <= c, rng.choice([1, 2], n, p=[0.7, 0.3]), 0)
    return time, status, X


def test_tiny_breslow_closed_form():
    """U(r) = 2 - r/(r+1) - 2r/(r+3) = 0  <=>  r^2 - 3r - 6 = 0, r = (3 + sqrt 33)/2."""
    res = CoxPH(ties="breslow", tol=1e-12).fit(time=TINY_T, status=TINY_S, X=TINY_X).result_
    r = (3 + np.sqrt(33)) / 2
    np.testing.assert_allclose(res.coef, [np.log(r)], rtol=1e-12)
    info = r / (r + 1) ** 2 + 2 * 3 * r / (r + 3) ** 2
    np.testing.assert_allclose(res.vcov, [[1 / info]], rtol=1e-10)
    np.testing.assert_allclose(
        res.loglik, 2 * np.log(r) - np.log(3 * r + 3) - 2 * np.log(r + 3), rtol=1e-12
    )


def test_tiny_efron_closed_form():
    """Efron: U(r) = 2 - r/(r+1) - r/(r+3) - r/(r+5) (the survival validation vignette)."""
    res = CoxPH(ties="efron", tol=1e-12).fit(time=TINY_T, status=TINY_S, X=TINY_X).result_
    r = optimize.brentq(lambda r: 2 - r / (r + 1) - r / (r + 3) - r / (r + 5), 1, 20, xtol=1e-15)
    np.testing.assert_allclose(res.coef, [np.log(r)], rtol=1e-10)
    info = r / (r + 1) ** 2 + 3 * r / (r + 3) ** 2 + 5 * r / (r + 5) ** 2
    np.testing.assert_allclose(res.vcov, [[1 / info]], rtol=1e-8)


def test_competing_causes_are_censored():
    time, status, X = sim()
    a = CoxPH().fit(time=time, status=status, X=X, cause=1).result_
    b = CoxPH().fit(time=time, status=np.where(status == 1, 1, 0), X=X).result_
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12)
    assert a.events == int(np.sum(status == 1))
    c = CoxPH().fit(time=time, status=status, X=X, cause=2).result_
    d = CoxPH().fit(time=time, status=(status == 2).astype(int), X=X).result_
    np.testing.assert_allclose(c.coef, d.coef, rtol=1e-12)
    assert c.cause == 2


def test_invariances():
    time, status, X = sim(seed=1)
    base = CoxPH().fit(time=time, status=status, X=X).result_
    perm = np.random.default_rng(5).permutation(len(time))
    p = CoxPH().fit(time=time[perm], status=status[perm], X=X[perm]).result_
    np.testing.assert_allclose(p.coef, base.coef, rtol=1e-10)
    np.testing.assert_allclose(p.vcov, base.vcov, rtol=1e-8)
    # monotone transform of time, shift of covariates: same fit
    s = CoxPH().fit(time=np.log1p(time) * 3, status=status, X=X + np.array([10.0, -100.0])).result_
    np.testing.assert_allclose(s.coef, base.coef, rtol=1e-10)
    np.testing.assert_allclose(s.loglik, base.loglik, rtol=1e-12)


def test_integer_weights_equal_duplicated_rows():
    """Exact for Breslow; Efron is not (duplicated events become extra ties, as in coxph)."""
    time, status, X = sim(n=120, seed=2)
    w = np.random.default_rng(3).integers(1, 4, len(time))
    a = CoxPH(ties="breslow").fit(time=time, status=status, X=X, weights=w).result_
    rep = np.repeat(np.arange(len(time)), w)
    b = CoxPH(ties="breslow").fit(time=time[rep], status=status[rep], X=X[rep]).result_
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-10)
    np.testing.assert_allclose(a.vcov, b.vcov, rtol=1e-8)
    np.testing.assert_allclose(a.loglik, b.loglik, rtol=1e-12)


def test_entry_zero_equals_right_censored_and_robust_cluster_identity():
    time, status, X = sim(seed=3)
    a = CoxPH().fit(time=time, status=status, X=X).result_
    b = CoxPH().fit(time=time, status=status, X=X, entry=np.zeros(len(time))).result_
    np.testing.assert_allclose(b.coef, a.coef, rtol=1e-10)
    np.testing.assert_allclose(b.vcov, a.vcov, rtol=1e-8)
    r1 = CoxPH(robust=True).fit(time=time, status=status, X=X).result_
    r2 = CoxPH().fit(time=time, status=status, X=X, cluster=np.arange(len(time))).result_
    np.testing.assert_allclose(r1.vcov, r2.vcov, rtol=1e-10)
    assert r2.robust and r2.n_clusters == len(time)
    np.testing.assert_allclose(r1.vcov_naive, a.vcov, rtol=1e-12)
    assert not np.allclose(r1.vcov, a.vcov)


def test_split_episodes_equal_unsplit():
    """Splitting follow-up into (0, s], (s, t] with time-fixed covariates changes nothing."""
    time, status, X = sim(seed=4, ties=False)
    cut = time / 2
    t2 = np.concatenate([cut, time])
    e2 = np.concatenate([np.zeros_like(cut), cut])
    s2 = np.concatenate([np.zeros_like(status), status])
    X2 = np.vstack([X, X])
    a = CoxPH().fit(time=time, status=status, X=X).result_
    b = CoxPH().fit(time=t2, status=s2, X=X2, entry=e2).result_
    np.testing.assert_allclose(b.coef, a.coef, rtol=1e-9)
    np.testing.assert_allclose(b.vcov, a.vcov, rtol=1e-7)


def test_result_dict_and_summary():
    time, status, X = sim(seed=6)
    res = CoxPH(robust=True).fit(time=time, status=status, X=X, covariates=["egfr", "age"]).result_
    d = res.to_dict()
    for key in (
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
        "se_robust",
        "lr_test",
        "wald_test",
        "score_test",
        "robust_score_test",
        "excluded",
        "warnings",
        "variance",
        "variance_reason",
    ):
        assert key in d
    assert d["variance"] == "robust" and d["variance_reason"] == "robust=True"
    assert set(d["coef"]) == {"egfr", "age"}
    assert d["hr"]["egfr"] == pytest.approx(np.exp(d["coef"]["egfr"]))
    assert d["ci_lower"]["egfr"] < d["hr"]["egfr"] < d["ci_upper"]["egfr"]
    json.dumps(d, allow_nan=False)
    assert 0.5 < d["concordance"]["concordance"] < 1
    lr = d["lr_test"]
    assert lr["statistic"] == pytest.approx(2 * (res.loglik - res.loglik_null))
    text = res.summary()
    assert "egfr" in text and "robust se" in text and "Likelihood ratio test" in text
    assert "variance: robust (robust=True)" in text


def test_robust_default_follows_coxph_rule():
    """robust=None: robust iff cluster or non-integer weights (survival 3.5 coxph)."""
    time, status, X = sim(seed=12)
    n = len(time)
    w_int = np.where(np.arange(n) % 3 == 0, 2.0, 1.0)  # integer-valued floats
    w_frac = w_int + 0.25
    plain = CoxPH().fit(time=time, status=status, X=X).result_
    assert not plain.robust and plain.variance == "model" and plain.se_robust is None
    a = CoxPH().fit(time=time, status=status, X=X, weights=w_int).result_
    assert not a.robust and not any("integers" in w for w in a.warnings)
    b = CoxPH().fit(time=time, status=status, X=X, weights=w_frac).result_
    forced = CoxPH(robust=True).fit(time=time, status=status, X=X, weights=w_frac).result_
    assert b.robust and b.variance == "robust" and "non-integer" in b.variance_reason
    assert any("not all integers" in w for w in b.warnings)
    np.testing.assert_allclose(b.vcov, forced.vcov, rtol=1e-12)
    np.testing.assert_allclose(b.se, b.se_robust, rtol=0)
    off = CoxPH(robust=False).fit(time=time, status=status, X=X, weights=w_frac).result_
    assert not off.robust and off.se_robust is None
    np.testing.assert_allclose(off.se, b.se_naive, rtol=1e-12)
    assert not np.allclose(off.se, b.se, rtol=1e-3)
    # through a table too (weights column)
    df = pd.DataFrame({"t": time, "s": status, "x1": X[:, 0], "x2": X[:, 1], "w": w_frac})
    tab = CoxPH().fit(df, time="t", status="s", covariates=["x1", "x2"], weights="w").result_
    assert tab.robust
    cl = CoxPH().fit(time=time, status=status, X=X, cluster=np.arange(n) // 4).result_
    assert cl.robust and cl.variance_reason.startswith("cluster")
    with pytest.warns(UserWarning, match="cluster ignored"):
        ign = CoxPH(robust=False).fit(time=time, status=status, X=X, cluster=np.arange(n) // 4)
    assert not ign.result_.robust and ign.result_.n_clusters is None
    np.testing.assert_allclose(ign.result_.vcov, plain.vcov, rtol=1e-12)
    with pytest.raises(InputError, match="robust"):
        CoxPH(robust="yes").fit(time=time, status=status, X=X)


def test_dataframe_of_covariates_gives_names():
    time, status, X = sim(seed=9)
    res = CoxPH().fit(time=time, status=status, X=pd.DataFrame(X, columns=["egfr", "age"]))
    assert res.names_ == ["egfr", "age"]
    assert "egfr" in res.summary()


def test_concordance_option():
    time, status, X = sim(seed=10)
    off = CoxPH(concordance=False).fit(time=time, status=status, X=X).result_
    assert off.concordance is None and any("concordance" in w for w in off.warnings)
    on = CoxPH(concordance=True).fit(time=time, status=status, X=X).result_
    assert on.concordance["concordance"] > 0.5
    with pytest.raises(InputError, match="concordance"):
        CoxPH(concordance="yes").fit(time=time, status=status, X=X)


def test_not_fitted():
    m = CoxPH()
    with pytest.raises(NotFittedError):
        m.summary()
    with pytest.raises(NotFittedError):
        m.predict_linear(np.zeros((2, 1)))
    with pytest.raises(NotFittedError):
        _ = m.coef_
    assert not hasattr(m, "something_else")


@pytest.mark.parametrize(
    "kwargs, column",
    [
        ({"time": [1, -2, 3, 4]}, "time"),
        ({"time": [1, np.nan, 3, 4]}, "time"),
        ({"status": [1, 0, 0.5, 1]}, "status"),
        ({"status": [0, 0, 2, 0]}, "status"),  # no events of cause 1
        ({"weights": [1, 0, 1, 1]}, "weights"),
        ({"entry": [0, 2, 0, 0]}, "entry"),  # entry == time
        ({"X": [[1], [1], [1], [1]]}, "x1"),
        ({"X": [[1, 2], [2, 4], [3, 6], [0, 0]]}, "x2"),
        ({"X": [[1], [np.inf], [0], [1]]}, "x1"),
        ({"time": [1, 2, 3]}, "status"),
    ],
)
def test_input_errors_name_the_column(kwargs, column):
    args = {"time": [1, 2, 3, 4], "status": [1, 0, 1, 1], "X": [[1], [0], [2], [1]]}
    args.update(kwargs)
    with pytest.raises(InputError) as exc:
        CoxPH().fit(**args)
    assert exc.value.column == column


def test_single_name_and_conflicting_inputs():
    time, status, X = sim(seed=11)
    res = CoxPH().fit(time=time, status=status, X=X[:, 1], covariates="age").result_
    assert res.names == ["age"]
    with pytest.raises(InputError, match="not both"):
        CoxPH().fit(pd.DataFrame({"t": time}), time="t", status="s", X=X)


def test_bad_options():
    with pytest.raises(InputError, match="ties"):
        CoxPH(ties="exact").fit(time=[1, 2], status=[1, 1], X=[[0], [1]])
    with pytest.raises(InputError, match="tol"):
        CoxPH(tol=0).fit(time=[1, 2], status=[1, 1], X=[[0], [1]])


def test_dataframe_path_matches_arrays_and_reports_exclusions():
    time, status, X = sim(seed=7)
    df = pd.DataFrame(
        {
            "t": time,
            "s": status,
            "gene": np.where(X[:, 0] == 1, "EGFR", "WT"),
            "age": X[:, 1],
            "site": np.arange(len(time)) % 5,
        }
    )
    df.loc[3, "age"] = np.nan
    with pytest.raises(InputError) as exc:
        CoxPH().fit(df, time="t", status="s", covariates=["gene", "age"])
    assert exc.value.column == "age" and exc.value.rows == [3]
    res = (
        CoxPH()
        .fit(
            df,
            time="t",
            status="s",
            covariates=["gene", "age"],
            reference={"gene": "WT"},
            missing="exclude",
            strata="site",
        )
        .result_
    )
    assert res.names == ["gene[T.EGFR]", "age"]
    assert res.excluded == [{"row": 3, "reason": "missing value in 'age'"}]
    keep = np.arange(len(time)) != 3
    arr = (
        CoxPH()
        .fit(time=time[keep], status=status[keep], X=X[keep], strata=df["site"].to_numpy()[keep])
        .result_
    )
    np.testing.assert_allclose(res.coef, arr.coef, rtol=1e-10)
    assert res.n == len(time) - 1


def test_dataframe_weights_and_cluster_columns():
    time, status, X = sim(seed=8)
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "t": time,
            "s": status,
            "x": X[:, 1],
            "w": rng.uniform(0.5, 2, len(time)),
            "hosp": rng.integers(0, 12, len(time)),
        }
    )
    res = (
        CoxPH().fit(df, time="t", status="s", covariates=["x"], weights="w", cluster="hosp").result_
    )
    arr = (
        CoxPH()
        .fit(
            time=time,
            status=status,
            X=X[:, 1:],
            weights=df.w.to_numpy(),
            cluster=df.hosp.to_numpy(),
        )
        .result_
    )
    np.testing.assert_allclose(res.vcov, arr.vcov, rtol=1e-10)
    assert res.n_clusters == 12
    with pytest.raises(InputError) as exc:
        CoxPH().fit(df, time="t", status="s", covariates=["x"], weights="nope")
    assert exc.value.column == "nope"
    df["w"] = df["w"].astype(object)
    df.loc[5, "w"] = "heavy"
    with pytest.raises(InputError) as exc:
        CoxPH().fit(df, time="t", status="s", covariates=["x"], weights="w")
    assert exc.value.column == "w" and exc.value.rows == [5]


# ------------------------------------------------------------ declared causes (causes=)
def _table_with_stray_code():
    time, status, X = sim(n=200, seed=4)
    df = pd.DataFrame({"t": time, "vte": status, "alk": X[:, 0], "age": X[:, 1]})
    df.loc[[2, 99], "vte"] = 3  # a typo: 3 is not a cause
    return df


def test_causes_unknown_code_names_status_column_and_rows():
    df = _table_with_stray_code()
    with pytest.raises(InputError) as err:
        CoxPH().fit(df, time="t", status="vte", covariates=["alk"], causes=[1, 2])
    assert err.value.column == "vte" and err.value.rows == [2, 99]
    assert "unknown status codes [3]" in str(err.value) and "rows 3, 100" in str(err.value)
    with pytest.raises(InputError) as err:
        CoxPH().fit(time=df["t"], status=df["vte"], X=df[["alk"]], causes=[1, 2])
    assert err.value.column == "status" and err.value.rows == [2, 99]


def test_causes_rows_are_input_rows_after_exclusions():
    df = _table_with_stray_code()
    df.loc[[0, 1], "age"] = np.nan
    with pytest.raises(InputError) as err:
        CoxPH().fit(df, time="t", status="vte", covariates=["age"], missing="exclude",
                    causes=[1, 2])  # fmt: skip
    assert err.value.rows == [2, 99]


def test_without_causes_a_stray_code_is_censored_as_before():
    df = _table_with_stray_code()
    a = CoxPH().fit(df, time="t", status="vte", covariates=["alk", "age"]).result_
    b = CoxPH().fit(df.replace({"vte": {3: 0}}), time="t", status="vte",
                    covariates=["alk", "age"]).result_  # fmt: skip
    np.testing.assert_array_equal(a.coef, b.coef)
    np.testing.assert_array_equal(a.vcov, b.vcov)


def test_declared_cause_without_events_and_cause_check():
    time, status, X = sim(n=150, seed=6)
    a = CoxPH().fit(time=time, status=status, X=X, cause=2).result_
    b = CoxPH().fit(time=time, status=status, X=X, cause=2, causes=[1, 2, 4]).result_
    np.testing.assert_array_equal(a.coef, b.coef)
    with pytest.raises(InputError, match=r"cause 2 is not one of the declared causes \[1\]") as e:
        CoxPH().fit(time=time, status=status, X=X, cause=2, causes=[1])
    assert e.value.column == "cause"
    with pytest.raises(InputError, match="no events of cause 4"):  # declared, but no events
        CoxPH().fit(time=time, status=status, X=X, cause=4, causes=[1, 2, 4])
