"""Validating a cohort table: one row per patient, follow-up time and status.

Reading files: :func:`drivervte.survival.tables.read_table` (re-exported here).

Rules (applied by :func:`prepare_cohort`, once, at the boundary)
----------------------------------------------------------------
- **Time** must be numeric and finite. Negative times are an error naming the rows.
  Time 0 is *kept* by default, as R does: ``survival::survfit``/``coxph`` and
  ``cmprsk::cuminc``/``crr`` accept ``ftime = 0`` and an event at 0 is a jump at t = 0
  (``zero_time="error"`` or ``"exclude"`` change this; exclusions are reported).
- **Status** codes are integers: 0 censored, 1..m causes. With ``causes=None`` the causes are
  the distinct positive codes present; with ``causes=[...]`` any other code is an error
  listing the unknown codes. Non-integer or negative codes are an error. A declared cause
  with no events is kept (its cumulative incidence is 0) and listed in
  :attr:`Cohort.causes_without_events`. A cohort with no event at all is an error.
- **Entry** (left truncation): finite, >= 0 and strictly below the time (R's
  ``Surv(entry, time, status)`` needs ``start < stop``).
- **Covariates**: coded by :func:`drivervte.survival.design.design_matrix` (numeric,
  boolean, gene flags ``yes/no`` ``+/-`` ..., categorical -> treatment dummies
  ``col[T.level]``); constant covariates are an error.
- **Missing values** (in any named column): ``missing="error"`` (default) raises naming the
  column and rows; ``missing="exclude"`` drops those rows (complete-case analysis) and
  records every one in :attr:`Cohort.excluded` with the columns at fault.
- **Strata** and **group** columns may hold any values; they are coded 0..k-1 in sorted
  order of their values (numbers numerically, text lexicographically), labels as text.

Dates instead of times: :func:`prepare_cohort_from_dates`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from drivervte.errors import InputError
from drivervte.results import Result, format_table
from drivervte.survival.design import (
    Factor,
    _design_matrix,
    _factor,
    _is_text,
    _to_numeric,
    missing_mask,
    positional,
)
from drivervte.survival.kaplan_meier import as_labels
from drivervte.survival.tables import read_table

__all__ = ["DAYS_PER_UNIT", "Cohort", "prepare_cohort", "prepare_cohort_from_dates", "read_table"]


@dataclass
class Cohort(Result):
    """The validated, analysis-ready cohort.

    Attributes
    ----------
    time: float array (n,), finite, >= 0 (see module rules).
    status: int array (n,): 0 censored, 1..m causes.
    X: float array (n, p), the design matrix (p may be 0).
    covariate_names: names of the columns of ``X``.
    strata, strata_labels: int codes 0..s-1 and their labels, or None.
    group, group_labels: int codes 0..g-1 and their labels, or None.
    entry: left-truncation entry times, or None.
    rows: 0-based positions (in the input table) of the rows kept, in input order.
    excluded: ``{"row": int, "reason": str}`` for every row not used.
    n_input: number of rows in the input table.
    causes: the cause codes (sorted); those with no event are in ``causes_without_events``.

    ``to_dict()`` keys (a description, not the arrays): ``n_input``, ``n_used``,
    ``n_excluded``, ``excluded``, ``covariate_names``, ``causes``, ``events`` (cause -> count),
    ``n_censored``, ``causes_without_events``, ``strata_labels``, ``group_labels``,
    ``left_truncated``.
    """

    time: np.ndarray
    status: np.ndarray
    X: np.ndarray
    covariate_names: list[str]
    strata: np.ndarray | None
    strata_labels: list[str] | None
    group: np.ndarray | None
    group_labels: list[str] | None
    entry: np.ndarray | None
    rows: np.ndarray
    excluded: list[dict]
    n_input: int
    causes: list[int] = field(default_factory=list)

    @property
    def n(self) -> int:
        return int(self.time.shape[0])

    @property
    def causes_without_events(self) -> list[int]:
        present = set(np.unique(self.status).tolist())
        return [c for c in self.causes if c not in present]

    def events(self) -> dict[int, int]:
        """Number of events per cause."""
        return {c: int(np.count_nonzero(self.status == c)) for c in self.causes}

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_input": self.n_input,
            "n_used": self.n,
            "n_excluded": len(self.excluded),
            "excluded": [dict(e) for e in self.excluded],
            "covariate_names": list(self.covariate_names),
            "causes": list(self.causes),
            "events": {str(k): v for k, v in self.events().items()},
            "n_censored": int(np.count_nonzero(self.status == 0)),
            "causes_without_events": self.causes_without_events,
            "strata_labels": self.strata_labels,
            "group_labels": self.group_labels,
            "left_truncated": self.entry is not None,
        }

    def summary(self) -> str:
        rows = [
            ["rows in input", self.n_input],
            ["rows used", self.n],
            ["rows excluded", len(self.excluded)],
            ["censored", int(np.sum(self.status == 0))],
        ]
        rows += [[f"events, cause {c}", k] for c, k in self.events().items()]
        if self.group_labels is not None:
            rows.append(["groups", ", ".join(self.group_labels)])
        if self.strata_labels is not None:
            rows.append(["strata", ", ".join(self.strata_labels)])
        rows.append(["covariates", ", ".join(self.covariate_names) or "(none)"])
        return format_table(["cohort", "value"], rows, title="Cohort")


def _column(df: pd.DataFrame, col: str, role: str) -> pd.Series:
    if col not in df.columns:
        raise InputError(
            f"no such column (given as {role}); the table has {list(map(str, df.columns))}",
            column=col,
        )
    return positional(df[col])  # no copy when the table is indexed 0..n-1


def _numeric(values: pd.Series, col: str, what: str, fac: Factor | None = None) -> np.ndarray:
    """Float array; non-numeric non-missing entries -> InputError naming rows. ``fac``: the
    column's factorisation if it is text and already factorised."""
    if pd.api.types.is_bool_dtype(values.dtype):
        raise InputError(f"{what} must be numeric, not boolean", column=col)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype=float, na_value=np.nan)
    if fac is None and _is_text(values):
        fac = _factor(values)  # factorise a text column once
    x, bad = _to_numeric(values, fac)
    bad &= ~missing_mask(values, fac)
    if bad.any():
        raise InputError(f"{what} must be numbers", column=col, rows=np.flatnonzero(bad))
    return x


