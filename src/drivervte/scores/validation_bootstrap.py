"""Nonparametric bootstrap of score validation: SEs and percentile intervals.

The C-index and the NRI have no standard error in :mod:`drivervte.scores.validation`
(``pec::cindex`` reports none; the published NRI SEs rest on the bootstrap). Here the
whole procedure is resampled (Efron B, Tibshirani RJ. *An Introduction to the Bootstrap*,
1993, ch. 6 and 13; Harrell FE, Lee KL, Mark DB. Stat Med 1996;15:361-387 for validating
risk scores this way): each of ``B`` replicates draws ``n`` patients (the rows used) with
replacement, refits the reverse Kaplan-Meier censoring weights on the resample and
recomputes every statistic (AUC, Wolbers' C, NRI) there, so that the variability of the
IPCW weights is part of the interval.

For each statistic, with :math:`\\hat\\theta^*_1, \\dots, \\hat\\theta^*_B` the replicates
that are defined (finite):

- ``se_boot``: their standard deviation (``ddof = 1``, as R's ``sd`` and ``boot``);
- ``ci_lower``, ``ci_upper``: the percentile interval, the :math:`(1 - \\text{level})/2`
  and :math:`(1 + \\text{level})/2` sample quantiles (linear interpolation between order
  statistics, R's ``quantile(type = 7)``);
- ``bootstrap``: ``B``; ``bootstrap_failed``: replicates where the statistic was undefined
  (no case or no comparable pair by the horizon, a cumulative incidence of 0 in the
  resample...). They are left out of the SD and the quantiles, counted and reported: the
  interval is then conditional on a defined statistic.

Random numbers come only from ``numpy.random.default_rng(seed)`` (no global state): the
same seed gives the same replicates. With ``seed=None`` fresh entropy is drawn and
reported, so that any run can be repeated.

Cost per replicate: one ``rng.integers`` draw and the estimators on the resample, each
O(n log n) from one sort (AUC: sort by marker; C: sort by time and marker, then log2(n)
vectorized O(n) passes; NRI: three Aalen-Johansen curves), all horizons in one pass for
C and NRI. ``benchmarks/bench_validation_bootstrap.py`` measures it.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from drivervte.errors import InputError
from drivervte.scores.validation_auc import CensoringKM, auc_competing
from drivervte.scores.validation_cindex import cindex_competing_times
from drivervte.scores.validation_reclass import nri_competing_times

__all__ = [
    "BootstrapSummary",
    "add_bootstrap_keys",
    "attach_bootstrap",
    "bootstrap_replicates",
    "bootstrap_validation",
    "check_bootstrap_options",
    "summarize_replicates",
    "validation_statistics",
]


def check_bootstrap_options(bootstrap: object, seed: object,
                            names: tuple[str, str] = ("bootstrap", "seed")
                            ) -> tuple[int, np.random.SeedSequence | None]:
    """Validate ``bootstrap`` (0 = off, else an integer >= 2) and ``seed``.

    Returns ``(B, seed_sequence)``; the seed sequence is None when ``B == 0``. ``names``
    are the option names used in the errors (``("--bootstrap", "--seed")`` from the CLI).
    """
    b_name, s_name = names
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, numbers.Integral):
        if isinstance(bootstrap, float) and bootstrap.is_integer():
            bootstrap = int(bootstrap)
        else:
            raise InputError(f"the number of bootstrap resamples must be a whole number, not "
                             f"{bootstrap!r} (0 = no bootstrap; e.g. 200 or 1000)",
                             column=b_name)
    b = int(bootstrap)
    if b < 0 or b == 1:
        raise InputError(f"{b} bootstrap resamples: give 0 (no bootstrap) or at least 2 "
                         "(e.g. 200 for an SE, 1000 or more for a percentile interval)",
                         column=b_name)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                             or int(seed) < 0):
        raise InputError(f"the seed must be a whole number >= 0, not {seed!r}", column=s_name)
    if b == 0:
        return 0, None
    return b, np.random.SeedSequence(None if seed is None else int(seed))


def bootstrap_replicates(statistic: Callable[[np.ndarray], np.ndarray], n: int, B: int,
                         rng: np.random.Generator) -> np.ndarray:
    """``B`` x k array of ``statistic(idx)`` over resamples ``idx`` of ``range(n)``.

    Each ``idx`` is ``rng.integers(0, n, size=n)``: n rows drawn with replacement, not
    stratified. ``statistic`` returns a vector of k numbers (NaN where undefined).
    """
    out: np.ndarray | None = None
    for b in range(B):
        vals = np.asarray(statistic(rng.integers(0, n, size=n)), dtype=float)
        if out is None:
            out = np.full((B, vals.size), np.nan)
        out[b] = vals
    return out if out is not None else np.empty((0, 0))


@dataclass
class BootstrapSummary:
    """One statistic's bootstrap: SD, percentile interval, replicates used and failed."""

    se_boot: float
    ci_lower: float
    ci_upper: float
    bootstrap: int
    bootstrap_failed: int

    def as_dict(self) -> dict:
        return {"se_boot": self.se_boot, "ci_lower": self.ci_lower,
                "ci_upper": self.ci_upper, "bootstrap": self.bootstrap,
                "bootstrap_failed": self.bootstrap_failed}


