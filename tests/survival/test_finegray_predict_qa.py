"""Independent QA of ``FineGray.predict`` (predicted cumulative incidence with SEs and CIs).

The central check: the ``"influence"`` variance is :math:`\\sum_i\\phi_i(t)^2` with
:math:`\\phi_i` the influence function of :math:`\\hat\\Lambda(t\\mid z)`. Give every subject a
case weight :math:`w_i`; the estimator (weighted censoring Kaplan-Meier, ``crr``'s weights
:math:`\\hat G(t-)/\\hat G(T_j-)`, weighted Fine-Gray score solved by Newton, weighted Breslow
baseline) is then a smooth function of :math:`w`, and :math:`\\partial\\hat\\Lambda(t\\mid z)/
\\partial w_i` at :math:`w = 1` is the *exact* empirical influence function. It is computed
here by brute force (dense arrays, central differences), written from the definition of the
estimator only, and compared with the code's :math:`\\phi_i` (assembled as in
``test_finegray_predict.py::test_influence_functions_match_leave_one_out_differences``).

The code linearises the censoring KM as a Nelson-Aalen estimate (:math:`1/Y^2`, as ``crr``'s
:math:`\\psi`) while the KM's exact derivative has :math:`1/(Y(Y-c))`. To compare at machine
level the brute force can replace the KM by
:math:`\\hat G_{KM}(\\cdot\\,; 1)\\exp\\{-(\\hat A(\\cdot\\,; w) - \\hat A(\\cdot\\,; 1))\\}`
(:math:`\\hat A` the weighted Nelson-Aalen of censoring): equal to the KM at :math:`w=1`,
with exactly the Nelson-Aalen derivative. Tolerance 1e-6 relative: central differences with
step 1e-6 agree with the analytic derivative to ~1e-8 here.

Findings pinned below: exact agreement (untied data, one or two censoring groups, competing
failures before the first failure, no censoring, delayed entry with known weights); the
baseline's censoring term rightly pairs *all* failures with group g's competing failures
(``crr``'s own :math:`\\psi` for :math:`\\beta` pairs only group g's failures and is not the
derivative of its estimator); with censoring times tied to failure times the baseline's
censoring term uses the estimator's own convention (competing failures at or before
:math:`u`, failures after :math:`u`; it used ``crr``'s, 5% off per subject, before this was
found here).
"""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import drivervte.survival.finegray_predict as fgp
from drivervte.cli.main import app
from drivervte.errors import InputError
from drivervte.survival.finegray import FineGray
from drivervte.survival.finegray_predict import baseline_influence, baseline_terms
from drivervte.survival.finegray_scan import sandwich_terms

FD_RTOL = 1e-6  # central differences (step 1e-6) vs analytic derivatives: ~1e-8 observed


# ------------------------------------------------------------------ data
def _sim(n=110, seed=11, ties=False, groups=False, no_cens=False, comp_first=False,
         fail_ties=False):
    rng = np.random.default_rng(seed)
    x1 = rng.binomial(1, 0.4, n).astype(float)
    x2 = rng.normal(size=n)
    t1 = rng.exponential(1 / (0.1 * np.exp(0.5 * x1 + 0.3 * x2)))
    t2 = rng.exponential(1 / (0.15 * np.exp(-0.3 * x1)))
    tc = np.full(n, np.inf) if no_cens else rng.uniform(1.0, 10.0, n)
    t = np.minimum.reduce([t1, t2, tc])
    s = np.where(t == t1, 1, np.where(t == t2, 2, 0))
    if comp_first:  # 15 competing failures before the first failure of the cause
        first = t[s == 1].min()
        idx = np.flatnonzero(s == 2)[:15]
        t[idx] = first * np.linspace(0.05, 0.9, idx.size)
    if ties:
        t = np.ceil(t)
    if fail_ties:  # failures of both causes on a grid of 0.5, censoring times untied
        t = np.where(s > 0, np.ceil(2 * t) / 2, t)
    g = rng.integers(0, 2, n) if groups else np.zeros(n, int)
    return t, s, np.column_stack([x1, x2]), g


