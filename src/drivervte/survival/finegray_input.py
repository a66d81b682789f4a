"""Input validation for :class:`~drivervte.survival.finegray.FineGray` (DataFrame or arrays)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from drivervte.errors import InputError
from drivervte.survival.causes import check_status_codes
from drivervte.survival.cohort import prepare_cohort

__all__ = ["FGInput", "from_arrays", "from_frame"]


@dataclass
class FGInput:
    """Validated input: rows kept, in input order."""

    time: np.ndarray
    status: np.ndarray
    X: np.ndarray
    X2: np.ndarray
    names: list[str]
    group: np.ndarray
    entry: np.ndarray | None
    rows: np.ndarray
    excluded: list = field(default_factory=list)
    status_name: str = "status"


def _design_columns(names: list[str], col: str) -> list[int]:
    return [i for i, nm in enumerate(names) if nm == col or nm.startswith(col + "[")]


def from_frame(
    df: pd.DataFrame,
    *,
    time: str,
    status: str,
    covariates: Sequence[str],
    cengroup: str | None,
    cov2: Sequence[str],
    entry: str | None,
    reference: dict | None,
    missing: str,
    causes: list[int] | None = None,
    cencode: int = 0,
    categorical: Sequence[str] = (),
) -> FGInput:
    """Validate a table with :func:`~drivervte.survival.cohort.prepare_cohort`.

    ``causes`` (validated by :func:`~drivervte.survival.causes.normalize_causes`): the
    declared cause codes; any other status code (but ``cencode``) is an ``InputError``
    naming the status column and rows. With ``cencode == 0`` this is
    ``prepare_cohort(causes=...)``; with another censoring code the same check is applied
    to the rows kept (``prepare_cohort`` knows only 0 as censored).
    """
    cov1 = list(covariates)
    cov2 = list(cov2)
    allcols = cov1 + [c for c in cov2 if c not in cov1]
    coh = prepare_cohort(
        df,
        time=time,
        status=status,
        covariates=allcols,
        group=cengroup,
        entry=entry,
        reference=reference,
        missing=missing,
        causes=causes if cencode == 0 else None,
        categorical=categorical,
    )
    if cencode != 0:
        check_status_codes(coh.status, causes, cencode=cencode, column=status, rows=coh.rows)
    i1 = [i for c in cov1 for i in _design_columns(coh.covariate_names, c)]
    i2 = [i for c in cov2 for i in _design_columns(coh.covariate_names, c)]
    names = [coh.covariate_names[i] for i in i1]
    names += [f"{coh.covariate_names[i]}*tf{j + 1}" for j, i in enumerate(i2)]
    group = coh.group if coh.group is not None else np.zeros(coh.time.size, dtype=int)
    X1 = coh.X if i1 == list(range(coh.X.shape[1])) else coh.X[:, i1]  # no copy if all
    return FGInput(
        coh.time,
        coh.status,
        X1,
        coh.X[:, i2],
        names,
        group,
        coh.entry,
        coh.rows,
        list(coh.excluded),
        status,
    )


def _as_2d(a: Any, n: int, what: str) -> np.ndarray:
    if a is None:
        return np.zeros((n, 0))
    arr = np.asarray(a, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != n:
        raise InputError(f"{what} must have {n} rows (one per subject)", column=what)
    return arr


def from_arrays(
    *,
    time: Any,
    status: Any,
    X: Any,
    names: Sequence[str] | None,
    cengroup: Any,
    cov2: Any,
    entry: Any,
    missing: str,
    causes: list[int] | None = None,
    cencode: int = 0,
) -> FGInput:
    """Validate arrays: finite times >= 0, known status, finite covariates.

    With ``causes`` (declared cause codes) every status code must be ``cencode`` or one of
    them, in the rows kept; otherwise an ``InputError`` names ``status`` and the rows.
    """
    t = np.asarray(time, dtype=float).ravel()
    n = t.size
    s = np.asarray(status, dtype=float).ravel()
    if s.size != n:
        raise InputError(f"status has {s.size} values, time has {n}", column="status")
    X1 = _as_2d(X, n, "X")
    X2 = _as_2d(cov2, n, "cov2")
    e = None if entry is None else np.asarray(entry, dtype=float).ravel()
    g = np.zeros(n, dtype=int) if cengroup is None else np.asarray(cengroup).ravel()
    if g.size != n:
        raise InputError(f"cengroup has {g.size} values, time has {n}", column="cengroup")
    checks = {"time": t, "status": s}
    if e is not None:
        checks["entry"] = e
    miss = {k: np.isnan(v) for k, v in checks.items()}
    for k, v in (("X", X1), ("cov2", X2)):
        # one pass to detect, a second only to locate (a row sum is NaN iff a NaN is there
        # or inf - inf occurs; the latter is caught below as non-finite)
        rs = v.sum(axis=1)
        miss[k] = np.isnan(v).any(axis=1) if np.isnan(rs).any() else np.zeros(n, bool)
    if g.dtype.kind == "f":
        miss["cengroup"] = np.isnan(g)
    bad = np.zeros(n, dtype=bool)
    excluded = []
    for k, m in miss.items():
        if m.any() and missing != "exclude":
            raise InputError(
                "missing values; fill them or pass missing='exclude'",
                column=k,
                rows=np.flatnonzero(m),
            )
        bad |= m
    for r in np.flatnonzero(bad).tolist():
        cols = [k for k, m in miss.items() if m[r]]
        excluded.append({"row": r, "reason": "missing value in " + ", ".join(cols)})
    keep = ~bad
    for k, v in (("time", t), ("X", X1), ("cov2", X2)):
        if v.ndim == 2 and np.isfinite(v.sum(axis=1)[keep]).all():
            continue
        inf = keep & (np.isinf(v) if v.ndim == 1 else np.isinf(v).any(axis=1))
        if inf.any():
            raise InputError("values must be finite", column=k, rows=np.flatnonzero(inf))
    if causes is not None:
        kept = np.flatnonzero(keep)
        check_status_codes(s[kept], causes, cencode=cencode, column="status", rows=kept)
    neg = keep & (t < 0)
    if neg.any():
        raise InputError("negative follow-up times", column="time", rows=np.flatnonzero(neg))
    if e is not None:
        badE = keep & ((e < 0) | (e >= t) | np.isinf(e))
        if badE.any():
            raise InputError(
                "entry must be finite, >= 0 and before the time",
                column="entry",
                rows=np.flatnonzero(badE),
            )
    rows = np.flatnonzero(keep)
    p1, p2 = X1.shape[1], X2.shape[1]
    if names is None:
        nm = [f"x{j + 1}" for j in range(p1)]
    else:
        nm = [str(x) for x in names]
        if len(nm) != p1:
            raise InputError(
                f"{len(nm)} covariate names for {p1} columns of X", column="covariates"
            )
    nm += [f"cov2{j + 1}*tf{j + 1}" for j in range(p2)]
    return FGInput(
        t[rows],
        s[rows],
        X1[rows],
        X2[rows],
        nm,
        g[rows],
        None if e is None else e[rows],
        rows,
        excluded,
    )