def _codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes in sorted order of the values (numbers numerically), and labels."""
    return as_labels(values, len(values), str(values.name))


def prepare_cohort(
    df: pd.DataFrame,
    *,
    time: str,
    status: str,
    covariates: Sequence[str] = (),
    strata: str | None = None,
    group: str | None = None,
    entry: str | None = None,
    reference: Mapping[str, Any] | None = None,
    missing: Literal["error", "exclude"] = "error",
    causes: Iterable[int] | None = None,
    categorical: Iterable[str] = (),
    zero_time: Literal["keep", "error", "exclude"] = "keep",
) -> Cohort:
    """Validate a cohort table and return the analysis-ready :class:`Cohort`.

    See the module docstring for the rules. ``df`` may be anything :func:`read_table`
    accepts. Row positions (in errors and in ``rows``/``excluded``) are 0-based positions in
    ``df``; messages print them 1-based.

    Raises
    ------
    InputError
        Unknown columns; non-numeric, infinite or negative times; unknown or non-integer
        status codes; entry >= time; missing values with ``missing="error"``; constant
        covariates; no event in the rows used.
    """
    df = read_table(df)
    if missing not in ("error", "exclude"):
        raise InputError("missing must be 'error' or 'exclude'", column="missing")
    if zero_time not in ("keep", "error", "exclude"):
        raise InputError("zero_time must be 'keep', 'error' or 'exclude'", column="zero_time")
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    n_input = len(df)
    roles = {time: "time", status: "status"}
    for c in covariates:
        roles.setdefault(c, "covariate")
    for c, role in ((strata, "strata"), (group, "group"), (entry, "entry")):
        if c is not None:
            roles.setdefault(c, role)
    series = {c: _column(df, c, r) for c, r in roles.items()}
    # text columns are factorised once, for every check and the design matrix
    facs = {c: _factor(v) for c, v in series.items() if _is_text(v)}

    # 1. missing values, per column
    miss_by_col = {c: missing_mask(v, facs.get(c)) for c, v in series.items()}
    any_missing = np.zeros(n_input, dtype=bool)
    for c, m in miss_by_col.items():
        if m.any() and missing == "error":
            raise InputError(
                "missing values; fill them or pass missing='exclude' (complete-case analysis, "
                "the excluded rows are reported)",
                column=c,
                rows=np.flatnonzero(m),
            )
        any_missing |= m
    reasons: dict[int, str] = {}
    for r in np.flatnonzero(any_missing).tolist():
        cols = [c for c, m in miss_by_col.items() if m[r]]
        reasons[r] = "missing value in " + ", ".join(f"'{c}'" for c in cols)

    # 2. time and status (checked on non-missing rows)
    t = _numeric(series[time], time, "follow-up times", facs.get(time))
    ok = ~any_missing
    bad = ok & ~np.isfinite(t)
    if bad.any():
        raise InputError("follow-up times must be finite", column=time, rows=np.flatnonzero(bad))
    bad = ok & (t < 0)
    if bad.any():
        raise InputError(
            "negative follow-up times; check the dates or the time unit",
            column=time,
            rows=np.flatnonzero(bad),
        )
    zero = ok & (t == 0)
    if zero.any() and zero_time == "error":
        raise InputError(
            "follow-up time 0 (use zero_time='keep' to keep them as R does, or 'exclude')",
            column=time,
            rows=np.flatnonzero(zero),
        )
    if zero.any() and zero_time == "exclude":
        for r in np.flatnonzero(zero).tolist():
            reasons[r] = "follow-up time 0 (zero_time='exclude')"
        ok &= ~zero

    s = _numeric(series[status], status, "status codes", facs.get(status))
    bad = ok & ((s != np.round(s)) | (s < 0) | ~np.isfinite(s))
    if bad.any():
        raise InputError(
            "status codes must be integers: 0 censored, 1..m causes",
            column=status,
            rows=np.flatnonzero(bad),
        )
    if causes is not None:
        cause_list = sorted({int(c) for c in causes})
        if any(c <= 0 for c in cause_list):
            raise InputError("causes must be positive integers (0 means censored)", column="causes")
        known = np.isin(s, [0, *cause_list])
        bad = ok & ~known
        if bad.any():
            codes = [int(v) for v in np.unique(s[bad])]
            raise InputError(
                f"unknown status codes {codes}; expected 0 (censored) or one of {cause_list}",
                column=status,
                rows=np.flatnonzero(bad),
            )
    else:
        present = np.sort(pd.unique(s[ok]))  # hash, then sort the few codes
        cause_list = [int(v) for v in present[present > 0]]

    # 3. entry times
    e = None
    if entry is not None:
        e = _numeric(series[entry], entry, "entry times", facs.get(entry))
        bad = ok & (~np.isfinite(e) | (e < 0))
        if bad.any():
            raise InputError(
                "entry times must be finite and >= 0", column=entry, rows=np.flatnonzero(bad)
            )
        bad = ok & (e >= t)
        if bad.any():
            raise InputError(
                "entry time must be before the follow-up time (R: start < stop)",
                column=entry,
                rows=np.flatnonzero(bad),
            )

    kept = np.flatnonzero(ok)
    if kept.size == 0:
        raise InputError("no rows left to analyse (every row was excluded)", column=time)
    status_kept = s[kept].astype(np.int64)
    if not np.any(status_kept > 0):
        raise InputError(
            "no events: every used row is censored (status 0); nothing to estimate",
            column=status,
        )

    all_kept = kept.size == n_input  # the usual case: no copy of the table or its columns
    sub = df if all_kept else df.iloc[kept]
    X, names = _design_matrix(
        sub,
        covariates,
        reference,
        categorical=categorical,
        rows=kept,
        factors=facs if all_kept else None,  # a subset may lack some levels: refactorise
    )
    strata_codes = strata_labels = group_codes = group_labels = None
    if strata is not None:
        strata_codes, strata_labels = _codes(
            series[strata] if all_kept else series[strata].iloc[kept]
        )
    if group is not None:
        group_codes, group_labels = _codes(series[group] if all_kept else series[group].iloc[kept])

    excluded = [{"row": r, "reason": reasons[r]} for r in sorted(reasons)]
    return Cohort(
        time=t[kept].astype(float),
        status=status_kept,
        X=X,
        covariate_names=names,
        strata=strata_codes,
        strata_labels=strata_labels,
        group=group_codes,
        group_labels=group_labels,
        entry=None if e is None else e[kept].astype(float),
        rows=kept.astype(np.int64),
        excluded=excluded,
        n_input=n_input,
        causes=cause_list,
    )


#: Days per time unit for :func:`prepare_cohort_from_dates` (Julian year, 365.25 days).
DAYS_PER_UNIT = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12.0, "years": 365.25}


def _dates(df: pd.DataFrame, col: str | None, role: str) -> pd.Series | None:
    if col is None:
        return None
    values = _column(df, col, role)
    miss = missing_mask(values)
    parsed = pd.to_datetime(values.where(~miss), errors="coerce")
    bad = parsed.isna().to_numpy() & ~miss
    if bad.any():
        raise InputError(
            "not a date (use ISO format YYYY-MM-DD)", column=col, rows=np.flatnonzero(bad)
        )
    return parsed


def prepare_cohort_from_dates(
    df: pd.DataFrame,
    *,
    start: str,
    event_date: str,
    death_date: str | None = None,
    last_followup: str | None = None,
    unit: Literal["days", "weeks", "months", "years"] = "months",
    time_column: str = "time",
    status_column: str = "status",
) -> pd.DataFrame:
    """Derive follow-up time and status (1 VTE, 2 death without VTE, 0 censored) from dates.

    Rules, per row:

    - ``start`` (diagnosis or cohort entry) must be present.
    - A VTE date (``event_date``) that is present ends follow-up with status 1 at that date,
      even when a death date is present: **the event before death wins**, and a **VTE and a
      death on the same day count as VTE** (the VTE is taken to precede the death).
    - Otherwise a death date ends follow-up with status 2 (death as competing risk).
    - Otherwise ``last_followup`` censors (status 0); it must then be present.
    - Out of order is an error naming the rows: any date before ``start``; a VTE after the
      death date; a VTE or death after ``last_followup`` (``last_followup`` must be the end
      of observation).
    - Time = (end date - start) in days, divided by :data:`DAYS_PER_UNIT` ``[unit]``
      (months = days / (365.25 / 12), years = days / 365.25). Same-day start and event gives
      time 0 (kept by :func:`prepare_cohort` by default, as R does).

    Returns
    -------
    pandas.DataFrame
        A copy of ``df`` with ``time_column`` and ``status_column`` added, ready for
        :func:`prepare_cohort`.
    """
    df = read_table(df)
    if unit not in DAYS_PER_UNIT:
        raise InputError(f"unit must be one of {sorted(DAYS_PER_UNIT)}", column="unit")
    t0 = _dates(df, start, "start")
    vte = _dates(df, event_date, "event_date")
    death = _dates(df, death_date, "death_date")
    last = _dates(df, last_followup, "last_followup")
    assert t0 is not None and vte is not None
    miss = t0.isna().to_numpy()
    if miss.any():
        raise InputError("start date missing", column=start, rows=np.flatnonzero(miss))
    for col, d in ((event_date, vte), (death_date, death), (last_followup, last)):
        if d is None:
            continue
        bad = (d < t0).to_numpy()
        if bad.any():
            raise InputError("date before the start date", column=col, rows=np.flatnonzero(bad))
    if death is not None:
        bad = (vte > death).to_numpy()
        if bad.any():
            raise InputError(
                "VTE date after the death date", column=event_date, rows=np.flatnonzero(bad)
            )
    if last is not None:
        for col, d in ((event_date, vte), (death_date, death)):
            if d is None:
                continue
            bad = (d > last).to_numpy()
            if bad.any():
                raise InputError(
                    f"date after last follow-up ('{last_followup}'); last follow-up must be "
                    "the end of observation",
                    column=col,
                    rows=np.flatnonzero(bad),
                )
    has_vte = vte.notna().to_numpy()
    has_death = death.notna().to_numpy() if death is not None else np.zeros(len(df), bool)
    end = vte.copy()
    status_out = np.zeros(len(df), dtype=np.int64)
    status_out[has_vte] = 1
    if death is not None:
        use = ~has_vte & has_death
        end[use] = death[use]
        status_out[use] = 2
    censored = ~has_vte & ~has_death
    if censored.any():
        if last is None:
            raise InputError(
                "no VTE or death date and no last_followup column to censor at",
                column=event_date,
                rows=np.flatnonzero(censored),
            )
        no_last = censored & last.isna().to_numpy()
        if no_last.any():
            raise InputError(
                "no VTE, no death and no last follow-up date: follow-up unknown",
                column=last_followup,
                rows=np.flatnonzero(no_last),
            )
        end[censored] = last[censored]
    days = (end - t0).dt.total_seconds().to_numpy() / 86400.0
    out = df.copy()
    out[time_column] = days / DAYS_PER_UNIT[unit]
    out[status_column] = status_out
    return out
