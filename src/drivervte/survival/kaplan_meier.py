"""Kaplan-Meier estimate with Greenwood variance and log-log confidence intervals.

Reference: ``survival::survfit(Surv(time, status) ~ 1, conf.type = "log-log")`` and its
``summary(fit, times = ...)`` and median (``print(fit)``).

Also home of the small validators of plain arrays that every survival estimator here
shares (:func:`as_times`, :func:`as_status`, :func:`as_labels`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from drivervte.errors import InputError
from drivervte.results import Result, format_table

__all__ = ["KaplanMeierResult", "as_labels", "as_status", "as_times", "kaplan_meier"]


# --- shared array validation ---------------------------------------------------------


def as_times(time: Any, name: str = "time") -> np.ndarray:
    """1-d float array of finite, non-negative times; InputError naming rows otherwise."""
    try:
        t = np.asarray(time, dtype=float)
    except (TypeError, ValueError):
        raise InputError("times must be numbers", column=name) from None
    if t.ndim != 1:
        raise InputError("times must be a 1-d array", column=name)
    bad = np.flatnonzero(np.isnan(t))
    if bad.size:
        raise InputError("missing times; remove or fill them first", column=name, rows=bad)
    bad = np.flatnonzero(~np.isfinite(t) | (t < 0))
    if bad.size:
        raise InputError("times must be finite and >= 0", column=name, rows=bad)
    return t


def as_status(status: Any, n: int, name: str = "status") -> np.ndarray:
    """1-d int64 array of integer codes with one code per time."""
    try:
        s = np.asarray(status, dtype=float)
    except (TypeError, ValueError):
        raise InputError("status codes must be integers", column=name) from None
    if s.shape != (n,):
        raise InputError(f"status has {s.size} values but there are {n} times", column=name)
    bad = np.flatnonzero(~np.isfinite(s) | (s != np.round(s)))
    if bad.size:
        raise InputError("status codes must be integers (no missing values)", column=name, rows=bad)
    return s.astype(np.int64)


def label(v: Any) -> str:
    """Text label of a value: integral floats print without '.0'."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def as_labels(values: Any, n: int, name: str) -> tuple[np.ndarray, list[str]]:
    """Integer codes 0..k-1 in sorted order of the values (numbers numerically), labels."""
    arr = np.asarray(values)
    if arr.dtype.kind in "USb" or isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        arr = arr.astype(object)
    if arr.shape != (n,):
        raise InputError(f"{name} has {arr.size} values but there are {n} times", column=name)
    miss = np.flatnonzero(pd.isna(arr))
    if miss.size:
        raise InputError("missing values", column=name, rows=miss)
    if arr.dtype != object:
        uniq, inverse = np.unique(arr, return_inverse=True)
        return inverse.astype(np.int64).ravel(), [label(v) for v in uniq.tolist()]
    codes, uniques = pd.factorize(arr)
    uniq = list(uniques)
    try:
        order = sorted(range(len(uniq)), key=lambda i: uniq[i])
    except TypeError:  # mixed types: sort by text
        order = sorted(range(len(uniq)), key=lambda i: str(uniq[i]))
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[order] = np.arange(len(uniq))
    return rank[codes], [label(uniq[i]) for i in order]


def z_value(level: float) -> float:
    """Two-sided normal quantile for a confidence level in (0, 1)."""
    if not 0 < level < 1:
        raise InputError("level must be between 0 and 1 (e.g. 0.95)", column="level")
    from scipy.special import ndtri  # lazy: scipy.special costs ~0.2 s of CLI start-up

    return float(ndtri(1 - (1 - level) / 2))


# --- Kaplan-Meier ----------------------------------------------------------------------


