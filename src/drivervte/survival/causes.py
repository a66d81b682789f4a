"""Declared cause codes (``causes=[...]``), shared by the competing-risk estimators.

Status codes are integers: the censoring code (``cencode``, 0 by default) and the cause
codes. Two ways to read the other codes:

- ``causes=None`` (default, as ``cmprsk::cuminc``/``crr`` and ``survival::coxph``): every
  code other than the censoring code is a cause, so a stray code (a typo such as 3 in a
  0/1/2 column) silently becomes one more competing cause.
- ``causes=[1, 2]``: the status column may hold only the censoring code and these causes;
  any other code is an :class:`~drivervte.errors.InputError` naming the status column, the
  unknown codes and the rows (the rule of :func:`drivervte.survival.cohort.prepare_cohort`,
  which applies it to tables). A declared cause with no events is allowed: its cumulative
  incidence is 0. The cause of interest (``cause``), when given, must be one of the
  declared causes.

Used by :class:`~drivervte.survival.finegray.FineGray`, :class:`~drivervte.survival.cox.CoxPH`
and :func:`~drivervte.survival.cuminc.cumulative_incidence` (array inputs; tables go through
``prepare_cohort(causes=...)``), and by the CLI option ``--causes``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from drivervte.errors import InputError

__all__ = ["check_status_codes", "normalize_causes"]


def normalize_causes(
    causes: Iterable[Any] | None,
    *,
    cause: Any = None,
    cencode: int = 0,
    column: str = "causes",
    cause_column: str = "cause",
) -> list[int] | None:
    """Validate declared cause codes; sorted distinct ``int`` codes, or None when not given.

    Parameters
    ----------
    causes : the declared cause codes, or None (every non-censoring code is a cause).
    cause : the event of interest, if the estimator has one; it must be declared.
    cencode : the censoring code; it cannot be a cause.
    column, cause_column : names used in error messages (``"--causes"``/``"--cause"`` in
        the CLI).

    Raises
    ------
    InputError
        An empty list; a code that is not an integer (booleans and 1.5 included) or is
        negative; the censoring code among the causes; ``cause`` not among the causes.
    """
    if causes is None:
        return None
    if isinstance(causes, (str, bytes)) or not isinstance(causes, Iterable):
        raise InputError(
            f"give the cause codes as a list of integers, e.g. [1, 2], not {causes!r}",
            column=column,
        )
    values = list(causes)
    if not values:
        raise InputError("give at least one cause code (or None for every code)", column=column)
    out: set[int] = set()
    for v in values:
        ok = not isinstance(v, (bool, np.bool_))
        try:
            f = float(v)
        except (TypeError, ValueError):
            ok = False
        else:
            ok = ok and np.isfinite(f) and f.is_integer() and f >= 0
        if not ok:
            raise InputError(f"cause codes must be non-negative integers; got '{v}'", column=column)
        out.add(int(f))
    declared = sorted(out)
    if int(cencode) in out:
        raise InputError(
            f"{int(cencode)} is the censoring code, it cannot also be a cause", column=column
        )
    if cause is not None and cause not in out:
        raise InputError(
            f"cause {cause} is not one of the declared causes {declared}; "
            f"add it to {column} or choose another {cause_column}",
            column=cause_column,
        )
    return declared


def check_status_codes(
    status: np.ndarray,
    causes: list[int] | None,
    *,
    cencode: int = 0,
    column: str = "status",
    rows: np.ndarray | None = None,
) -> None:
    """Raise when a status code is neither ``cencode`` nor one of ``causes``.

    Parameters
    ----------
    status : status codes (non-integer values are reported as unknown codes).
    causes : declared causes from :func:`normalize_causes`; None checks nothing.
    cencode : the censoring code.
    column : the status column, named in the error.
    rows : 0-based positions in the user's input of ``status``'s entries (default
        ``0..n-1``); the error lists the offending ones (shown 1-based).
    """
    if causes is None:
        return
    s = np.asarray(status)
    bad = ~np.isin(s, [int(cencode), *causes])
    if bad.any():
        codes = [int(v) if float(v).is_integer() else float(v) for v in np.unique(s[bad])]
        pos = np.flatnonzero(bad) if rows is None else np.asarray(rows)[bad]
        raise InputError(
            f"unknown status codes {codes}; expected {int(cencode)} (censored) or one of "
            f"{list(causes)}",
            column=column,
            rows=pos,
        )
