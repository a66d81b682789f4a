"""Cumulative incidence with competing risks (Aalen-Johansen) and its variance, as cmprsk.

Reference: ``cmprsk::cuminc`` (Fortran ``cinc``) and ``cmprsk::timepoints`` (``tpoi``),
Gray (1988) Ann Stat 16:1141; Kalbfleisch & Prentice (1980, 2002) for the estimator.

Estimator, per group and cause k, over the distinct event times t_j (any cause) with n_j at
risk (time >= t_j), d_kj events of cause k and d_j events of any cause:

.. math:: \\hat F_k(t) = \\sum_{t_j \\le t} \\hat S(t_{j}-) \\, d_{kj} / n_j ,
          \\qquad \\hat S \\text{ the all-cause Kaplan-Meier estimate.}

Variance: cmprsk's delta-method estimator, accumulated over event times as in ``cinc``
(three running sums v1, v2, v3 so that Var F(t) = v1 + F(t)^2 v3 - 2 F(t) v2), with cmprsk's
tie correction (1 - (d - 1)/(n - 1)) for d > 1 tied events. As in cmprsk the variance is
*recorded* at the event times of cause k only: between them it stays at its last recorded
value even though competing events change v1..v3 (so that it agrees with ``cuminc`` and
``timepoints``). Ties are handled exactly, never jittered.

Pointwise confidence interval, log(-log) transform (what cmprsk users compute from
``timepoints``; cmprsk itself gives no interval):

.. math:: \\hat F^{\\exp(\\pm z \\sqrt{\\hat V} / (\\hat F \\log \\hat F))}

with "+" giving the upper bound. Where F = 0 the interval is [0, 0] (variance 0 there too);
where F = 1 it is [1, 1].

Linear in n after one sort: per group the running quantities are cumulative sums and
products over the distinct event times.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from drivervte.errors import InputError
from drivervte.results import Result, fmt_num, format_table, jsonable
from drivervte.survival.causes import check_status_codes, normalize_causes
from drivervte.survival.gray import GrayTestResult, gray_sorted
from drivervte.survival.kaplan_meier import as_labels, as_status, as_times, label, z_value

__all__ = [
    "CumIncCurve",
    "CumIncResult",
    "aalen_johansen",
    "cif_confint",
    "cumulative_incidence",
]


def aalen_johansen(
    time_sorted: np.ndarray, cause_event: np.ndarray, any_event: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CIF and cmprsk variance for one group and one cause (the ``cinc`` algorithm).

    Parameters
    ----------
    time_sorted: times sorted increasingly.
    cause_event: 1 where the row failed from the cause of interest, else 0.
    any_event: 1 where the row failed from any cause, else 0.

    Returns
    -------
    times, estimate, variance:
        At the distinct event times of the cause of interest (right-continuous values).
    """
    t = time_sorted
    n = t.size
    starts = np.concatenate(([0], np.flatnonzero(np.diff(t)) + 1))
    counts = np.diff(np.append(starts, n))
    d1 = np.add.reduceat(cause_event, starts).astype(float)
    nd = np.add.reduceat(any_event, starts).astype(float)
    rs = (n - np.concatenate(([0], np.cumsum(counts)[:-1]))).astype(float)
    keep = nd > 0
    u, d1, nd, rs = t[starts][keep], d1[keep], nd[keep], rs[keep]
    d2 = nd - d1
    if u.size == 0:
        return np.empty(0), np.empty(0), np.empty(0)
    fkn = np.cumprod((rs - nd) / rs)
    fk = np.concatenate(([1.0], fkn[:-1]))
    f = np.cumsum(fk * d1 / rs)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_fkn = np.where(fkn > 0, 1.0 / fkn, 0.0)
        # competing events (cmprsk skips them once the all-cause KM reaches 0)
        use2 = (d2 > 0) & (fkn > 0)
        t5 = np.where(d2 > 1, 1.0 - (d2 - 1.0) / (rs - 1.0), 1.0)
        t6 = np.where(use2, fk * fk * t5 * d2 / (rs * rs), 0.0)
        t4 = f * inv_fkn
        inc1 = t4 * t4 * t6
        inc2 = inv_fkn * t4 * t6
        inc3 = inv_fkn * inv_fkn * t6
        # events of the cause of interest
        use1 = d1 > 0
        t5 = np.where(d1 > 1, 1.0 - (d1 - 1.0) / (rs - 1.0), 1.0)
        t6 = np.where(use1, fk * fk * t5 * d1 / (rs * rs), 0.0)
        t4 = 1.0 + inv_fkn * f
        inc1 = inc1 + t4 * t4 * t6
        inc2 = inc2 + inv_fkn * t4 * t6
        inc3 = inc3 + inv_fkn * inv_fkn * t6
    v1, v2, v3 = np.cumsum(inc1), np.cumsum(inc2), np.cumsum(inc3)
    var = v1 + f * f * v3 - 2.0 * f * v2
    return u[use1], f[use1], var[use1]