# ------------------------------------------------------------------ brute force
def _cens_curve(t, s, w, at, kind):
    """Weighted censoring curve at ``at-`` (left limits) of one group: KM or exp(-NA);
    0 after the group's last time (crr's convention)."""
    u, inv = np.unique(t[s == 0], return_inverse=True)
    c = np.bincount(inv.ravel(), weights=w[s == 0], minlength=u.size)
    o = np.argsort(t, kind="stable")
    tail = np.concatenate((np.cumsum(w[o][::-1])[::-1], [0.0]))
    Y = tail[np.searchsorted(t[o], u, side="left")]
    k = np.searchsorted(u, at, side="left")  # censoring times < at
    if kind == "km":
        val = np.concatenate(([1.0], np.cumprod(1 - c / Y)))[k]
    else:
        val = np.exp(-np.concatenate(([0.0], np.cumsum(c / Y)))[k])
    return np.where(at > t.max(), 0.0, val)


def _weights_G(t, s, g, w, uft, kind, base=None):
    """(Gk (ncg, d), Gown (n,)); kind 'km', or 'lin' = KM at w=1 with the NA derivative."""
    ncg = g.max() + 1
    Gk, Go = np.empty((ncg, uft.size)), np.empty(t.size)
    for a in range(ncg):
        m = g == a
        kind_a = "km" if kind == "km" else "na"
        Gk[a] = _cens_curve(t[m], s[m], w[m], uft, kind_a)
        Go[m] = _cens_curve(t[m], s[m], w[m], t[m], kind_a)
    if kind == "lin":  # KM(1) * exp(-(NA(w) - NA(1)))
        km_k, km_o, na_k, na_o = base
        Gk = km_k * Gk / np.where(na_k > 0, na_k, 1.0)
        Go = km_o * Go / np.where(na_o > 0, na_o, 1.0)
    return Gk, Go


def _brute(t, s, X, g, w, z, times, beta0, kind="lin", base=None, fixed=None):
    """Weighted Fine-Gray estimate: (Lambda(times | z), beta). ``fixed`` = (n, d) weight
    matrix held fixed (delayed entry); otherwise crr's censoring weights from ``w``."""
    uft = np.unique(t[s == 1])
    if fixed is None:
        Gk, Go = _weights_G(t, s, g, w, uft, kind, base)
        after = (s == 2)[:, None] & (t[:, None] < uft[None, :])
        with np.errstate(divide="ignore", invalid="ignore"):
            om = np.where(after, Gk[g] / Go[:, None], (t[:, None] >= uft[None, :]) * 1.0)
    else:
        om = fixed
    om = om * w[:, None]
    dk = np.bincount(np.searchsorted(uft, t[s == 1]), weights=w[s == 1], minlength=uft.size)
    xe = (w * (s == 1)) @ X
    b = beta0.copy()
    for _ in range(50):
        e = np.exp(X @ b)
        S0 = om.T @ e
        xbar = ((om * e[:, None]).T @ X) / S0[:, None]
        S2 = np.einsum("jk,j,jp,jq->kpq", om, e, X, X) / S0[:, None, None]
        info = np.einsum("k,kpq->pq", dk, S2) - (xbar * dk[:, None]).T @ xbar
        step = np.linalg.solve(info, xe - dk @ xbar)
        b = b + step
        if np.max(np.abs(step)) < 1e-14:
            break
    lam0 = np.concatenate(([0.0], np.cumsum(dk / (om.T @ np.exp(X @ b)))))
    return np.exp(z @ b) * lam0[np.searchsorted(uft, times, side="right")], b


