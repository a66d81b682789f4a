"""The user-facing entry point :func:`rma`: tables, effect sizes or arrays in, a model out.

``rma`` turns what the user has into ``yi``/``vi`` and a design matrix, then calls
:func:`~drivervte.meta.rma.fit_rma` (inverse-variance models),
:func:`~drivervte.meta.mantel_haenszel.rma_mh` (``method="MH"``) or
:func:`~drivervte.meta.peto.rma_peto` (``method="PETO"``). Rows left out on the way (a
missing value, an undefined effect size) are listed in the result's ``excluded``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from drivervte.errors import InputError
from drivervte.meta.result import MetaResult
from drivervte.meta.rma import fit_rma

__all__ = ["design_from_columns", "rma"]


def design_from_columns(df: pd.DataFrame, columns: Sequence[str], *,
                        rows: np.ndarray | None = None,
                        intercept: bool = True) -> tuple[np.ndarray, list[str]]:
    """Build a moderator design matrix from table columns.

    Numeric columns are used as they are; other columns (text, categories, booleans) get
    treatment dummies with the first level in sorted order as the reference, named
    ``col[T.level]`` (as R's ``model.matrix`` / patsy). ``rows`` selects (0-based) table rows;
    missing values raise :class:`InputError` naming the column and rows.
    """
    cmap = {str(c).strip().lower(): c for c in df.columns}
    sub = df if rows is None else df.iloc[np.asarray(rows, int)]
    row_pos = np.arange(len(df)) if rows is None else np.asarray(rows, int)
    cols: list[np.ndarray] = []
    names: list[str] = []
    if intercept:
        cols.append(np.ones(len(sub)))
        names.append("intrcpt")
    for name in columns:
        key = str(name).strip().lower()
        if name not in df.columns and key not in cmap:
            raise InputError(f"moderator column '{name}' is not in the table; columns are: "
                             + ", ".join(map(str, df.columns)), column=str(name))
        col = sub[name if name in df.columns else cmap[key]]
        miss = np.flatnonzero(col.isna().to_numpy())
        if miss.size:
            raise InputError("moderator values are missing; fill them in or leave these "
                             "studies out", column=str(name), rows=row_pos[miss])
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            cols.append(col.to_numpy(dtype=float))
            names.append(str(name))
            continue
        values = col.astype(str).to_numpy()
        levels = sorted(set(values))
        if len(levels) < 2:
            raise InputError(f"moderator '{name}' has a single value ('{levels[0]}') among "
                             "the analysed studies; it cannot explain differences",
                             column=str(name))
        for lev in levels[1:]:
            cols.append((values == lev).astype(float))
            names.append(f"{name}[T.{lev}]")
    if not cols:
        raise InputError("no design columns (intercept=False and no moderators)",
                         column="mods")
    return np.column_stack(cols), names


def _is_effect_sizes(obj: Any) -> bool:
    return all(hasattr(obj, a) for a in ("yi", "vi", "measure", "study"))


def _column(df: pd.DataFrame, name: str, what: str) -> pd.Series:
    if name in df.columns:
        return df[name]
    low = {str(c).strip().lower(): c for c in df.columns}
    if str(name).strip().lower() in low:
        return df[low[str(name).strip().lower()]]
    raise InputError(f"{what} column '{name}' is not in the table", column=str(name))


def rma(
    data: Any = None,
    *,
    yi: Any = None,
    vi: Any = None,
    sei: Any = None,
    measure: str | None = None,
    method: str = "REML",
    test: str = "z",
    mods: Any = None,
    intercept: bool = True,
    level: float = 95.0,
    study: Any = None,
    tau2: float | None = None,
    control: dict[str, Any] | None = None,
    add: float | None = None,
    to: str = "only0",
    drop00: bool = False,
) -> MetaResult:
    """Meta-analysis of a table, an :class:`~drivervte.effects.EffectSizes` or arrays.

    Parameters
    ----------
    data : DataFrame, mapping, EffectSizes or None
        - a table: its columns say what it holds (2x2 counts, proportions, ``yi``/``vi``,
          ratio + CI, ratio + p; see :func:`drivervte.effects.from_table`), or name the
          effect-size columns with ``yi=`` and ``vi=``/``sei=``;
        - an ``EffectSizes`` (from ``escalc``/``from_table``);
        - ``None``: give arrays ``yi`` and ``vi`` (or ``sei``).
    yi, vi, sei : str or array_like
        Column names (with a table) or arrays (without).
    measure : str, optional
        Effect measure (``OR``, ``RR``, ``RD``, ``PLO``, ``HR``, ...); with counts it selects
        the effect size, otherwise it labels it (for back-transformation).
    method : str
        ``EE``/``FE``, ``DL``, ``REML`` (default), ``ML``, ``PM``, ``SJ``, ``HE``, ``EB``,
        ``HS``, or ``MH`` / ``PETO`` for 2x2 counts.
    test : str
        ``"z"`` or ``"knha"`` (Knapp-Hartung).
    mods : list of str or array_like, optional
        Moderators: column names of the table (numeric as is, others as treatment dummies
        named ``col[T.level]`` with the first sorted level as reference), or an array
        (k x q) of moderator values **without** an intercept column.
    intercept : bool
        Add an intercept to the moderators (metafor's default).
    level : float
        Confidence level in percent.
    study : str or sequence, optional
        A column name (tables; default: the table's ``study`` column) or labels.
    tau2, control
        Fixed tau² and iteration settings (see :func:`~drivervte.meta.rma.fit_rma`).
    add, to, drop00
        Zero-cell handling passed to ``from_table`` for counts (metafor's ``escalc``).

    Returns
    -------
    MetaResult

    Examples
    --------
    >>> res = rma(yi=[0.1, 0.3, 0.5], vi=[0.01, 0.02, 0.015], method="DL")
    >>> round(res.estimate, 4)
    0.2922
    """
    meth = str(method).upper()
    excluded: list[dict[str, Any]] = []
    notes: list[str] = []
    table: pd.DataFrame | None = None
    rows: np.ndarray | None = None
    ni = None
    counts = None

    if data is None:
        if yi is None or (vi is None and sei is None):
            raise InputError("give a table (data=...) or the arrays yi and vi (or sei)",
                         column="yi")
        y = np.asarray(yi, dtype=float)
        v = _variance(vi, sei, y.size)
        labels = None if study is None else [str(s) for s in study]
        m = measure or "GEN"
    else:
        if _is_effect_sizes(data):
            es = data
        elif isinstance(data, pd.DataFrame | Mapping):
            table = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
            table = table.reset_index(drop=True)
            es = _effects_from_table(table, yi, vi, sei, study, measure, add, to, drop00)
        else:
            raise InputError(f"data must be a table or EffectSizes, not {type(data).__name__}",
                             column="data")
        y, v = np.asarray(es.yi, float), np.asarray(es.vi, float)
        labels = list(es.study)
        m = measure or es.measure
        ni = getattr(es, "ni", None)
        counts = getattr(es, "counts", None)
        rows = getattr(es, "rows", None)
        excluded = list(getattr(es, "excluded", []) or [])
        notes = list(getattr(es, "notes", []) or [])

    if meth in ("MH", "PETO"):
        res = _mh_peto(meth, counts, m, level, labels, mods, test)
    else:
        X, names = _design(mods, table, rows, y.size, intercept)
        res = fit_rma(y, v, X, method=meth, test=test, level=level, tau2=tau2, study=labels,
                      measure=m, ni=ni, control=control, mod_names=names)
    res.excluded = excluded + list(res.excluded)
    res.warnings = notes + list(res.warnings)
    return res


def _variance(vi, sei, k: int) -> np.ndarray:
    if vi is not None:
        return np.asarray(vi, dtype=float)
    s = np.asarray(sei, dtype=float)
    bad = np.flatnonzero(~np.isfinite(s) | (s <= 0))
    if bad.size:
        raise InputError("standard errors must be finite and > 0", column="sei", rows=bad)
    return s * s


def _effects_from_table(table, yi, vi, sei, study, measure, add, to, drop00):
    from drivervte.effects import from_table

    if yi is not None:
        if not isinstance(yi, str) or not isinstance(vi if vi is not None else sei, str):
            raise InputError("with a table, yi and vi (or sei) are column names",
                             column="yi")
        sub = {"yi": _column(table, yi, "yi").to_numpy()}
        if vi is not None:
            sub["vi"] = _column(table, vi, "vi").to_numpy()
        else:
            sub["sei"] = _column(table, sei, "sei").to_numpy()
        scol = study if isinstance(study, str) else None
        if scol is not None:
            sub["study"] = _column(table, scol, "study").to_numpy()
        elif study is not None:
            sub["study"] = list(study)
        elif any(str(c).strip().lower() == "study" for c in table.columns):
            sub["study"] = _column(table, "study", "study").to_numpy()
        names = {"yi": yi, "vi": vi, "sei": sei}
        try:
            es = from_table(pd.DataFrame(sub), measure)
        except InputError as exc:  # name the user's columns, not our internal ones
            raise InputError(_rename(exc.reason, names), column=names.get(
                exc.column, exc.column) if exc.column else None, rows=exc.rows) from None
        for e in es.excluded:
            e["reason"] = _rename(e["reason"], names)
        return es
    if study is not None:
        raise InputError("with a table, name the study column 'study'", column="study")
    kw: dict[str, Any] = {"to": to, "drop00": drop00}
    if add is not None:
        kw["add"] = add
    return from_table(table, measure, **kw)


def _rename(text: str, names: dict[str, Any]) -> str:
    """Replace our internal column names (yi, vi, sei) by the user's in a message."""
    for internal, user in names.items():
        if isinstance(user, str):
            text = re.sub(rf"\b{internal}\b", user, text)
    return text


def _design(mods, table, rows, k, intercept):
    if mods is None:
        if not intercept:
            raise InputError("a model needs an intercept or moderators", column="mods")
        return None, None
    if isinstance(mods, str):
        mods = [mods]
    if isinstance(mods, list | tuple) and all(isinstance(c, str) for c in mods):
        if table is None:
            raise InputError("moderators by column name need a table (data=...)",
                             column="mods")
        return design_from_columns(table, mods, rows=rows, intercept=intercept)
    M = np.asarray(mods, dtype=float)
    if M.ndim == 1:
        M = M[:, None]
    if M.shape[0] != k:
        raise InputError(f"mods has {M.shape[0]} rows for {k} studies", column="mods")
    names = [f"mod{j + 1}" for j in range(M.shape[1])]
    if intercept:
        return np.column_stack([np.ones(k), M]), ["intrcpt", *names]
    return M, names


def _mh_peto(meth, counts, measure, level, labels, mods, test):
    if mods is not None:
        raise InputError(f"{meth} models take no moderators; use an inverse-variance method "
                         "(e.g. REML) for meta-regression", column="mods")
    if test != "z":
        raise InputError(f"{meth} models use z-tests only", column="test")
    if not counts or not all(c in counts for c in ("ai", "bi", "ci", "di")):
        raise InputError(f"method '{meth}' needs 2x2 counts (columns ai, bi, ci, di or ai, "
                         "n1i, ci, n2i)", column="method")
    kw: dict[str, Any] = {"level": level, "study": labels}
    a, b, c, d = (np.asarray(counts[n], float) for n in ("ai", "bi", "ci", "di"))
    if meth == "MH":
        from drivervte.meta.mantel_haenszel import rma_mh

        return rma_mh(a, b, c, d, measure=measure or "OR", **kw)
    from drivervte.meta.peto import rma_peto

    return rma_peto(a, b, c, d, **kw)