@dataclass
class KaplanMeierResult(Result):
    """Kaplan-Meier estimate at every distinct observed time (as ``survfit``).

    Attributes / ``to_dict()`` keys
    -------------------------------
    times, n_risk, n_event, n_censor: per distinct time (events and censorings).
    survival: S(t), product of (1 - d_j / n_j) over event times t_j <= t.
    std_err: Greenwood standard error of log S(t), sqrt(sum d_j / (n_j (n_j - d_j))), as
        ``survfit``'s ``std.err``; ``variance`` = S(t)^2 * std_err^2 (Greenwood, on S).
    ci_lower, ci_upper: log-log interval, exp(-exp(log(-log S) -/+ z * std_err / log S)),
        NaN (null) where S is 0 or 1 (as ``survfit``).
    median, median_lower, median_upper: smallest t with S(t) <= 0.5 (midpoint to the next
        time if S equals 0.5 exactly there, as ``survival``'s quantile rule); the bounds
        apply the same rule to the CI curves. NaN if not reached.
    level, n, warnings.
    """

    times: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    survival: np.ndarray
    std_err: np.ndarray
    variance: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    median: float
    median_lower: float
    median_upper: float
    level: float
    n: int
    warnings: list[str] = field(default_factory=list)

    def at(self, times: Any) -> dict[str, np.ndarray]:
        """Values at requested times (right-continuous step; as ``summary(fit, times=)``).

        Before the first time: S = 1, std_err 0, CI NaN. After the last observed time:
        NaN (``survfit`` does not extrapolate; ``summary(extend=FALSE)`` drops them).
        """
        tq = as_times(times, "times")
        idx = np.searchsorted(self.times, tq, side="right") - 1
        out = {}
        for key, before in (
            ("survival", 1.0),
            ("std_err", 0.0),
            ("variance", 0.0),
            ("ci_lower", np.nan),
            ("ci_upper", np.nan),
        ):
            arr = getattr(self, key)
            vals = np.where(idx >= 0, arr[np.maximum(idx, 0)], before)
            vals = np.where(tq > self.times[-1], np.nan, vals)
            out[key] = vals
        nr = np.searchsorted(self.times, tq, side="left")
        out["n_risk"] = np.where(
            nr < self.times.size, self.n_risk[np.minimum(nr, self.times.size - 1)], 0
        )
        out["times"] = tq
        return out

    def summary(self) -> str:
        rows = [
            [f"{t:g}", int(r), int(d), s, lo, hi]
            for t, r, d, s, lo, hi in zip(
                self.times,
                self.n_risk,
                self.n_event,
                self.survival,
                self.ci_lower,
                self.ci_upper,
                strict=True,
            )
            if d > 0
        ]
        pct = f"{100 * self.level:g}%"
        table = format_table(
            ["time", "n.risk", "n.event", "survival", f"lower {pct}", f"upper {pct}"],
            rows,
            title=f"Kaplan-Meier (n = {self.n}), log-log CI",
        )
        return table + f"\nmedian {self.median:g} [{self.median_lower:g}, {self.median_upper:g}]"


def _quantile_time(times: np.ndarray, surv: np.ndarray, p: float = 0.5) -> float:
    """survival's rule: first time with S <= p; midpoint when S == p (within 1e-8)."""
    tol = np.sqrt(np.finfo(float).eps)
    ok = np.isfinite(surv)
    below = np.flatnonzero(ok & (surv <= p + tol))
    if below.size == 0:
        return float("nan")
    i = below[0]
    if abs(surv[i] - p) < tol:
        later = np.flatnonzero(ok[i + 1 :] & (surv[i + 1 :] < surv[i] - tol))
        if later.size == 0:
            return float("nan")
        return float((times[i] + times[i + 1 + later[0]]) / 2)
    return float(times[i])


def kaplan_meier(time: Any, status_event: Any, *, level: float = 0.95) -> KaplanMeierResult:
    """Kaplan-Meier survival with Greenwood variance and log-log CIs (``survfit``).

    .. math:: \\hat S(t) = \\prod_{t_j \\le t} (1 - d_j / n_j), \\quad
              \\widehat{se}\\{\\log \\hat S(t)\\} = \\Big(\\sum_{t_j\\le t}
              \\frac{d_j}{n_j (n_j - d_j)}\\Big)^{1/2}

    Ties: all events at a time count together in d_j (no jittering); censorings at an event
    time are at risk at that time (R's convention).

    Parameters
    ----------
    time: follow-up times (>= 0).
    status_event: 1 (or True) for the event, 0 for censored.
    level: confidence level.

    References
    ----------
    Kaplan & Meier (1958) JASA 53:457; Greenwood (1926); Kalbfleisch & Prentice (2002) for
    the log-log interval. R: ``survival::survfit(..., conf.type = "log-log")``.
    """
    t = as_times(time)
    d = as_status(status_event, t.size, "status_event")
    if t.size == 0:
        raise InputError("no observations", column="time")
    bad = np.flatnonzero((d != 0) & (d != 1))
    if bad.size:
        raise InputError("event indicator must be 0 or 1", column="status_event", rows=bad)
    z = z_value(level)
    order = np.argsort(t, kind="stable")
    ts, ds = t[order], d[order]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(ts)) + 1))
    times = ts[starts]
    counts = np.diff(np.append(starts, ts.size))
    n_event = np.add.reduceat(ds, starts)
    n_censor = counts - n_event
    n_risk = t.size - np.concatenate(([0], np.cumsum(counts)[:-1]))
    surv = np.cumprod(1.0 - n_event / n_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0)
        std_err = np.sqrt(np.cumsum(terms))
        xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
        se2 = z * std_err / np.log(xx)
        lower = np.exp(-np.exp(np.log(-np.log(xx)) - se2))
        upper = np.exp(-np.exp(np.log(-np.log(xx)) + se2))
        variance = surv**2 * std_err**2  # NaN once S reaches 0 (0 * inf), as survfit
    warnings = []
    if not np.any(d):
        warnings.append("no events: S(t) = 1 throughout; confidence intervals undefined")
    if np.any(~np.isfinite(std_err)):
        warnings.append("S(t) reaches 0: standard error and CI undefined from that time on")
    return KaplanMeierResult(
        times=times,
        n_risk=n_risk,
        n_event=n_event,
        n_censor=n_censor,
        survival=surv,
        std_err=std_err,
        variance=variance,
        ci_lower=lower,
        ci_upper=upper,
        median=_quantile_time(times, surv),
        median_lower=_quantile_time(times, lower),
        median_upper=_quantile_time(times, upper),
        level=level,
        n=int(t.size),
        warnings=warnings,
    )