def _exact_influence(t, s, X, g, z, times, beta0, kind="lin", fixed=None, h=1e-6):
    """d Lambda(times|z) / d w_i and d beta / d w_i at w = 1 (central differences)."""
    n = t.size
    base = None
    if kind == "lin":
        uft = np.unique(t[s == 1])
        one = np.ones(n)
        base = (*_weights_G(t, s, g, one, uft, "km"), *_weights_G(t, s, g, one, uft, "na"))
    IF, IFb = np.empty((n, times.size)), np.empty((n, X.shape[1]))
    for i in range(n):
        wp, wm = np.ones(n), np.ones(n)
        wp[i] += h
        wm[i] -= h
        lp, bp = _brute(t, s, X, g, wp, z, times, beta0, kind, base, fixed)
        lm, bm = _brute(t, s, X, g, wm, z, times, beta0, kind, base, fixed)
        IF[i], IFb[i] = (lp - lm) / (2 * h), (bp - bm) / (2 * h)
    return IF, IFb


def _code_pieces(fg, z, times, resid=None):
    """The code's pieces in input row order: r, h (T, p), baseline part r*Phi (n, T), beta
    influence (n, p) and the total phi (n, T)."""
    D, beta = fg._data, fg.coef_
    S0, lam, _, H = baseline_terms(D, beta)
    kap = np.searchsorted(D.uft, times, side="right")
    zc = z - D.xmean
    r = float(np.exp(zc @ beta))
    h = (np.concatenate(([0.0], lam))[kap][:, None] * zc[None, :]
         - np.vstack((np.zeros((1, beta.size)), H))[kap])
    Phi = baseline_influence(D, np.exp(D.X @ beta), S0, kap, fg._psi)
    R = fg._resid if resid is None else resid
    out_base, out_b = np.empty_like(Phi), np.empty((Phi.shape[0], beta.size))
    out_base[D.order] = r * Phi
    out_b[D.order] = R @ fg.vcov_model_
    return r, h, out_base, out_b, out_base + r * out_b @ h.T


def _fit(t, s, X, g=None, **kw):
    return FineGray(tol=1e-13).fit(time=t, status=s, X=X, covariates=["x1", "x2"],
                                   cengroup=g, **kw)


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def _stage_frame(levels, prob=None):
    """200 rows: time, status (0/1/2) and a text covariate ``stage`` with these levels."""
    rng = np.random.default_rng(4)
    n = 200
    return pd.DataFrame({"time": rng.exponential(12, n).round(1) + 0.1,
                         "status": rng.choice([0, 1, 2], n, p=[0.4, 0.3, 0.3]),
                         "stage": rng.choice(levels, n, p=prob)})


Z = np.array([1.0, 0.5])
TIMES = np.array([1.5, 3.0, 6.0, 9.0])


# ------------------------------------------------------------------ the influence variance
@pytest.mark.parametrize("scenario", [
    {},  # untied, one censoring group
    {"comp_first": True},  # competing failures before the first failure
    {"no_cens": True},  # no censoring: the censoring term must vanish
    {"fail_ties": True},  # heavy ties among failures (none with a censoring time)
])
def test_influence_equals_exact_derivative_of_the_estimator(scenario):
    t, s, X, g = _sim(**scenario)
    fg = _fit(t, s, X)
    IF, IFb = _exact_influence(t, s, X, g, Z, TIMES, fg.coef_)
    _, _, _, phib, phi = _code_pieces(fg, Z, TIMES)
    assert _rel(phib, IFb) < FD_RTOL
    assert _rel(phi, IF) < FD_RTOL
    pr = fg.predict(Z, TIMES)
    np.testing.assert_allclose(pr.se_cumhaz.ravel(), np.sqrt((IF**2).sum(0)), rtol=FD_RTOL)