def summarize_replicates(reps: np.ndarray, level: float = 0.95) -> list[BootstrapSummary]:
    """Per column of ``reps`` (B x k): SD and percentile interval of the finite values.

    Non-finite replicates are counted in ``bootstrap_failed`` and left out; with fewer than
    2 finite ones the SE and the interval are NaN.
    """
    reps = np.asarray(reps, dtype=float)
    B = reps.shape[0]
    alpha = (1.0 - level) / 2.0
    out = []
    for col in reps.T:
        ok = col[np.isfinite(col)]
        failed = int(B - ok.size)
        if ok.size < 2:
            out.append(BootstrapSummary(np.nan, np.nan, np.nan, B, failed))
            continue
        lo, hi = np.quantile(ok, [alpha, 1.0 - alpha])
        out.append(BootstrapSummary(float(np.std(ok, ddof=1)), float(lo), float(hi), B,
                                    failed))
    return out


def validation_statistics(time: np.ndarray, status: np.ndarray, marker: np.ndarray,
                          times: Sequence[float], cause: int = 1,
                          old: np.ndarray | None = None, new: np.ndarray | None = None,
                          compared: np.ndarray | None = None,
                          cutoffs: Sequence[float] | None = None) -> np.ndarray:
    """The statistics that :func:`validate_score` bootstraps, as one vector.

    Order: AUC at each time, Wolbers' C at each time, then (with ``old`` and ``new``) the
    continuous NRI at each time and (with ``cutoffs``) the category NRI at each time; NaN
    where undefined. The censoring Kaplan-Meier is fitted on these rows (``time``,
    ``status``), as in the point estimate. The model comparison uses the rows where
    ``compared`` is True (both risks known), as :func:`validate_score` does.
    """
    km = CensoringKM.fit(time, status)
    vals = [auc_competing(time, status, marker, t, cause, 0.95, km, se=False).estimate
            for t in times]
    vals += [c.estimate for c in cindex_competing_times(time, status, marker, times, cause,
                                                         "km", km)]
    if old is not None and new is not None:
        sel = np.ones(time.size, bool) if compared is None else compared
        ts, ss, o, w = time[sel], status[sel], old[sel], new[sel]
        kinds = [None] if cutoffs is None else [None, cutoffs]
        for cuts in kinds:
            if ts.size:
                vals += [r["nri"] for r in nri_competing_times(ts, ss, o, w, times, cause,
                                                               cuts)]
            else:
                vals += [np.nan] * len(times)
    return np.asarray(vals, dtype=float)


def bootstrap_validation(time: np.ndarray, status: np.ndarray, marker: np.ndarray,
                         times: Sequence[float], cause: int, B: int,
                         seed: np.random.SeedSequence, level: float = 0.95,
                         old: np.ndarray | None = None, new: np.ndarray | None = None,
                         compared: np.ndarray | None = None,
                         cutoffs: Sequence[float] | None = None) -> dict:
    """Bootstrap :func:`validation_statistics` over the patients (rows).

    Returns ``{"auc": [BootstrapSummary per time], "cindex": [...], "nri": [...]}`` (NRI
    rows in the order continuous per time, then category per time; empty without a
    comparison) and ``"replicates"``, the B x k array.
    """
    k = len(times)

    def stat(idx: np.ndarray) -> np.ndarray:
        return validation_statistics(
            time[idx], status[idx], marker[idx], times, cause,
            None if old is None else old[idx], None if new is None else new[idx],
            None if compared is None else compared[idx], cutoffs)

    reps = bootstrap_replicates(stat, time.size, B, np.random.default_rng(seed))
    summ = summarize_replicates(reps, level)
    return {"auc": summ[:k], "cindex": summ[k:2 * k], "nri": summ[2 * k:],
            "replicates": reps}


def add_bootstrap_keys(row: dict, summ: BootstrapSummary, name: str, warnings: list[str]) -> None:
    """Add the bootstrap keys to one result row (``as_dict`` of ``summ``); the SE and the
    interval are NaN when the row's estimate is; failed resamples add a warning."""
    est = row.get("estimate", row.get("nri"))
    d = summ.as_dict()
    if est is None or not np.isfinite(est):
        d.update(se_boot=float("nan"), ci_lower=float("nan"), ci_upper=float("nan"))
    elif d["bootstrap_failed"]:
        what = f"{name} at {row['time']:g}" + (f" ({row['type']})" if "type" in row else "")
        warnings.append(f"{d['bootstrap_failed']} of {d['bootstrap']} bootstrap resamples "
                        f"had an undefined {what}: its SE and interval use the other "
                        f"{d['bootstrap'] - d['bootstrap_failed']}")
    row.update(d)


def attach_bootstrap(rows: dict[str, list[dict]], time: np.ndarray, status: np.ndarray,
                     marker: np.ndarray, times: Sequence[float], cause: int, B: int,
                     seed: np.random.SeedSequence, level: float, warnings: list[str],
                     old: np.ndarray | None = None, new: np.ndarray | None = None,
                     compared: np.ndarray | None = None,
                     cutoffs: Sequence[float] | None = None) -> dict:
    """Run :func:`bootstrap_validation` and add its keys to the result rows in place.

    ``rows`` maps "AUC", "C-index", "NRI" to :func:`validate_score`'s row lists (the NRI
    rows continuous per time, then category per time). Returns the result's top-level
    ``bootstrap`` block; appends warnings for failed resamples and for B < 200.
    """
    bs = bootstrap_validation(time, status, marker, times, cause, B, seed, level, old, new,
                              compared, cutoffs)
    for (name, rows_), key in zip(rows.items(), ("auc", "cindex", "nri"), strict=True):
        for row, sm in zip(rows_, bs[key], strict=True):
            add_bootstrap_keys(row, sm, name, warnings)
    if B < 200:
        warnings.append(f"only {B} bootstrap resamples: the percentile limits are rough "
                        "(use 1000 or more for a reported interval)")
    return {"replicates": B, "seed": seed.entropy, "level": float(level),
            "interval": "percentile",
            "resampled": f"the {time.size} patients (rows used), with replacement; censoring "
                         "weights and every estimate recomputed in each resample"}
