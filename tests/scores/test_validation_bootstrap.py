"""Bootstrap SEs and percentile intervals of score validation (validation_bootstrap).

A bootstrap has no R reference (it is random); the checks are: the seed reproduces the
output exactly; the bootstrap SE of the AUC agrees with the influence-function SE that
equals riskRegression::Score (so the resampling and the refitted censoring weights are
right); intervals contain the estimate and nest by level; undefined replicates are counted
exactly; bootstrap=0 changes nothing; bad options are InputErrors. The vectorized C-index
and the multi-horizon NRI that make the replicates cheap are checked against a direct
double sum and against cmprsk's Aalen-Johansen estimator (drivervte.survival.cuminc).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivervte.errors import InputError
from drivervte.scores.validation import validate_score
from drivervte.scores.validation_auc import CensoringKM
from drivervte.scores.validation_bootstrap import (
    bootstrap_replicates,
    check_bootstrap_options,
    summarize_replicates,
    validation_statistics,
)
from drivervte.scores.validation_cindex import cindex_competing_times
from drivervte.scores.validation_reclass import _cif_at, nri_competing_times
from drivervte.survival.cuminc import cumulative_incidence

TIMES = (3.0, 6.0, 12.0)
BOOT_KEYS = {"se_boot", "ci_lower", "ci_upper", "bootstrap", "bootstrap_failed"}


def _cohort(n: int, seed: int) -> pd.DataFrame:
    """Competing risks cohort: VTE hazard rising with the marker, death, uniform censoring."""
    rng = np.random.default_rng(seed)
    m = rng.normal(size=n)
    t_vte = rng.exponential(20 * np.exp(-0.8 * m))
    t_death = rng.exponential(30, n)
    t_cens = rng.uniform(2, 24, n)
    t = np.minimum.reduce([t_vte, t_death, t_cens])
    s = np.select([t == t_vte, t == t_death], [1, 2], 0)
    pred = 1 / (1 + np.exp(-(m - 2)))
    pred2 = 1 / (1 + np.exp(-(m + 0.3 * rng.normal(size=n) - 2)))
    return pd.DataFrame({"time": np.round(t, 2), "status": s, "pred": pred, "pred2": pred2})


@pytest.fixture(scope="module")
def cohort400() -> pd.DataFrame:
    return _cohort(400, 11)


def _validate(df, **kw):
    return validate_score(df, time="time", status="status", score=None, predicted="pred",
                          times=TIMES, **kw)


# --- reproducibility and the default ------------------------------------------------------


def test_same_seed_same_output_other_seed_other_replicates(cohort400):
    a = _validate(cohort400, compare="pred2", bootstrap=30, seed=7)
    b = _validate(cohort400, compare="pred2", bootstrap=30, seed=7)
    c = _validate(cohort400, compare="pred2", bootstrap=30, seed=8)
    assert a.to_json() == b.to_json() and a.summary() == b.summary()
    for key in ("auc", "cindex", "nri"):
        for ra, rc in zip(getattr(a, key), getattr(c, key), strict=True):
            assert ra["se_boot"] != rc["se_boot"]


def test_no_seed_reports_the_entropy_that_repeats_the_run(cohort400):
    first = _validate(cohort400, bootstrap=10).to_dict()
    seed = first["bootstrap"]["seed"]
    assert isinstance(seed, int)
    again = _validate(cohort400, bootstrap=10, seed=seed).to_dict()
    assert again == first


def test_bootstrap_zero_changes_no_key_or_number(cohort400):
    plain = _validate(cohort400, compare="pred2").to_dict()
    zero = _validate(cohort400, compare="pred2", bootstrap=0, seed=3).to_dict()
    assert zero == plain
    assert "bootstrap" not in plain
    for key in ("auc", "cindex", "nri"):
        assert all(not (BOOT_KEYS & set(r)) for r in plain[key])
    # the point estimates with B > 0 are those of the default run, key for key
    boot = _validate(cohort400, compare="pred2", bootstrap=5, seed=3).to_dict()
    for key in ("auc", "cindex", "nri"):
        stripped = [{k: v for k, v in r.items() if k not in BOOT_KEYS} for r in boot[key]]
        assert stripped == plain[key]
        assert all(BOOT_KEYS <= set(r) and r["bootstrap"] == 5 for r in boot[key])
    for key in ("calibration", "delta_auc", "comparison", "n", "events", "excluded"):
        assert boot[key] == plain[key]


# --- the resampling is right -------------------------------------------------------------


def test_bootstrap_se_of_auc_close_to_influence_function_se():
    # n = 2000 (~330-690 cases by the horizons): the IF SE (= riskRegression::Score, see
    # test_validation_auc) and the bootstrap SD estimate the same sampling SD, their gap
    # being O(1/n) relative. What is left is Monte Carlo error of an SD from B = 300
    # replicates, 1/sqrt(2 (B - 1)) = 4.1% relative: 15% is > 3.5 of those, and the
    # seed is fixed, so the test is not flaky; a wrong resampling (e.g. weights not refitted
    # or rows not drawn with replacement) gives errors of a different order.
    res = _validate(_cohort(2000, 5), bootstrap=300, seed=2024).to_dict()
    for a in res["auc"]:
        assert a["bootstrap_failed"] == 0
        assert a["se_boot"] == pytest.approx(a["se"], rel=0.15)


def test_bootstrap_se_of_c_close_to_the_monte_carlo_sd():
    # The C-index has no analytic SE; its sampling SD over 300 simulated cohorts of the
    # same design is the truth the bootstrap SD of one cohort should approach. Both carry
    # Monte Carlo error (~4% each for 300 draws) and the bootstrap SD varies from cohort
    # to cohort (~10% here); 30% is wide enough for a fixed-seed test and still far from
    # what a broken resampling gives (a factor ~sqrt(2) without replacement, ~0 w/o refit).
    n = 500
    sims = []
    for k in range(300):
        d = _cohort(n, 1000 + k)
        t, s, m = d["time"].to_numpy(), d["status"].to_numpy(), d["pred"].to_numpy()
        sims.append(cindex_competing_times(t, s, m, [6.0])[0].estimate)
    sd_mc = np.std(sims, ddof=1)
    res = validate_score(_cohort(n, 99), time="time", status="status", score=None,
                         predicted="pred", times=[6.0], bootstrap=300, seed=5).to_dict()
    assert res["cindex"][0]["se_boot"] == pytest.approx(sd_mc, rel=0.30)


def test_percentile_intervals_contain_the_estimate_and_nest_by_level(cohort400):
    wide = _validate(cohort400, compare="pred2", bootstrap=200, seed=1, level=0.95).to_dict()
    narrow = _validate(cohort400, compare="pred2", bootstrap=200, seed=1,
                       level=0.80).to_dict()
    for key, est in (("auc", "estimate"), ("cindex", "estimate"), ("nri", "nri")):
        for w, nr in zip(wide[key], narrow[key], strict=True):
            assert w["ci_lower"] <= w[est] <= w["ci_upper"], (key, w)
            assert w["ci_lower"] <= nr["ci_lower"] <= nr["ci_upper"] <= w["ci_upper"]
            assert w["se_boot"] == nr["se_boot"] > 0  # same replicates, same SD


def test_undefined_replicates_are_counted_exactly():
    # one VTE (row 0, at time 1) before the horizon 3: a resample without row 0 has no
    # case, so C (and the AUC) at 3 are undefined there. The count must equal the number
    # of such resamples, drawn here with the same generator.
    n = 30
    rng = np.random.default_rng(0)
    t = np.concatenate(([1.0], rng.uniform(4, 20, n - 1)))
    s = np.concatenate(([1], rng.choice([0, 1, 2], n - 1)))
    df = pd.DataFrame({"time": t, "status": s, "pred": rng.uniform(0, 1, n)})
    res = validate_score(df, time="time", status="status", score=None, predicted="pred",
                         times=[3.0, 12.0], bootstrap=100, seed=42)
    draws = np.random.default_rng(42)
    expected = sum(not np.any(draws.integers(0, n, size=n) == 0) for _ in range(100))
    assert 10 < expected < 90
    c3 = res.cindex[0]
    assert c3["bootstrap_failed"] == expected == res.auc[0]["bootstrap_failed"]
    assert np.isfinite(c3["se_boot"]) and c3["bootstrap"] == 100
    assert res.cindex[1]["bootstrap_failed"] == 0
    assert any(f"{expected} of 100 bootstrap resamples had an undefined C-index at 3" in w
               for w in res.warnings)
    assert "resamples" in res.summary() and "C 95% CI*" in res.summary()


def test_undefined_estimate_gives_null_interval_but_counts():
    df = pd.DataFrame({"time": [5.0, 6, 7, 8], "status": [0, 2, 0, 1],
                       "pred": [0.1, 0.2, 0.3, 0.4]})
    res = validate_score(df, time="time", status="status", score=None, predicted="pred",
                         times=[3.0], bootstrap=20, seed=1).to_dict()
    c = res["cindex"][0]
    assert c["estimate"] is None and c["reason"]
    assert c["se_boot"] is None and c["ci_lower"] is None and c["ci_upper"] is None
    assert c["bootstrap_failed"] == 20


# --- options ----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [-1, 1, 2.5, "10", True, None])
def test_bad_bootstrap_is_an_input_error_naming_it(cohort400, bad):
    with pytest.raises(InputError) as exc:
        _validate(cohort400, bootstrap=bad)
    assert exc.value.column == "bootstrap"


@pytest.mark.parametrize("bad", [-3, 1.5, "x"])
def test_bad_seed_is_an_input_error_naming_it(cohort400, bad):
    with pytest.raises(InputError) as exc:
        _validate(cohort400, bootstrap=5, seed=bad)
    assert exc.value.column == "seed"


def test_option_names_for_the_cli_and_integral_floats():
    with pytest.raises(InputError, match="option --bootstrap"):
        check_bootstrap_options(-2, None, ("--bootstrap", "--seed"))
    assert check_bootstrap_options(200.0, 1)[0] == 200
    assert check_bootstrap_options(0, 1) == (0, None)


def test_a_replicate_is_the_whole_procedure_on_the_resampled_rows(cohort400):
    # the statistic of a replicate equals validate_score run afresh on those rows (its own
    # censoring Kaplan-Meier, cases, controls and NRI groups): nothing is carried over from
    # the full sample
    d = cohort400
    rng = np.random.default_rng(4)
    for _ in range(3):
        idx = rng.integers(0, len(d), size=len(d))
        sub = d.iloc[idx].reset_index(drop=True)
        t, s = sub["time"].to_numpy(), sub["status"].to_numpy()
        p1, p2 = sub["pred"].to_numpy(), sub["pred2"].to_numpy()
        got = validation_statistics(t, s, p1, TIMES, 1, p1, p2, None, (0.05, 0.1))
        ref = validate_score(sub, time="time", status="status", score=None,
                             predicted="pred", compare="pred2", times=TIMES).to_dict()
        want = ([a["estimate"] for a in ref["auc"]] + [c["estimate"] for c in ref["cindex"]]
                + [r["nri"] for r in ref["nri"]])
        np.testing.assert_array_equal(got, np.asarray(want, float))


def test_model_comparison_uses_only_the_rows_with_both_risks(cohort400):
    # (as validate_score with a gene column: points without a published risk have no
    # reference risk) AUC and C use every row, the NRI only the compared ones
    t, s = cohort400["time"].to_numpy(), cohort400["status"].to_numpy()
    p1, p2 = cohort400["pred"].to_numpy(), cohort400["pred2"].to_numpy()
    both = np.arange(t.size) % 3 != 0
    got = validation_statistics(t, s, p1, TIMES, 1, p1, p2, both, None)
    full = validation_statistics(t, s, p1, TIMES, 1, p1, p2, None, None)
    np.testing.assert_array_equal(got[:6], full[:6])
    want = [r["nri"] for r in nri_competing_times(t[both], s[both], p1[both], p2[both],
                                                  TIMES, 1)]
    np.testing.assert_array_equal(got[6:], want)
    assert not np.allclose(got[6:], full[6:])


# --- the engine -------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-5, 5) | st.just(float("nan")), min_size=2, max_size=60),
       st.sampled_from([0.8, 0.9, 0.95]))
def test_summary_invariants(values, level):
    reps = np.asarray(values).reshape(-1, 1)
    (s,) = summarize_replicates(reps, level)
    ok = reps[np.isfinite(reps)]
    assert s.bootstrap == reps.shape[0] and s.bootstrap_failed == reps.size - ok.size
    if ok.size >= 2:
        assert s.se_boot == pytest.approx(np.std(ok, ddof=1))
        assert ok.min() <= s.ci_lower <= s.ci_upper <= ok.max()
    else:
        assert np.isnan(s.se_boot) and np.isnan(s.ci_lower)


def test_replicates_draw_rows_with_replacement_from_the_given_generator():
    seen = []
    reps = bootstrap_replicates(lambda idx: seen.append(idx) or [idx.mean(), idx.size], 50,
                                40, np.random.default_rng(3))
    draws = np.random.default_rng(3)
    for idx in seen:
        np.testing.assert_array_equal(idx, draws.integers(0, 50, size=50))
    assert reps.shape == (40, 2) and np.all(reps[:, 1] == 50)
    assert any(np.unique(i).size < 50 for i in seen)  # duplicates: with replacement


# --- the fast estimators used per replicate ---------------------------------------------


def _brute_c(t, s, m, tau, tie=0.5):
    """Direct double sum (numpy, cases x n) of Wolbers' IPCW C (module docstring)."""
    km = CensoringKM.fit(t, s)
    gm, g = km.surv(t, left=True), km.surv(t)
    i = np.flatnonzero((t <= tau) & (s == 1))
    ti, tj, sj = t[i][:, None], t[None, :], s[None, :]
    a = (tj > ti) | ((tj == ti) & (sj == 0))
    b = ~a & (tj <= ti) & (sj != 0) & (sj != 1)
    with np.errstate(divide="ignore"):
        wa, wb = 1 / (gm[i] * g[i])[:, None], 1 / np.outer(gm[i], gm)
    if np.any(np.isinf(wa) & a) or np.any(np.isinf(wb) & b):
        return np.nan, int(np.sum(a | b))
    w = np.where(a, wa, 0.0) + np.where(b, wb, 0.0)
    q = (m[i][:, None] > m[None, :]) + tie * (m[i][:, None] == m[None, :])
    return float(np.sum(w * q) / np.sum(w)), int(np.sum(a | b))


