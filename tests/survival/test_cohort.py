"""Reading and validating cohort tables (prepare_cohort, read_table, dates)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from drivervte.errors import InputError
from drivervte.survival.cohort import (
    DAYS_PER_UNIT,
    prepare_cohort,
    prepare_cohort_from_dates,
)


@pytest.fixture
def df():
    return pd.DataFrame(
        {
            "t": [5.0, 3.0, 0.0, 7.5, 2.0, 9.0],
            "s": [1, 0, 2, 1, 0, 2],
            "alk": ["+", "-", "-", "+", "-", "-"],
            "stage": ["IV", "I", "III", "I", "IV", "III"],
            "age": [61, 70, 58, 45, 66, 72],
            "site": ["b", "a", "a", "b", "c", "c"],
        }
    )


def test_prepare_basic(df):
    c = prepare_cohort(df, time="t", status="s", covariates=["alk", "stage", "age"],
                       reference={"stage": "I"}, group="alk", strata="site")  # fmt: skip
    assert c.n == 6 and c.n_input == 6 and c.excluded == []
    assert c.causes == [1, 2]
    assert c.covariate_names == ["alk", "stage[T.III]", "stage[T.IV]", "age"]
    assert c.X.shape == (6, 4)
    assert c.group_labels == ["+", "-"] and c.group.tolist() == [0, 1, 1, 0, 1, 1]
    assert c.strata_labels == ["a", "b", "c"] and c.strata.tolist() == [1, 0, 0, 1, 2, 2]
    assert c.time.dtype == float and c.status.dtype == np.int64
    assert c.rows.tolist() == list(range(6))
    d = c.to_dict()
    assert d["events"] == {"1": 2, "2": 2} and d["n_censored"] == 2
    assert "rows used" in c.summary()


def test_time_zero_kept_by_default_excluded_or_error_on_request(df):
    assert prepare_cohort(df, time="t", status="s").time.min() == 0.0
    c = prepare_cohort(df, time="t", status="s", zero_time="exclude")
    assert c.n == 5 and c.excluded == [
        {"row": 2, "reason": "follow-up time 0 (zero_time='exclude')"}
    ]
    with pytest.raises(InputError) as exc:
        prepare_cohort(df, time="t", status="s", zero_time="error")
    assert exc.value.rows == [2]


def test_negative_and_infinite_times_name_rows(df):
    bad = df.assign(t=[5.0, -1.0, 0.0, 7.5, -2.0, 9.0])
    with pytest.raises(InputError) as exc:
        prepare_cohort(bad, time="t", status="s")
    assert exc.value.column == "t" and exc.value.rows == [1, 4]
    assert "rows 2, 5" in str(exc.value)
    with pytest.raises(InputError) as exc:
        prepare_cohort(df.assign(t=[1, np.inf, 1, 1, 1, 1]), time="t", status="s")
    assert exc.value.rows == [1]
    with pytest.raises(InputError) as exc:
        prepare_cohort(df.assign(t=["1", "x", "2", "3", "4", "5"]), time="t", status="s")
    assert exc.value.rows == [1]


def test_status_codes(df):
    with pytest.raises(InputError) as exc:
        prepare_cohort(df.assign(s=[1, 0, 3, 1, 7, 2]), time="t", status="s", causes=[1, 2])
    assert "[3, 7]" in str(exc.value) and exc.value.rows == [2, 4]
    with pytest.raises(InputError) as exc:
        prepare_cohort(df.assign(s=[1, 0, 1.5, 1, 0, 2]), time="t", status="s")
    assert exc.value.rows == [2]
    with pytest.raises(InputError) as exc:
        prepare_cohort(df.assign(s=[1, 0, -1, 1, 0, 2]), time="t", status="s")
    assert exc.value.rows == [2]
    with pytest.raises(InputError, match="no events"):
        prepare_cohort(df.assign(s=0), time="t", status="s")
    # a declared cause without events is kept and reported
    c = prepare_cohort(df.assign(s=[1, 0, 1, 1, 0, 0]), time="t", status="s", causes=[1, 2])
    assert c.causes == [1, 2] and c.causes_without_events == [2]


def test_missing_error_and_exclude(df):
    gaps = df.assign(age=[61, None, 58, 45, None, 72], site=["b", "a", None, "b", "c", "c"])
    with pytest.raises(InputError) as exc:
        prepare_cohort(gaps, time="t", status="s", covariates=["age"], strata="site")
    assert exc.value.column == "age" and exc.value.rows == [1, 4]
    c = prepare_cohort(gaps, time="t", status="s", covariates=["age"], strata="site",
                       missing="exclude")  # fmt: skip
    assert c.rows.tolist() == [0, 3, 5]
    assert c.excluded == [
        {"row": 1, "reason": "missing value in 'age'"},
        {"row": 2, "reason": "missing value in 'site'"},
        {"row": 4, "reason": "missing value in 'age'"},
    ]
    assert c.to_dict()["n_excluded"] == 3


def test_constant_covariate_after_exclusion_is_an_error(df):
    gaps = df.assign(alk=["+", None, "-", None, "-", "-"], age=[1, 2, None, 4, 5, 6])
    with pytest.raises(InputError) as exc:
        prepare_cohort(gaps.assign(alk=["+", "-", "-", "+", "+", "+"]).iloc[[0, 3, 4, 5]],
                       time="t", status="s", covariates=["alk"])  # fmt: skip
    assert exc.value.column == "alk" and "constant" in str(exc.value)


def test_entry_times(df):
    c = prepare_cohort(df.assign(e=[1, 0, 0, 2, 1, 3]).iloc[[0, 1, 3, 4, 5]], time="t",
                       status="s", entry="e")  # fmt: skip
    assert c.entry.tolist() == [1, 0, 2, 1, 3]
    with pytest.raises(InputError) as exc:
        prepare_cohort(df.assign(e=[1, 3, 0, 2, 1, 3]).iloc[[0, 1, 3]], time="t", status="s",
                       entry="e")  # fmt: skip
    assert exc.value.column == "e" and exc.value.rows == [1]


def test_unknown_column(df):
    with pytest.raises(InputError) as exc:
        prepare_cohort(df, time="time", status="s")
    assert exc.value.column == "time" and "the table has" in str(exc.value)


def _dates():
    return pd.DataFrame(
        {
            "dx": ["2020-01-01"] * 5,
            "vte": ["2020-03-01", None, "2020-02-01", None, "2020-01-01"],
            "death": ["2020-03-01", "2020-05-01", "2020-06-01", None, None],
            "last": ["2020-06-01", "2020-06-01", "2020-06-01", "2021-01-01", "2020-02-01"],
        }
    )


def test_dates_rules():
    out = prepare_cohort_from_dates(_dates(), start="dx", event_date="vte", death_date="death",
                                    last_followup="last")  # fmt: skip
    # same-day VTE and death -> VTE; death without VTE -> 2; VTE before death -> 1; censored
    assert out["status"].tolist() == [1, 2, 1, 0, 1]
    days = np.array([60, 121, 31, 366, 0])
    np.testing.assert_allclose(out["time"], days / DAYS_PER_UNIT["months"])
    assert DAYS_PER_UNIT["months"] == 365.25 / 12
    years = prepare_cohort_from_dates(_dates(), start="dx", event_date="vte",
                                      death_date="death", last_followup="last", unit="years")  # fmt: skip
    np.testing.assert_allclose(years["time"], days / 365.25)
    c = prepare_cohort(out, time="time", status="status")
    assert c.causes == [1, 2]


@pytest.mark.parametrize(
    ("change", "column", "rows"),
    [
        ({"vte": ["2019-12-01", None, None, None, None]}, "vte", [0]),
        ({"vte": ["2020-04-01", None, None, None, None]}, "vte", [0]),  # after death
        ({"death": [None, "2020-07-01", None, None, None]}, "death", [1]),  # after last f-up
        ({"last": ["2020-06-01", "2020-06-01", "2020-06-01", None, "2020-02-01"]}, "last", [3]),
        ({"dx": ["2020-01-01", "not a date", "2020-01-01", "2020-01-01", "2020-01-01"]}, "dx", [1]),
    ],
)
def test_dates_errors(change, column, rows):
    df = _dates()
    for k, v in change.items():
        df[k] = v
    with pytest.raises(InputError) as exc:
        prepare_cohort_from_dates(df, start="dx", event_date="vte", death_date="death",
                                  last_followup="last")  # fmt: skip
    assert exc.value.column == column and exc.value.rows == rows


# --- no copies: any index, the cohort owns its arrays ----------------------------------


def test_prepare_any_index_no_aliasing(df):
    shuffled = df.set_axis([10, 3, 99, 4, 0, 7])
    before = shuffled.copy()
    a = prepare_cohort(shuffled, time="t", status="s", covariates=["alk", "stage", "age"],
                       group="site", strata="alk")  # fmt: skip
    b = prepare_cohort(df, time="t", status="s", covariates=["alk", "stage", "age"],
                       group="site", strata="alk")  # fmt: skip
    for f in ("time", "status", "X", "rows", "group", "strata"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    assert a.X.dtype == np.float64 and a.X.flags.c_contiguous
    # the cohort owns its arrays: writing to them leaves the caller's table unchanged
    a.time[:] = -1.0
    a.X[:] = -1.0
    pd.testing.assert_frame_equal(shuffled, before)


def test_prepare_excluded_rows_same_as_subset(df):
    gaps = df.copy()
    gaps.loc[[1, 4], "age"] = np.nan
    c = prepare_cohort(gaps, time="t", status="s", covariates=["alk", "age"], missing="exclude")
    ref = prepare_cohort(df.drop(index=[1, 4]), time="t", status="s", covariates=["alk", "age"])
    assert c.rows.tolist() == [0, 2, 3, 5] and [e["row"] for e in c.excluded] == [1, 4]
    np.testing.assert_array_equal(c.X, ref.X)
    np.testing.assert_array_equal(c.time, ref.time)