def test_against_the_true_km_derivative_the_difference_is_the_linearisation():
    """With the real KM in the brute force, phi differs only by 1/(Y(Y-c)) vs 1/Y^2:
    measured 0.8% at most per subject, 1e-4 on the SE (n = 110, untied)."""
    t, s, X, g = _sim()
    fg = _fit(t, s, X)
    IF, _ = _exact_influence(t, s, X, g, Z, TIMES, fg.coef_, kind="km")
    _, _, _, _, phi = _code_pieces(fg, Z, TIMES)
    assert 1e-5 < _rel(phi, IF) < 0.05
    ratio = np.sqrt((phi**2).sum(0) / (IF**2).sum(0))
    assert np.all(np.abs(ratio - 1) < 1e-3), ratio


def test_cengroup_baseline_term_pairs_all_failures_with_the_groups_competing_failures():
    """Baseline part: exact dLambda/dw_i minus the exact beta part equals the code's
    r * Phi_i, whose censoring term pairs every failure with group g's competing failures
    (S0(t_k) carries group g's competing failures whatever the failure's group)."""
    t, s, X, g = _sim(groups=True)
    fg = _fit(t, s, X, g)
    IF, IFb = _exact_influence(t, s, X, g, Z, TIMES, fg.coef_)
    r, h, base, phib, _ = _code_pieces(fg, Z, TIMES)
    assert _rel(base, IF - r * IFb @ h.T) < FD_RTOL
    # crr's psi for beta pairs group g's failures only (dkg): not the derivative of crr's
    # own estimator (measured 1.5% on the influence of beta, 0.1-0.2% on its SE) ...
    assert _rel(phib, IFb) > 1e-3
    # ... pairing all failures (dk) is
    D = dataclasses.replace(fg._data, dkg=np.tile(fg._data.dk, (fg._data.ncg, 1)), buf=None)
    fixed = np.empty_like(phib)
    fixed[D.order] = sandwich_terms(D, fg.coef_)[0] @ fg.vcov_model_
    assert _rel(fixed, IFb) < FD_RTOL


@pytest.fixture(scope="module")
def tied():
    t, s, X, g = _sim(ties=True)
    fg = _fit(t, s, X)
    IF, IFb = _exact_influence(t, s, X, g, Z, TIMES, fg.coef_)
    return fg, IF, IFb


def test_ties_code_convention_gives_the_exact_baseline_influence(tied):
    fg, IF, IFb = tied
    r, h, base, _, _ = _code_pieces(fg, Z, TIMES)
    assert _rel(base, IF - r * IFb @ h.T) < FD_RTOL