@pytest.mark.parametrize("n", [2, 3, 127, 128, 129, 300])
def test_vectorized_c_on_resampled_rows_equals_double_sum(n):
    # resampled rows: duplicated patients give tied times, statuses and markers; sizes
    # around a power of two exercise the dyadic blocks' edges
    d = _cohort(max(n, 40), n)
    rng = np.random.default_rng(n)
    idx = rng.integers(0, len(d), size=n)
    t = np.round(d["time"].to_numpy()[idx], 0) + 1
    s = d["status"].to_numpy()[idx]
    m = np.round(d["pred"].to_numpy()[idx], 1)
    got = cindex_competing_times(t, s, m, [3.0, 12.0, 40.0])
    if n > 100:
        assert all(np.isfinite(e.estimate) for e in got)
    for est in got:
        if not np.any((t <= est.time) & (s == 1)):
            assert np.isnan(est.estimate)
            continue
        want, pairs = _brute_c(t, s, m, est.time)
        assert est.comparable_pairs == pairs
        if np.isnan(want):
            assert np.isnan(est.estimate) and est.reason
        else:
            assert est.estimate == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_multi_horizon_cif_equals_cmprsk_estimator(seed):
    rng = np.random.default_rng(seed)
    n = 80
    t = np.round(rng.exponential(6, n), 0) + 1
    s = rng.choice([0, 1, 2], n)
    ts = np.array([0.5, 1.0, 3.0, 7.5, 12.0, t.max(), t.max() + 1])
    got = _cif_at(t, s, ts, 1)
    curve = cumulative_incidence(t, s).curves["1"]["1"]
    want, _ = curve.at(ts)
    np.testing.assert_allclose(got[:-1], want[:-1], rtol=1e-14, atol=0)
    # after the last time: undefined unless everyone left then had an event (final CIF)
    if np.any(s[t == t.max()] == 0):
        assert np.isnan(got[-1])
    else:
        assert got[-1] == got[-2]
