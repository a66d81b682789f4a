"""Declared cause codes: validation of ``causes=`` and the status-code check.

The estimators' use of them is tested in test_finegray.py, test_cox.py and test_cuminc.py;
the ``--causes`` CLI option in tests/cli/test_causes_cli.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivervte.errors import InputError
from drivervte.survival.causes import check_status_codes, normalize_causes


def test_none_means_undeclared():
    assert normalize_causes(None) is None
    assert normalize_causes(None, cause=7) is None  # nothing to check the cause against
    check_status_codes(np.array([0, 1, 9, 42]), None)  # no declared causes: no check


def test_sorted_distinct_ints():
    assert normalize_causes([2, 1, 2]) == [1, 2]
    assert normalize_causes(np.array([3.0, 1.0])) == [1, 3]
    assert all(type(c) is int for c in normalize_causes((np.int64(2), 1.0)))
    assert normalize_causes(range(1, 4), cause=3) == [1, 2, 3]


@pytest.mark.parametrize(
    ("causes", "needle"),
    [
        ([], "at least one"),
        ("1,2", "list of integers"),
        (3, "list of integers"),
        ([1.5], "non-negative integers"),
        ([-1], "non-negative integers"),
        ([True], "non-negative integers"),
        (["a"], "non-negative integers"),
        ([float("nan")], "non-negative integers"),
        ([0, 1], "censoring code"),
    ],
)
def test_bad_causes_name_the_argument(causes, needle):
    with pytest.raises(InputError, match=needle) as err:
        normalize_causes(causes)
    assert err.value.column == "causes"


def test_censoring_code_other_than_zero():
    assert normalize_causes([0, 1], cencode=9) == [0, 1]  # 0 may be a cause then
    with pytest.raises(InputError, match="9 is the censoring code"):
        normalize_causes([1, 9], cencode=9)


def test_cause_must_be_declared_and_names_the_option():
    with pytest.raises(InputError) as err:
        normalize_causes([1, 2], cause=3, column="--causes", cause_column="--cause")
    assert err.value.column == "--cause"
    assert str(err.value).startswith("option --cause: cause 3 is not one of")
    assert "add it to --causes" in str(err.value)


def test_unknown_codes_name_column_codes_and_input_rows():
    s = np.array([0, 1, 3, 2, 7, 3])
    with pytest.raises(InputError) as err:
        check_status_codes(s, [1, 2], column="vte_status")
    assert err.value.column == "vte_status"
    assert err.value.rows == [2, 4, 5]
    assert "unknown status codes [3, 7]" in str(err.value)
    assert "rows 3, 5, 6" in str(err.value)  # 1-based in the message
    # positions in the user's table when the arrays are a subset of it
    with pytest.raises(InputError) as err:
        check_status_codes(s, [1, 2], rows=np.arange(10, 16))
    assert err.value.rows == [12, 14, 15]


def test_non_integer_code_is_shown_as_is():
    with pytest.raises(InputError, match=r"unknown status codes \[1.5\]"):
        check_status_codes(np.array([0.0, 1.0, 1.5]), [1, 2])


def test_other_censoring_code():
    check_status_codes(np.array([9, 1, 2]), [1, 2], cencode=9)
    with pytest.raises(InputError, match=r"\[0\]; expected 9 \(censored\)"):
        check_status_codes(np.array([9, 1, 0]), [1, 2], cencode=9)


@given(
    status=st.lists(st.integers(0, 6), min_size=1, max_size=40),
    causes=st.sets(st.integers(1, 6), min_size=1),
)
def test_check_raises_exactly_for_undeclared_codes(status, causes):
    s = np.array(status)
    declared = normalize_causes(causes)
    unknown = [i for i, v in enumerate(status) if v != 0 and v not in causes]
    if not unknown:
        check_status_codes(s, declared)
        return
    with pytest.raises(InputError) as err:
        check_status_codes(s, declared)
    assert err.value.rows == unknown
    assert str(sorted({status[i] for i in unknown})) in str(err.value)