def cif_confint(
    estimate: np.ndarray, variance: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise log(-log) interval F^exp(+-z sqrt(V) / (F log F)); [F, F] at F in {0, 1}."""
    z = z_value(level)
    est = np.asarray(estimate, dtype=float)
    var = np.asarray(variance, dtype=float)
    inner = (est > 0) & (est < 1)
    safe = np.where(inner, est, 0.5)
    with np.errstate(invalid="ignore"):
        w = z * np.sqrt(np.maximum(var, 0.0)) / (safe * np.log(safe))
    lower = np.where(inner, safe ** np.exp(-w), est)
    upper = np.where(inner, safe ** np.exp(w), est)
    nan = np.isnan(est) | np.isnan(var)
    return np.where(nan, np.nan, lower), np.where(nan, np.nan, upper)


@dataclass
class CumIncCurve:
    """One cumulative incidence curve (one group, one cause).

    ``times`` are the distinct event times of the cause in the group; ``estimate`` and
    ``variance`` the right-continuous values there. The curve is 0 before ``times[0]`` and
    is defined up to ``max_time`` (the group's largest follow-up time), undefined after.
    """

    group: str
    cause: str
    times: np.ndarray
    estimate: np.ndarray
    variance: np.ndarray
    max_time: float
    n: int

    def at(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Estimate and variance at ``times`` as ``cmprsk::timepoints``.

        Right-continuous step; 0 before the first event; NaN after ``max_time``.
        """
        times = np.asarray(times, dtype=float)
        idx = np.searchsorted(self.times, times, side="right") - 1
        est = np.where(idx >= 0, self.estimate[np.maximum(idx, 0)] if self.times.size else 0, 0.0)
        var = np.where(idx >= 0, self.variance[np.maximum(idx, 0)] if self.times.size else 0, 0.0)
        beyond = times > self.max_time
        return np.where(beyond, np.nan, est), np.where(beyond, np.nan, var)


@dataclass
class CumIncResult(Result):
    """Cumulative incidence per group and cause, with Gray's test when there are groups.

    ``to_dict()`` (the ``drivervte cuminc --json`` output)::

        {"groups": {"<group>": {"<cause>": {"times": [...], "estimate": [...],
                    "variance": [...], "ci_lower": [...], "ci_upper": [...],
                    "n": int, "max_time": float}}},
         "gray_test": {"<cause>": {"statistic": float, "df": int, "pvalue": float}},
         "level": 0.95, "rho": 0.0, "n_strata": 1, "requested_times": [...] | null,
         "warnings": [...]}

    With requested ``times`` the arrays are at those times (null after a group's last
    follow-up, with a warning); otherwise at the event times of that cause in that group.
    ``summary()`` tabulates the requested times, else every event time when there are at
    most 10 of them, else the quartiles of the event times.
    ``gray_test`` is ``{}`` with a single group. Groups and causes are strings.
    """

    curves: dict[str, dict[str, CumIncCurve]]
    gray: dict[str, GrayTestResult]
    groups: list[str]
    causes: list[str]
    level: float
    rho: float
    n_strata: int
    requested_times: np.ndarray | None
    n: int
    warnings: list[str] = field(default_factory=list)
    _sorted_times: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def at(self, times: Any) -> dict[str, dict[str, dict[str, np.ndarray]]]:
        """``{group: {cause: {times, estimate, variance, ci_lower, ci_upper}}}`` at times."""
        tq = as_times(times, "times")
        out: dict[str, dict[str, dict[str, np.ndarray]]] = {}
        for g, by_cause in self.curves.items():
            out[g] = {}
            for c, curve in by_cause.items():
                est, var = curve.at(tq)
                lo, hi = cif_confint(est, var, self.level)
                out[g][c] = {
                    "times": tq,
                    "estimate": est,
                    "variance": var,
                    "ci_lower": lo,
                    "ci_upper": hi,
                }
        return out

    def n_at_risk(self, times: Any) -> dict[str, np.ndarray]:
        """Number at risk (follow-up time >= t) per group at ``times`` (for plots)."""
        tq = as_times(times, "times")
        return {
            g: ts.size - np.searchsorted(ts, tq, side="left")
            for g, ts in self._sorted_times.items()
        }

    def to_dict(self) -> dict[str, Any]:
        groups: dict[str, Any] = {}
        if self.requested_times is not None:
            groups = self.at(self.requested_times)
        else:
            for g, by_cause in self.curves.items():
                groups[g] = {}
                for c, cv in by_cause.items():
                    lo, hi = cif_confint(cv.estimate, cv.variance, self.level)
                    groups[g][c] = {
                        "times": cv.times,
                        "estimate": cv.estimate,
                        "variance": cv.variance,
                        "ci_lower": lo,
                        "ci_upper": hi,
                    }
        for g, by_cause in self.curves.items():
            for c, cv in by_cause.items():
                groups[g][c]["n"] = cv.n
                groups[g][c]["max_time"] = cv.max_time
        return jsonable(
            {
                "groups": groups,
                "gray_test": {
                    c: {"statistic": r.statistic, "df": r.df, "pvalue": r.pvalue}
                    for c, r in self.gray.items()
                },
                "level": self.level,
                "rho": self.rho,
                "n_strata": self.n_strata,
                "requested_times": self.requested_times,
                "warnings": list(self.warnings),
            }
        )

    def summary(self) -> str:
        pct = f"{100 * self.level:g}%"
        parts = []
        if self.requested_times is not None:
            tq = self.requested_times
        else:
            tq = np.unique(
                np.concatenate([cv.times for bc in self.curves.values() for cv in bc.values()])
            )
            if tq.size > 10:
                tq = np.quantile(tq, [0.25, 0.5, 0.75, 1.0], method="inverted_cdf")
        vals = self.at(tq) if tq.size else {}
        for c in self.causes:
            rows = []
            for g in self.groups:
                v = vals[g][c] if vals else None
                for i, t in enumerate(tq):
                    rows.append(
                        [
                            g,
                            f"{t:g}",
                            v["estimate"][i],
                            fmt_num(np.sqrt(v["variance"][i])),
                            f"[{fmt_num(v['ci_lower'][i])}, {fmt_num(v['ci_upper'][i])}]",
                        ]
                    )
            parts.append(
                format_table(
                    ["group", "time", "CIF", "SE", f"{pct} CI (log-log)"],
                    rows,
                    title=f"Cumulative incidence, cause {c}",
                )
            )
        if self.gray:
            rows = [[c, r.statistic, r.df, r.pvalue] for c, r in self.gray.items()]
            parts.append(
                format_table(
                    ["cause", "statistic", "df", "p"],
                    rows,
                    title=f"Gray's test (rho = {self.rho:g}, strata = {self.n_strata})",
                )
            )
        parts.extend(f"warning: {w}" for w in self.warnings)
        return "\n\n".join(parts)


def cumulative_incidence(
    time: Any,
    status: Any,
    group: Any = None,
    strata: Any = None,
    rho: float = 0.0,
    times: Any = None,
    cencode: int = 0,
    *,
    level: float = 0.95,
    causes: Iterable[int] | None = None,
) -> CumIncResult:
    """Cumulative incidence per group and cause, and Gray's test, as ``cmprsk::cuminc``.

    Parameters
    ----------
    time: follow-up times (finite, >= 0; time 0 allowed, as in cmprsk).
    status: integer codes; ``cencode`` means censored, every other code is a cause.
    group: optional group labels (curves per group; Gray's test if >= 2 groups).
    strata: optional strata for Gray's test only (the curves are not stratified, as cuminc).
    rho: power of the weight (1 - F(t-))^rho in Gray's test.
    times: optional times at which ``to_dict()``/``summary()`` report (``timepoints``).
    cencode: the censoring code.
    level: confidence level of the pointwise intervals.
    causes: optional declared cause codes. Default: every code other than ``cencode``
        present is a cause (as ``cuminc``), so an unexpected code becomes one more cause.
        With ``causes`` any other code is an ``InputError`` naming ``status`` and the rows;
        a declared cause with no event gets a curve that is 0 throughout (Gray's test for it
        is NaN, with the warning "no events of cause k"). See :mod:`drivervte.survival.causes`.

    Groups and causes are ordered as R factors of their values (sorted; numbers
    numerically; text by code point, where R's ``factor`` follows the locale's collation, so
    mixed-case labels may be listed in another order; no number changes). Curves are computed for every cause in every group (zero where a group
    has no event of that cause).

    Examples
    --------
    >>> res = cumulative_incidence([1, 2, 2, 3, 4], [1, 2, 1, 0, 1])
    >>> res.curves["1"]["1"].estimate.round(4).tolist()
    [0.2, 0.4, 0.8]
    """
    t = as_times(time)
    n = t.size
    if n == 0:
        raise InputError("no observations", column="time")
    s = as_status(status, n)
    z_value(level)  # validates the level
    if rho is None or not np.isfinite(rho):
        raise InputError("rho must be a finite number", column="rho")
    g_codes, g_labels = (
        as_labels(group, n, "group") if group is not None else (np.zeros(n, np.int64), ["1"])
    )
    st_codes, st_labels = (
        as_labels(strata, n, "strata") if strata is not None else (np.zeros(n, np.int64), ["1"])
    )
    tq = None
    if times is not None:
        tq = np.unique(as_times(np.atleast_1d(np.asarray(times, dtype=float)), "times"))
    declared = normalize_causes(causes, cencode=cencode)
    check_status_codes(s, declared, cencode=cencode)
    present = sorted(set(np.unique(s).tolist()) - {int(cencode)})
    cause_codes = present if declared is None else declared
    warnings: list[str] = []
    if not present:
        raise InputError(
            f"no events: every status equals the censoring code {cencode}", column="status"
        )
    order = np.argsort(t, kind="stable")
    ts, ss, gs = t[order], s[order], g_codes[order]
    any_event = (ss != cencode).astype(np.int64)
    curves: dict[str, dict[str, CumIncCurve]] = {}
    sorted_times: dict[str, np.ndarray] = {}
    for gi, gl in enumerate(g_labels):
        sel = gs == gi
        tg, sg, ag = ts[sel], ss[sel], any_event[sel]
        sorted_times[gl] = tg
        curves[gl] = {}
        for c in cause_codes:
            ut, est, var = aalen_johansen(tg, (sg == c).astype(np.int64), ag)
            curves[gl][label(c)] = CumIncCurve(
                group=gl,
                cause=label(c),
                times=ut,
                estimate=est,
                variance=var,
                max_time=float(tg[-1]),
                n=int(tg.size),
            )
    gray: dict[str, GrayTestResult] = {}
    if strata is not None and len(g_labels) < 2:
        warnings.append("strata are used only by Gray's test, which needs >= 2 groups; ignored")
    if len(g_labels) > 1:
        o2 = np.lexsort((t, st_codes))
        t2, s2, g2, st2 = t[o2], s[o2], g_codes[o2], st_codes[o2]
        for c in cause_codes:
            res = gray_sorted(t2, s2, g2, st2, g_labels, len(st_labels), c, rho, cencode)
            if c not in present:  # a declared cause without events: say so, not "singular"
                res = replace(res, warning=f"no events of cause {label(c)}; the test is undefined")
            gray[label(c)] = res
            if res.warning:
                warnings.append(f"Gray's test, cause {label(c)}: {res.warning}")
    if tq is not None:
        for gl in g_labels:
            late = tq[tq > sorted_times[gl][-1]]
            if late.size:
                warnings.append(
                    f"group {gl}: times {', '.join(f'{x:g}' for x in late)} are after its last "
                    f"follow-up ({sorted_times[gl][-1]:g}); values are null there"
                )
    return CumIncResult(
        curves=curves,
        gray=gray,
        groups=g_labels,
        causes=[label(c) for c in cause_codes],
        level=float(level),
        rho=float(rho),
        n_strata=len(st_labels),
        requested_times=tq,
        n=n,
        warnings=warnings,
        _sorted_times=sorted_times,
    )
