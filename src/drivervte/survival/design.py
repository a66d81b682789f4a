"""Covariate columns -> numeric design matrix (no intercept), with explicit, documented rules.

Column kinds, decided per column in this order:

1. **Boolean** (``bool`` / pandas ``boolean`` dtype, or Python ``True``/``False`` objects):
   coded 1/0, named ``col``.
2. **Gene flag** (text column whose every non-missing value, case-folded and stripped, is in
   :data:`FLAG_POSITIVE` or :data:`FLAG_NEGATIVE`, e.g. ``yes/no``, ``+/-``, ``mutant/wt``):
   coded 1 (positive) / 0 (negative), named ``col``.
3. **Numeric** (numeric dtype, or text whose every value parses as a number): used as is,
   named ``col``. Name it in ``categorical=`` to get dummies instead.
4. **Categorical** (pandas ``category`` dtype, or any other text column): treatment dummies
   ``col[T.level]`` for every level except the reference. The reference is
   ``reference[col]`` if given, else the first level: for a pandas ``Categorical`` the first
   *observed* category in its declared order (as an R ``factor``), otherwise the first in sorted
   order (numbers numerically, text lexicographically, as R sorts ``character`` levels in
   the C locale).

A text column where at least half the values parse as numbers but some do not is treated
as a typo, not as a category: :class:`~drivervte.errors.InputError` names the rows.

Missing values (``NaN``, ``None``, ``pd.NA``, empty or blank strings) are an error here;
:func:`drivervte.survival.cohort.prepare_cohort` decides beforehand whether to exclude them.
A constant column (or a categorical column with a single observed level) is an error: it
carries no information and makes the model unidentifiable.

The coding matches R's ``model.matrix`` with ``contr.treatment`` (what ``coxph`` and
``cmprsk::crr`` users build with ``model.matrix(~ ., data)[, -1]``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from drivervte.errors import InputError

__all__ = [
    "FLAG_NEGATIVE",
    "FLAG_POSITIVE",
    "check_categorical_input",
    "design_matrix",
    "missing_mask",
]

#: Text values read as a positive binary flag (case-insensitive, surrounding blanks ignored).
FLAG_POSITIVE = frozenset(
    {"yes", "y", "true", "t", "+", "pos", "positive", "mut", "mutant", "mutated"}
)
#: Text values read as a negative binary flag (case-insensitive, surrounding blanks ignored).
FLAG_NEGATIVE = frozenset(
    {"no", "n", "false", "f", "-", "neg", "negative", "wt", "wildtype", "wild-type", "wild type"}
)


def _is_text(values: pd.Series) -> bool:
    return values.dtype == object or pd.api.types.is_string_dtype(values.dtype)


def positional(values: pd.Series) -> pd.Series:
    """``values`` indexed 0..n-1: the Series itself when it already is (no copy of a
    million-row column), else ``values.reset_index(drop=True)``."""
    idx = values.index
    if isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1:
        return values
    return values.reset_index(drop=True)


Factor = tuple[np.ndarray, list[Any]]


def _factor(values: pd.Series, fac: Factor | None = None) -> Factor:
    """Codes (-1 for missing) and distinct values: text columns are classified per distinct
    value, not per row, so a million-row column costs one hash pass. ``fac`` (this
    column's factorisation, computed before) is returned as is: callers factorise once."""
    if fac is not None:
        return fac
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.asarray(codes), list(uniques)


def missing_mask(values: pd.Series, fac: Factor | None = None) -> np.ndarray:
    """Boolean mask of missing entries: NaN/None/NA and empty or blank strings.

    For a text column the mask comes from its factorisation (code -1 is exactly what
    ``isna`` flags: None, NaN, NA, NaT, Decimal NaN), which is one hash pass instead of
    ``isna``'s per-object test plus that pass."""
    if _is_text(values):
        codes, uniq = _factor(values, fac)
        mask = codes < 0
        blank = [i for i, u in enumerate(uniq) if isinstance(u, str) and not u.strip()]
        if blank:
            mask |= np.isin(codes, blank)
        return mask
    return np.array(values.isna(), dtype=bool)  # a writable copy (pandas 3: read-only views)


def _positions(mask: np.ndarray, rows: np.ndarray | None) -> list[int]:
    idx = np.flatnonzero(mask)
    return (rows[idx] if rows is not None else idx).tolist()


def _to_numeric(values: pd.Series, fac: Factor | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Parse to float; returns (values, mask of entries that failed to parse)."""
    if not _is_text(values) and not isinstance(values.dtype, pd.CategoricalDtype):
        out = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        return out, np.isnan(out)
    codes, uniq = _factor(values, fac)
    stripped = [u.strip() if isinstance(u, str) else u for u in uniq]
    parsed = pd.to_numeric(pd.Series(stripped, dtype=object), errors="coerce")
    table = np.append(parsed.to_numpy(dtype=float, na_value=np.nan), np.nan)
    out = table[codes]  # code -1 (missing) picks the trailing NaN
    return out, np.isnan(out)


def _is_bool_series(values: pd.Series, fac: Factor | None = None) -> bool:
    if pd.api.types.is_bool_dtype(values.dtype):
        return True
    if values.dtype == object:
        _, uniq = _factor(values, fac)
        return all(isinstance(v, (bool, np.bool_)) for v in uniq)
    return False


def _flag_codes(values: pd.Series, fac: Factor | None = None) -> np.ndarray | None:
    """1/0 codes (float) if every value is a recognised flag word, else None."""
    if not _is_text(values):
        return None
    codes, uniq = _factor(values, fac)
    if (codes < 0).any() or not all(isinstance(u, str) for u in uniq):
        return None
    folded = [u.strip().casefold() for u in uniq]
    if not all(f in FLAG_POSITIVE or f in FLAG_NEGATIVE for f in folded):
        return None
    return np.array([f in FLAG_POSITIVE for f in folded], dtype=float)[codes]


def _levels(values: pd.Series, fac: Factor | None = None) -> list[Any]:
    """Observed levels: declared order for a Categorical, sorted order otherwise."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna().unique().tolist())
        return [c for c in values.cat.categories.tolist() if c in present]
    _, uniq = _factor(values, fac)
    try:
        return sorted(uniq)
    except TypeError:  # mixed types: sort by text
        return sorted(uniq, key=str)


class _Dummies:
    """Treatment dummies of one categorical column, written into ``X`` only at the end:
    column ``j`` of the block is ``level_idx == emit[j]``."""

    def __init__(self, level_idx: np.ndarray, emit: list[int]) -> None:
        self.level_idx = level_idx
        self.emit = emit

    @property
    def width(self) -> int:
        return len(self.emit)

    def write(self, out: np.ndarray, lo: int, hi: int) -> None:
        """Rows ``lo:hi`` of the block into ``out`` (those rows of its columns)."""
        idx = self.level_idx[lo:hi]
        for j, i in enumerate(self.emit):
            np.equal(idx, i, out=out[:, j], casting="unsafe")


def _categorical(
    col: str,
    values: pd.Series,
    ref: Any,
    fac: Factor | None = None,
) -> tuple[_Dummies, list[str]]:
    levels = _levels(values, fac)
    if len(levels) < 2:
        raise InputError(
            f"categorical covariate has a single level ({levels[0]!r}) in the rows used; "
            "drop it from the covariates",
            column=col,
        )
    if ref is None:
        ref_level = levels[0]
    else:
        matches = [lv for lv in levels if lv == ref or str(lv) == str(ref)]
        if not matches:
            raise InputError(
                f"reference level {ref!r} is not among the observed levels "
                f"{[str(lv) for lv in levels]}; choose one of them",
                column=col,
            )
        ref_level = matches[0]
    codes, uniq = _factor(values, fac)
    position = {lv: i for i, lv in enumerate(levels)}
    level_of_code = np.array([position[u] for u in uniq], dtype=np.intp)
    level_idx = level_of_code[codes]
    ref_idx = position[ref_level]
    emit = [i for i in range(len(levels)) if i != ref_idx]
    return _Dummies(level_idx, emit), [f"{col}[T.{levels[i]}]" for i in emit]


def _plain_numeric(values: pd.Series) -> np.ndarray | None:
    """The column's own NumPy array (no copy) for plain bool/int/float dtypes, else None.
    It is cast to float only when written into the design matrix."""
    dt = values.dtype
    if isinstance(dt, np.dtype) and dt.kind in "biuf":
        return values.to_numpy(copy=False)
    return None


def _one_column(
    col: str,
    values: pd.Series,
    *,
    ref: Any,
    categorical: bool,
    rows: np.ndarray | None,
    fac: Factor | None = None,
) -> tuple[np.ndarray | _Dummies, list[str]]:
    """One covariate: a 1-D numeric array (bool, int or float; cast to float when written
    into ``X``) named ``col``, or the dummies of a categorical column."""
    if categorical or isinstance(values.dtype, pd.CategoricalDtype):
        return _categorical(col, values, ref, fac)
    x: np.ndarray | None = None
    if _is_bool_series(values, fac) or pd.api.types.is_numeric_dtype(values.dtype):
        x = _plain_numeric(values)
        if x is None:
            x = values.to_numpy(dtype=float)
    else:
        x = _flag_codes(values, fac)
        if x is None:
            parsed, bad = _to_numeric(values, fac)
            if not bad.any():
                x = parsed
            elif bad.mean() <= 0.5:
                raise InputError(
                    "mostly numeric column has values that are not numbers; fix them (decimal "
                    "point, not comma) or declare the column categorical (categorical= in the API, "
                    "--categorical on the command line)",
                    column=col,
                    rows=_positions(bad, rows),
                )
            else:
                return _categorical(col, values, ref, fac)
    if ref is not None:
        raise InputError(
            f"a reference level ({ref!r}) was given but the column is numeric, boolean or a "
            f"yes/no flag; declare '{col}' categorical (categorical= in the API, "
            "--categorical on the command line) to code it with dummies",
            column=col,
        )
    if x.dtype.kind == "f":
        bad = ~np.isfinite(x)
        if bad.any():
            raise InputError(
                "covariate values must be finite (found infinite values)",
                column=col,
                rows=_positions(bad, rows),
            )
    return x, [col]


def check_categorical_input(categorical: Any, data: Any) -> None:
    """``categorical=`` codes columns of a table: an :class:`InputError` (naming
    ``categorical``) if it is given with arrays instead of a table (``data=None``)."""
    if categorical and data is None:
        raise InputError("categorical= needs data (a table); code arrays yourself",
                         column="categorical")


def design_matrix(
    df: pd.DataFrame,
    covariates: Sequence[str] | str,
    reference: Mapping[str, Any] | None = None,
    *,
    categorical: Iterable[str] = (),
    rows: np.ndarray | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Build the n x p design matrix (no intercept) for ``covariates`` of ``df``.

    Parameters
    ----------
    df:
        The table (one row per patient).
    covariates:
        Column names, in the order wanted. An empty sequence gives an n x 0 matrix.
    reference:
        ``{column: level}`` reference levels for categorical columns.
    categorical:
        Columns to code with treatment dummies even if numeric (e.g. stage coded 1-4).
    rows:
        Original 0-based row positions of ``df``'s rows, used only in error messages
        (``prepare_cohort`` passes them after excluding rows).

    Returns
    -------
    X, names:
        ``X`` float array of shape (n, p); ``names`` its column names (``col`` for numeric,
        boolean and flag columns; ``col[T.level]`` for dummies).

    Raises
    ------
    InputError
        Unknown column, missing values, non-numeric typos in a numeric column, infinite
        values, constant columns, an unknown reference level.

    Examples
    --------
    >>> import pandas as pd
    >>> X, names = design_matrix(
    ...     pd.DataFrame({"alk": ["+", "-", "+"], "stage": ["IV", "I", "III"]}),
    ...     ["alk", "stage"], reference={"stage": "I"})
    >>> names
    ['alk', 'stage[T.III]', 'stage[T.IV]']
    """
    return _design_matrix(df, covariates, reference, categorical=categorical, rows=rows)


#: Rows per slab when filling ``X``: a (16384, p) slab stays in cache while all its columns
#: are written (column-at-a-time writes into a C-order matrix are ~3x slower at n = 1e6).
_FILL_ROWS = 1 << 14


def _design_matrix(
    df: pd.DataFrame,
    covariates: Sequence[str] | str,
    reference: Mapping[str, Any] | None = None,
    *,
    categorical: Iterable[str] = (),
    rows: np.ndarray | None = None,
    factors: Mapping[str, Factor] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """:func:`design_matrix`; ``factors`` maps text columns of ``df`` to their
    factorisation (``_factor``) when the caller already has it (``prepare_cohort``)."""
    factors = factors or {}
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates)
    reference = dict(reference or {})
    categorical = set(categorical)
    if len(set(covariates)) != len(covariates):
        dup = sorted({c for c in covariates if covariates.count(c) > 1})
        raise InputError(f"covariates listed twice: {dup}", column=dup[0])
    unknown = [c for c in [*covariates, *reference, *categorical] if c not in df.columns]
    if unknown:
        raise InputError(
            f"no such column; the table has {list(map(str, df.columns))}", column=str(unknown[0])
        )
    stray = [c for c in [*reference, *categorical] if c not in covariates]
    if stray:
        raise InputError("named in reference/categorical but not in covariates", column=stray[0])
    n = len(df)
    if rows is not None and len(rows) != n:
        raise ValueError("rows must have one entry per row of df")
    # Pass 1, column by column (errors in covariate order): classify and validate, keeping
    # each column's own array (no float copy) or its dummy codes. Pass 2: one C-order
    # float64 allocation, filled in slabs of rows.
    blocks: list[np.ndarray | _Dummies] = []
    names: list[str] = []
    for col in covariates:
        values = positional(df[col])
        fac = None
        if _is_text(values):  # factorised once per text column
            fac = factors[col] if col in factors else _factor(values)
        miss = missing_mask(values, fac)
        if miss.any():
            raise InputError(
                "missing values; fill them or use missing='exclude' (complete-case analysis)",
                column=col,
                rows=_positions(miss, rows),
            )
        block, block_names = _one_column(
            col,
            values,
            ref=reference.get(col),
            categorical=col in categorical,
            rows=rows,
            fac=fac,
        )
        if isinstance(block, np.ndarray) and n > 0 and block.min() == block.max():
            raise InputError(
                f"constant covariate (every used row is {float(block[0]):g}); it carries no "
                "information: drop it from the covariates",
                column=col,
            )
        blocks.append(block)
        names.extend(block_names)
    X = np.empty((n, len(names)), dtype=float)
    for lo in range(0, n, _FILL_ROWS):
        hi = min(lo + _FILL_ROWS, n)
        j = 0
        for block in blocks:
            if isinstance(block, _Dummies):
                block.write(X[lo:hi, j : j + block.width], lo, hi)
                j += block.width
            else:
                X[lo:hi, j] = block[lo:hi]
                j += 1
    return X, names