@pytest.mark.parametrize("ties", [False, True])
def test_delayed_entry_influence_is_the_derivative_with_known_weights(ties):
    t, s, X, g = _sim(n=90, seed=2, ties=ties)
    fg = _fit(t, s, X, entry=np.minimum(0.3 * t, 0.5))
    D = fg._data
    k = np.arange(D.uft.size)[None, :]
    at_risk = (k >= D.L[:, None]) & (k < D.m[:, None])
    after = (D.ici == 2)[:, None] & (k >= D.m[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = D.Gk[0][None, :] / D.Gown[:, None]
    W = np.where(at_risk, 1.0, np.where(after, ratio, 0.0))
    fixed = np.empty_like(W)
    fixed[D.order] = W
    IF, _ = _exact_influence(t, s, X, g, Z, TIMES, fg.coef_, fixed=fixed)
    _, _, _, _, phi = _code_pieces(fg, Z, TIMES)
    assert not fg._psi
    assert _rel(phi, IF) < FD_RTOL


@pytest.mark.parametrize("scenario", [{"no_cens": True}, {"no_comp": True}])
def test_censoring_term_vanishes_without_censoring_or_competing_failures(scenario):
    t, s, X, _ = _sim(no_cens=scenario.get("no_cens", False))
    if scenario.get("no_comp"):
        s = np.where(s == 2, 0, s)
    fg = _fit(t, s, X)
    D, beta = fg._data, fg.coef_
    S0 = baseline_terms(D, beta)[0]
    kap = np.searchsorted(D.uft, TIMES, side="right")
    e = np.exp(D.X @ beta)
    with_psi = baseline_influence(D, e, S0, kap, True)
    np.testing.assert_array_equal(with_psi, baseline_influence(D, e, S0, kap, False))
    assert np.abs(with_psi).max() > 0


def test_influence_variance_does_not_depend_on_the_fits_variance_option():
    t, s, X, _ = _sim()
    a = FineGray(variance="model").fit(time=t, status=s, X=X, covariates=["x1", "x2"])
    b = FineGray(variance="sandwich").fit(time=t, status=s, X=X, covariates=["x1", "x2"])
    np.testing.assert_allclose(a.predict(Z, TIMES).se, b.predict(Z, TIMES).se, rtol=1e-12)
    sa, sb = (f.predict(Z, TIMES, method="survfit").se for f in (a, b))
    assert np.all(np.abs(sa / sb - 1) > 1e-4)  # survfit uses the fit's variance of beta


# ------------------------------------------------------------------ times, levels, profiles
@pytest.fixture(scope="module")
def fitted():
    t, s, X, _ = _sim(n=200, seed=2)
    return FineGray().fit(time=t, status=s, X=X, covariates=["x1", "x2"]), t


def test_times_at_between_before_and_after_failure_times(fitted):
    fg, t = fitted
    u = fg.uftime_
    times = [u[0] / 2, u[0], u[3], (u[3] + u[4]) / 2, u[-1], t.max(), t.max() + 1]
    pr = fg.predict([[0.0, 0.0]], times)
    est, se = pr.estimate.ravel(), pr.se.ravel()
    assert est[0] == 0 and se[0] == 0 and pr.ci_lower[0, 0] == pr.ci_upper[0, 0] == 0
    assert 0 < est[1] < est[2]  # the failure at t = u[0] counts at u[0]
    assert est[3] == est[2] and se[3] == se[2]  # step function between failure times
    assert est[4] == est[5] == est[6] and se[4] == se[6]
    assert any(f"{t.max() + 1:g}" in n and "beyond" in n for n in pr.notes)
    assert not any(f"{t.max():g} are" in n for n in pr.notes)
    np.testing.assert_allclose(est, fg.predict_cif([[0.0, 0.0]], times=times).ravel())


@pytest.mark.parametrize("level", [0.5, 0.999])
def test_limits_are_the_log_cumulative_hazard_interval(fitted, level):
    from statistics import NormalDist

    fg, _ = fitted
    pr = fg.predict([[0.0, 0.0], [1.0, -1.0]], [2.0, 5.0], level=level)
    zq = NormalDist().inv_cdf(0.5 + level / 2)
    half = zq * pr.se_cumhaz / pr.cumhaz
    np.testing.assert_allclose(np.log(-np.log1p(-pr.ci_upper)), np.log(pr.cumhaz) + half,
                               rtol=1e-12)
    np.testing.assert_allclose(np.log(-np.log1p(-pr.ci_lower)), np.log(pr.cumhaz) - half,
                               rtol=1e-12)
    np.testing.assert_allclose(pr.se, np.exp(-pr.cumhaz) * pr.se_cumhaz, rtol=1e-14)


def test_one_binary_covariate():
    t, s, X, _ = _sim()
    fg = FineGray().fit(time=t, status=s, X=X[:, :1], covariates=["x1"])
    pr = fg.predict([[0.0], [1.0]], [3.0, 6.0])
    np.testing.assert_allclose(pr.cumhaz[:, 1] / pr.cumhaz[:, 0], np.exp(fg.coef_[0]))
    assert np.all(np.isfinite(pr.se)) and np.all(pr.se > 0)


@pytest.mark.parametrize(("x2", "cif"), [(5000.0, 1.0), (-5000.0, 0.0)])
def test_profile_far_outside_the_data_says_why_se_is_null(fitted, x2, cif):
    fg, _ = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarning leaks
        pr = fg.predict([[0.0, 0.0], [1.0, x2]], [3.0, 6.0])
    assert np.all(pr.estimate[:, 1] == cif)
    assert np.all(np.isnan(pr.se[:, 1]) & np.isnan(pr.ci_lower[:, 1]))
    assert np.all(np.isfinite(pr.se[:, 0]))
    assert any(n.startswith("profile 2:") and "null" in n for n in pr.notes)
    d = pr.to_dict()
    assert d["profiles"][1]["se"] == [None, None] and d["profiles"][0]["se"][0] is not None
    assert "NA - NA" in pr.summary()


def test_two_dimensional_times_is_an_input_error(fitted):
    fg, _ = fitted
    with pytest.raises(InputError) as e:
        fg.predict([[0.0, 0.0]], [[1.0, 2.0], [3.0, 4.0]])
    assert e.value.column == "times"


def test_level_that_looks_like_a_number():
    df = _stage_frame(["IIIB", "IVA", "4"], [0.4, 0.4, 0.2])
    fg = FineGray().fit(df, time="time", status="status", covariates=["stage"])
    assert fg.levels_["stage"][0] == "4"
    ref = fg.predict({"stage": "4"}, [6.0])
    for v in (4, 4.0, "4.0"):  # the CLI passes 4.0 for --profile stage=4
        assert fg.predict({"stage": v}, [6.0]).values == ref.values
    with pytest.raises(InputError, match="unknown level"):
        fg.predict({"stage": 5.0}, [6.0])


def test_singular_information_gives_null_se_with_a_note():
    rng = np.random.default_rng(4)
    n = 200
    t, s = rng.exponential(10, n), rng.choice([0, 1, 2], n)
    x = np.zeros(n)
    i0 = np.argmin(t)
    s[i0], x[i0] = 0, 1.0  # x = 1 only for one subject censored before any failure
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fg = FineGray().fit(time=t, status=s, X=x[:, None], covariates=["x"])
        pr = fg.predict([[0.0]], [5.0])
    assert fg.vcov_model_ is None
    assert np.isnan(pr.se[0, 0]) and pr.to_dict()["profiles"][0]["se"] == [None]
    assert any("singular" in n for n in pr.notes)


# ------------------------------------------------------------------ CLI
runner = CliRunner()


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    rng = np.random.default_rng(4)
    n = 200
    df = pd.DataFrame({"time": rng.exponential(12, n).round(1) + 0.1,
                       "status": rng.choice([0, 1, 2], n, p=[0.4, 0.3, 0.3]),
                       "stage": rng.choice(["Stage III", "Stage IV"], n),
                       "age": rng.normal(60, 8, n).round(),
                       "egfr": rng.integers(0, 2, n)})
    p = tmp_path_factory.mktemp("qa") / "d.csv"
    df.to_csv(p, index=False)
    return p, df


def _cli(path, covs, *extra):
    return runner.invoke(app, ["finegray", str(path), "--time", "time", "--status", "status",
                               "--covariates", covs, *extra])


def test_cli_profile_parsing_spaces_negative_scientific(csv):
    p, df = csv
    r = _cli(p, "egfr,age,stage", "--times", "6, 1.2e1", "--profile",
             " egfr = 1 , age=-5e1,stage= Stage IV ", "--json")
    assert r.exit_code == 0, r.output
    pred = json.loads(r.stdout)["prediction"]
    assert pred["times"] == [6.0, 12.0]
    assert pred["profiles"][0]["values"] == {"egfr": 1.0, "age": -50.0,
                                             "stage[T.Stage IV]": 1.0}
    fg = FineGray().fit(df, time="time", status="status", covariates=["egfr", "age", "stage"])
    api = fg.predict([[1.0, -50.0, 1.0]], [6.0, 12.0])
    np.testing.assert_allclose(pred["profiles"][0]["se"], api.se[:, 0], rtol=1e-12)


def test_cli_far_profile_gives_null_and_a_note(csv):
    p, _ = csv
    r = _cli(p, "egfr,age", "--times", "6", "--profile", "egfr=1,age=-1e5", "--json")
    assert r.exit_code == 0, r.output
    pred = json.loads(r.stdout)["prediction"]
    assert pred["profiles"][0]["cif"] == [1.0] and pred["profiles"][0]["se"] == [None]
    assert any("profile 1" in n for n in pred["notes"])
    assert "RuntimeWarning" not in r.output


@pytest.mark.parametrize(("extra", "needle"), [
    (["--times", "-1", "--profile", "egfr=1,age=60"], "times"),
    (["--times", "6,x", "--profile", "egfr=1,age=60"], "--times"),
    (["--times", "6", "--profile", "egfr=1,age=60,"], "--profile"),
    (["--times", "6", "--profile", "egfr=1,age"], "--profile"),
    (["--times", "6", "--profile", "egfr=1,age=inf"], "age"),
])
def test_cli_bad_prediction_input_exits_2_naming_the_option(csv, extra, needle):
    p, _ = csv
    r = _cli(p, "egfr,age", *extra)
    assert r.exit_code == 2, r.output
    assert needle in r.output


def test_cli_repeated_key_in_a_profile_is_an_error(csv):
    p, _ = csv
    r = _cli(p, "egfr,age", "--times", "6", "--profile", "egfr=1,egfr=0,age=60", "--json")
    assert r.exit_code == 2, r.output
    assert "'egfr' is given twice" in r.output


def test_cli_negative_time_names_the_option(csv):
    p, _ = csv
    r = _cli(p, "egfr,age", "--times", "-1", "--profile", "egfr=1,age=60")
    assert r.exit_code == 2 and "--times" in r.output, r.output


# ------------------------------------------------------------------ invariances (property)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 5000), shift=st.floats(-50, 50), scale=st.floats(0.01, 100),
       ties=st.booleans(), groups=st.booleans())
def test_property_invariant_to_row_order_covariate_shift_and_time_scale(seed, shift, scale,
                                                                          ties, groups):
    """Same predictions (and influence SEs, including the censoring term) after permuting
    the rows, shifting a covariate (and the profile) and rescaling the time axis."""
    t, s, X, g = _sim(n=60, seed=seed, ties=ties, groups=groups)
    if np.sum(s == 1) < 3 or np.ptp(X[:, 0]) == 0:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = FineGray().fit(time=t, status=s, X=X, covariates=["x1", "x2"], cengroup=g)
        if not a.converged_:
            return
        perm = np.random.default_rng(seed).permutation(t.size)
        X2 = X[perm].copy()
        X2[:, 1] += shift
        b = FineGray().fit(time=t[perm] * scale, status=s[perm], X=X2,
                           covariates=["x1", "x2"], cengroup=g[perm])
    times = np.quantile(t, [0.2, 0.5, 0.8])
    pa = a.predict([[1.0, 0.5]], times)
    pb = b.predict([[1.0, 0.5 + shift]], times * scale)
    np.testing.assert_allclose(pb.cumhaz, pa.cumhaz, rtol=1e-8)
    np.testing.assert_allclose(pb.se_cumhaz, pa.se_cumhaz, rtol=1e-7)


@pytest.mark.parametrize("groups", [False, True])
def test_blocks_of_times_give_the_same_numbers(monkeypatch, groups):
    """predict forms the influence functions for blocks of times; the block size must not
    change anything (blocks of 1 and 3 against one block of all 40 times)."""
    t, s, X, g = _sim(groups=groups)
    fg = _fit(t, s, X, g)
    times = np.linspace(0.0, 12.0, 40)
    monkeypatch.setattr(fgp, "_CHUNK", 64)
    ref = fg.predict([[0.0, 0.0], [1.0, 1.0]], times)
    for chunk in (1, 3):
        monkeypatch.setattr(fgp, "_CHUNK", chunk)
        pr = fg.predict([[0.0, 0.0], [1.0, 1.0]], times)
        np.testing.assert_allclose(pr.se_cumhaz, ref.se_cumhaz, rtol=1e-12, atol=1e-300)


def test_categorical_given_by_level_and_by_dummy_is_an_error():
    df = _stage_frame(["IIIB", "IVA", "IVB"])
    fg = FineGray().fit(df, time="time", status="status", covariates=["stage"])
    for prof in ({"stage": "IVA", "stage[T.IVA]": 0, "stage[T.IVB]": 0},
                 {"stage[T.IVA]": 0, "stage[T.IVB]": 0, "stage": "IVA"}):
        with pytest.raises(InputError, match="given twice") as e:
            fg.predict(prof, [6.0])
        assert e.value.column in ("stage", "stage[T.IVA]")
    assert fg.predict({"stage": "IVB"}, [6.0]).values == [{"stage[T.IVA]": 0.0,
                                                          "stage[T.IVB]": 1.0}]


def test_survfit_method_on_a_crr_sandwich_fit_says_it_is_not_Rs_robust_number(fitted):
    fg, _ = fitted
    assert any("not R's number" in n for n in fg.predict(Z, [3.0], method="survfit").notes)
    t, s, X, _ = _sim()
    m = FineGray(variance="model").fit(time=t, status=s, X=X, covariates=["x1", "x2"])
    assert not any("not R's" in n for n in m.predict(Z, [3.0], method="survfit").notes)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 5000), ties=st.booleans(), groups=st.booleans())
