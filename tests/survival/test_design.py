"""Covariates -> design matrix: kinds, dummies, reference levels, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivervte.errors import InputError
from drivervte.survival.design import design_matrix


def test_numeric_bool_flag_and_categorical():
    df = pd.DataFrame(
        {
            "age": [60, 70, 55, 80],
            "female": [True, False, True, False],
            "alk": ["+", "-", "POS ", "neg"],
            "egfr": ["yes", "no", "No", "Y"],
            "stage": ["IV", "I", "III", "IV"],
        }
    )
    X, names = design_matrix(df, ["age", "female", "alk", "egfr", "stage"])
    assert names == ["age", "female", "alk", "egfr", "stage[T.III]", "stage[T.IV]"]
    np.testing.assert_array_equal(X[:, 0], [60, 70, 55, 80])
    np.testing.assert_array_equal(X[:, 1], [1, 0, 1, 0])
    np.testing.assert_array_equal(X[:, 2], [1, 0, 1, 0])
    np.testing.assert_array_equal(X[:, 3], [1, 0, 0, 1])
    # reference = first in sorted order ("I"); "III" < "IV" as text
    np.testing.assert_array_equal(X[:, 4], [0, 0, 1, 0])
    np.testing.assert_array_equal(X[:, 5], [1, 0, 0, 1])


def test_reference_level_and_categorical_numeric():
    df = pd.DataFrame({"gene": ["EGFR", "none", "ALK", "none"], "stage": [1, 4, 3, 4]})
    X, names = design_matrix(df, ["gene", "stage"], reference={"gene": "none", "stage": 1},
                             categorical=["stage"])  # fmt: skip
    assert names == ["gene[T.ALK]", "gene[T.EGFR]", "stage[T.3]", "stage[T.4]"]
    np.testing.assert_array_equal(X, [[0, 1, 0, 0], [0, 0, 0, 1], [1, 0, 1, 0], [0, 0, 0, 1]])


def test_pandas_categorical_keeps_declared_order():
    s = pd.Categorical(["b", "c", "a", "b"], categories=["c", "b", "a"])
    X, names = design_matrix(pd.DataFrame({"x": s}), ["x"])
    assert names == ["x[T.b]", "x[T.a]"]  # reference "c", the first declared level (as R)
    np.testing.assert_array_equal(X, [[1, 0], [0, 0], [0, 1], [1, 0]])


def test_numbers_as_text_are_numeric():
    X, names = design_matrix(pd.DataFrame({"x": ["1.5", " 2", "3"]}), ["x"])
    assert names == ["x"]
    np.testing.assert_array_equal(X[:, 0], [1.5, 2, 3])


def test_empty_covariates_give_n_by_0():
    X, names = design_matrix(pd.DataFrame({"a": [1, 2, 3]}), [])
    assert X.shape == (3, 0) and names == []


@pytest.mark.parametrize(
    ("df", "kwargs", "column", "rows"),
    [
        (pd.DataFrame({"x": [1, np.nan, 3]}), {}, "x", [1]),
        (pd.DataFrame({"x": ["a", " ", "b"]}), {}, "x", [1]),
        (pd.DataFrame({"x": [2, 2, 2]}), {}, "x", []),
        (pd.DataFrame({"x": ["a", "a", "a"]}), {}, "x", []),
        (pd.DataFrame({"x": ["1.5", "2,5", "3", "4"]}), {}, "x", [1]),
        (pd.DataFrame({"x": [1.0, np.inf, 2.0]}), {}, "x", [1]),
        (pd.DataFrame({"x": ["a", "b"]}), {"reference": {"x": "z"}}, "x", []),
        (pd.DataFrame({"x": [1, 2]}), {"reference": {"x": 1}}, "x", []),
        (pd.DataFrame({"x": [1, 2]}), {"covariates": ["y"]}, "y", []),
    ],
)
def test_errors_name_column_and_rows(df, kwargs, column, rows):
    covariates = kwargs.pop("covariates", ["x"])
    with pytest.raises(InputError) as exc:
        design_matrix(df, covariates, **kwargs)
    assert exc.value.column == column
    assert exc.value.rows == rows


def test_rows_map_back_to_original_positions():
    df = pd.DataFrame({"x": [1.0, np.nan]})
    with pytest.raises(InputError) as exc:
        design_matrix(df, ["x"], rows=np.array([10, 42]))
    assert exc.value.rows == [42]
    assert "row 43" in str(exc.value)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["EGFR", "ALK", "ROS1", "KRAS", "none"]), min_size=2,
                max_size=30))  # fmt: skip
def test_dummies_are_treatment_coding(levels):
    if len(set(levels)) < 2:
        levels = [*levels, "other"]
    X, names = design_matrix(pd.DataFrame({"g": levels}), ["g"])
    uniq = sorted(set(levels))
    assert len(names) == len(uniq) - 1
    ref = np.array([v == uniq[0] for v in levels])
    assert np.all(X[ref] == 0)  # reference rows are all zero
    assert np.all(X[~ref].sum(axis=1) == 1)  # every other row has exactly one 1


def test_one_c_order_float_matrix_not_aliasing_the_table():
    df = pd.DataFrame({"f": [1.5, 2.5, 0.5], "i": [1, 2, 3], "b": [True, False, True],
                       "g": ["x", "y", "z"]})  # fmt: skip
    before = df.copy()
    X, names = design_matrix(df, ["f", "i", "b", "g"])
    assert names == ["f", "i", "b", "g[T.y]", "g[T.z]"]
    assert X.dtype == np.float64 and X.flags.c_contiguous and X.flags.owndata
    np.testing.assert_array_equal(X, [[1.5, 1, 1, 0, 0], [2.5, 2, 0, 1, 0], [0.5, 3, 1, 0, 1]])
    X[:] = 0
    pd.testing.assert_frame_equal(df, before)


_ROW = st.tuples(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.integers(-5, 5),
    st.booleans(),
    st.sampled_from(["yes", "no", " Y "]),
    st.sampled_from(["IIIB", "IVA", "IVB"]),
    st.sampled_from(["1.5", "2", " 3 "]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_ROW, min_size=2, max_size=25), st.randoms(use_true_random=False))
def test_rows_permute_with_the_table(rows, rnd):
    """Row i of X codes row i of the table, whatever the index and the row order: X of a
    shuffled table (non-default index) is X with its rows shuffled."""
    df = pd.DataFrame(rows, columns=["f", "i", "b", "flag", "stage", "txt"])
    perm = list(range(len(df)))
    rnd.shuffle(perm)
    cols = list(df.columns)
    try:
        X, names = design_matrix(df, cols)
    except InputError:  # a constant column or single level: the shuffle must agree
        with pytest.raises(InputError):
            design_matrix(df.iloc[perm], cols)
        return
    X2, names2 = design_matrix(df.iloc[perm], cols)  # index is then perm, not 0..n-1
    assert names2 == names
    np.testing.assert_array_equal(X2, X[perm])


def test_fill_in_slabs_across_boundaries():
    """More rows than one fill slab (and not a multiple of it): every row is coded."""
    from drivervte.survival.design import _FILL_ROWS

    n = 2 * _FILL_ROWS + 123
    rng = np.random.default_rng(3)
    f, i = rng.normal(size=n), rng.integers(0, 9, n)
    g = rng.choice(["a", "b", "c"], n)
    X, names = design_matrix(pd.DataFrame({"f": f, "i": i, "g": g}), ["f", "i", "g"])
    assert names == ["f", "i", "g[T.b]", "g[T.c]"]
    np.testing.assert_array_equal(X, np.column_stack([f, i, g == "b", g == "c"]))


def test_missing_mask_text_matches_isna():
    import decimal

    from drivervte.survival.design import missing_mask

    vals = [None, np.nan, pd.NA, pd.NaT, decimal.Decimal("NaN"), "a", "", "  ", 1, "nan", "NA"]
    s = pd.Series(vals, dtype=object)
    blank = np.array([isinstance(v, str) and not v.strip() for v in vals])
    np.testing.assert_array_equal(missing_mask(s), s.isna().to_numpy() | blank)
    assert missing_mask(s).tolist() == [True] * 5 + [False, True, True, False, False, False]
