"""validate_score: the whole validation on a table, against the riskRegression/cmprsk fixture."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import load_reference
from drivervte.errors import InputError
from drivervte.scores.validation import validate_score
from drivervte.scores.validation_calibration import calibration_table
from tolerances import RTOL_EXACT

REF = load_reference("riskregression_score")


@pytest.fixture(scope="module")
def cohort300() -> pd.DataFrame:
    return pd.DataFrame(REF["data"]["cohort300"])


def _case(name):
    return next(c for c in REF["cases"] if c["name"] == name)


def test_predicted_auc_and_contrast_match_score(cohort300):
    res = validate_score(cohort300, time="time", status="status", predicted="pred",
                         compare="pred_gene", times=[3, 6, 12])
    case = _case("cohort300_pred")
    ref = case["auc"][0]
    np.testing.assert_allclose([a["estimate"] for a in res.auc], ref["AUC"], rtol=RTOL_EXACT)
    np.testing.assert_allclose([a["se"] for a in res.auc], ref["se"], rtol=RTOL_EXACT)
    ct = case["contrasts"]
    np.testing.assert_allclose([d["estimate"] for d in res.delta_auc], ct["delta"], rtol=1e-9)
    np.testing.assert_allclose([d["se"] for d in res.delta_auc], ct["se"], rtol=RTOL_EXACT)
    np.testing.assert_allclose([a["estimate"] for a in res.comparison["auc"]],
                               case["auc"][1]["AUC"], rtol=RTOL_EXACT)
    assert res.n == 300 and res.events == {"1": 160, "2": 71} and res.n_censored == 69
    assert res.excluded == []
    # calibration by quartiles of the predicted risk: expected = mean predicted risk
    rows = [r for r in res.calibration if r["time"] == 6.0]
    assert len(rows) == 4 and sum(r["n"] for r in rows) == 300
    for r in rows:
        lo, hi = r["group"].split("(")[1].rstrip("]").split(", ")
        assert float(lo) - 1e-3 <= r["expected"] <= float(hi) + 1e-3
    assert {n["type"] for n in res.nri} == {"continuous", "category"}


def test_to_dict_keys_and_json(cohort300):
    res = validate_score(cohort300, time="time", status="status", predicted="pred",
                         times=[6])
    d = res.to_dict()
    for key in ("n", "events", "auc", "calibration", "cindex", "delta_auc", "excluded",
                "warnings", "disclaimer"):
        assert key in d
    assert set(d["auc"][0]) >= {"time", "estimate", "se", "lower", "upper"}
    assert set(d["calibration"][0]) >= {"time", "group", "n", "observed",
                                        "observed_variance", "expected"}
    assert d["delta_auc"] is None and "_data" not in d
    json.loads(res.to_json())
    assert "Discrimination" in res.summary()


def test_calibration_matches_cmprsk_timepoints(cohort300):
    ref = REF["cuminc"][0]
    grp = np.minimum(cohort300["points"].to_numpy(), 3).astype(str)
    rows, _ = calibration_table(cohort300["time"].to_numpy(), cohort300["status"].to_numpy(),
                                grp, ref["times"], {}, cause=1)
    est = np.array(ref["est"])
    var = np.array(ref["var"])
    for r in rows:
        i = ref["rows"].index(f"{r['group']} 1")
        k = ref["times"].index(r["time"])
        np.testing.assert_allclose(r["observed"], est[i, k], rtol=RTOL_EXACT)
        np.testing.assert_allclose(r["observed_variance"], var[i, k], rtol=RTOL_EXACT)
        assert r["expected"] is None


def _khorana_table(n=120, seed=5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "site": "lung",
        "platelets": rng.choice([200.0, 400.0], n),
        "hb": rng.choice([9.0, 12.0], n),
        "leukocytes": rng.choice([6.0, 12.0], n),
        "bmi": rng.choice([22.0, 36.0], n, p=[0.9, 0.1]),
        "months": np.round(rng.exponential(10, n), 1) + 0.1,
        "status": rng.choice([0, 1, 2], n, p=[0.3, 0.3, 0.4]),
    })
    return df


def test_khorana_groups_expected_only_at_the_published_horizon():
    df = _khorana_table()
    df.loc[[3, 10], "bmi"] = np.nan
    res = validate_score(df, time="months", status="status", times=[3, 6, 12])
    assert res.marker == "points" and res.n == 118
    assert [e["row"] for e in res.excluded] == [3, 10]
    assert all("score items missing" in e["reason"] for e in res.excluded)
    for r in res.calibration:
        if r["time"] == 6.0:
            assert r["expected"] in (0.038, 0.096, 0.177)
        else:
            assert r["expected"] is None
    labels = [r["group"] for r in res.calibration if r["time"] == 6.0]
    assert labels == sorted(labels, key=lambda g: int(g.lstrip(">=")))


def test_gene_comparison_uses_the_gene_adjusted_risk():
    df = _khorana_table()
    df["gene"] = np.where(np.arange(len(df)) % 3 == 0, "ALK", "none")
    res = validate_score(df, time="months", status="status", times=[6], gene_column="gene")
    assert res.comparison["reference"] == "published risk"
    assert "gene-adjusted" in res.comparison["model"]
    assert res.delta_auc is not None and len(res.delta_auc) == 1
    assert any("gene-adjusted risk applied" in w for w in res.warnings)


def test_unknown_gene_names_rows():
    df = _khorana_table(10)
    df["gene"] = ["XYZ"] + ["none"] * 9
    with pytest.raises(InputError) as ei:
        validate_score(df, time="months", status="status", gene_column="gene")
    assert ei.value.column == "gene" and ei.value.rows == [0]


def test_missing_time_and_predicted_are_excluded_with_reasons(cohort300):
    df = cohort300.copy()
    df.loc[0, "time"] = np.nan
    df.loc[5, "pred"] = np.nan
    res = validate_score(df, time="time", status="status", predicted="pred", times=[6])
    assert res.n == 298
    assert res.excluded == [{"row": 0, "reason": "missing follow-up time (time)"},
                            {"row": 5, "reason": "missing predicted risk (pred)"}]


@pytest.mark.parametrize(("column", "value", "message"), [
    ("time", -1.0, "negative"), ("status", 1.5, "integers"), ("pred", 1.2, "between 0 and 1"),
])
def test_bad_values_name_column_and_row(cohort300, column, value, message):
    df = cohort300.astype({column: float})
    df.loc[7, column] = value
    with pytest.raises(InputError) as ei:
        validate_score(df, time="time", status="status", predicted="pred")
    assert ei.value.column == column and ei.value.rows == [7] and message in str(ei.value)


def test_unknown_column_and_bad_times(cohort300):
    with pytest.raises(InputError, match="no such column"):
        validate_score(cohort300, time="months", status="status", predicted="pred")
    with pytest.raises(InputError, match="positive"):
        validate_score(cohort300, time="time", status="status", predicted="pred", times=[0])


def test_all_censored_gives_nan_with_reasons():
    df = pd.DataFrame({"t": [1.0, 2, 3, 4], "s": [0, 0, 0, 0], "p": [.1, .2, .3, .4]})
    res = validate_score(df, time="t", status="s", predicted="p", times=[2], n_groups=2)
    assert np.isnan(res.auc[0]["estimate"]) and res.auc[0]["reason"]
    assert any("every row is censored" in w for w in res.warnings)
    assert all(r["observed"] == 0.0 for r in res.calibration)


def test_constant_marker_auc_half(cohort300):
    df = cohort300.assign(const=0.1)
    res = validate_score(df, time="time", status="status", predicted="const", times=[6])
    assert res.auc[0]["estimate"] == pytest.approx(0.5)
    assert res.cindex[0]["estimate"] == pytest.approx(0.5)
    assert any("constant" in w for w in res.warnings)


def test_no_case_by_first_time():
    df = pd.DataFrame({"t": [5.0, 6, 7, 8, 9], "s": [1, 0, 2, 1, 0],
                       "p": [.5, .1, .2, .4, .3]})
    res = validate_score(df, time="t", status="s", predicted="p", times=[2, 8], n_groups=1)
    assert res.auc[0]["estimate"] is None or np.isnan(res.auc[0]["estimate"])
    assert "no event of cause 1 by time 2" in res.auc[0]["reason"]
    assert res.auc[1]["estimate"] == pytest.approx(1.0)


def test_tiny_cohort_and_times_after_follow_up():
    df = pd.DataFrame({"t": [0.0, 0, 3, 4], "s": [1, 2, 0, 1], "p": [.2, .1, .3, .3]})
    res = validate_score(df, time="t", status="s", predicted="p", times=[2, 50], n_groups=2)
    # at 2: one case (p .2) vs controls .1 (competing at 0), .3, .3 (event-free) -> 1/3
    assert res.auc[0]["estimate"] == pytest.approx(1 / 3)
    assert res.auc[1]["estimate"] == 1.0  # cases .2 and .3 vs the competing .1
    assert any("after the last follow-up (4)" in w for w in res.warnings)
    one = validate_score(df.iloc[:1], time="t", status="s", predicted="p", times=[2])
    assert one.n == 1 and np.isnan(one.auc[0]["estimate"]) and one.auc[0]["reason"]