def test_property_influence_functions_sum_to_zero(seed, ties, groups):
    """Lambda_hat is invariant to scaling every case weight by one constant, so its influence
    functions sum to 0 (Euler): the Breslow terms, the censoring martingale terms and the
    score residuals each do, at any data (ties, censoring groups)."""
    t, s, X, g = _sim(n=60, seed=seed, ties=ties, groups=groups)
    if np.sum(s == 1) < 3 or np.ptp(X[:, 0]) == 0:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fg = FineGray(tol=1e-12).fit(time=t, status=s, X=X, covariates=["x1", "x2"],
                                     cengroup=g)
    if not fg.converged_:
        return
    times = np.quantile(t, [0.2, 0.5, 0.8])
    _, _, base, phib, phi = _code_pieces(fg, Z, times)
    scale = np.abs(phi).sum(axis=0) + 1e-300
    assert np.all(np.abs(base.sum(axis=0)) <= 1e-10 * scale)
    assert np.all(np.abs(phib.sum(axis=0)) <= 1e-8 * np.abs(phib).sum(axis=0))
    assert np.all(np.abs(phi.sum(axis=0)) <= 1e-8 * scale)


def test_cli_level_that_looks_like_a_number(tmp_path):
    df = _stage_frame(["IIIB", "IVA", "4"], [0.4, 0.4, 0.2])
    p = tmp_path / "s.csv"
    df.to_csv(p, index=False)
    r = _cli(p, "stage", "--times", "6", "--profile", "stage=4", "--profile", "stage=IVA",
             "--json")
    assert r.exit_code == 0, r.output
    vals = [q["values"] for q in json.loads(r.stdout)["prediction"]["profiles"]]
    assert vals == [{"stage[T.IIIB]": 0.0, "stage[T.IVA]": 0.0},
                    {"stage[T.IIIB]": 0.0, "stage[T.IVA]": 1.0}]


def test_cli_level_as_percent_is_exact(csv):
    from drivervte.cli._common import level_fraction

    assert level_fraction(99.9) == 0.999 and level_fraction(95) == 0.95
    p, _ = csv
    r = _cli(p, "egfr,age", "--times", "6", "--profile", "egfr=1,age=60", "--level", "99.9",
             "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["prediction"]["level"] == 0.999
