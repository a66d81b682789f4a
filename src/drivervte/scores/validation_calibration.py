"""Calibration of a risk score: observed cumulative incidence per risk group vs expected.

Observed: the Aalen-Johansen cumulative incidence of the cause of interest in each group at
each time, with cmprsk's delta-method variance (``cmprsk::cuminc`` + ``timepoints``, via
:func:`drivervte.survival.cuminc.cumulative_incidence`), and its log(-log) interval.

Expected: the risk the score's paper published for the group (a ``PublishedRisk``, reported
only at the time equal to its horizon, in months: a 6-month risk is not a 3- or 12-month
risk, and drivervte does not rescale it), or, with a user's predicted risk, the mean
predicted risk in the group (compared at every requested time: the user states the horizon
the prediction is for).

Ratio observed / expected and the difference are left to the reader (both are in the
``to_dict()`` rows' numbers); no Hosmer-Lemeshow-type test is computed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from drivervte.survival.cuminc import cif_confint, cumulative_incidence

__all__ = ["calibration_table"]


def calibration_table(time: np.ndarray, status: np.ndarray, group: Sequence[str],
                      times: Sequence[float], expected: dict[str, dict[float, float | None]],
                      cause: int = 1, level: float = 0.95,
                      order: Sequence[str] | None = None) -> tuple[list[dict], list[str]]:
    """Rows ``{time, group, n, events, observed, observed_variance, lower, upper, expected}``.

    Parameters
    ----------
    group: one label per row.
    expected: ``{group: {time: expected risk or None}}``.
    order: the order of the groups in the output (default: sorted labels).

    Returns
    -------
    rows, warnings
    """
    time = np.asarray(time, float)
    status = np.asarray(status)
    labels = np.asarray(group, dtype=object)
    res = cumulative_incidence(time, status, group=labels, times=list(times), level=level)
    cause_label = str(int(cause))
    vals = res.at(np.asarray(times, float))
    groups = list(order) if order is not None else list(res.groups)
    rows: list[dict] = []
    warnings = list(res.warnings)
    for g in groups:
        sel = labels == g
        n_g = int(sel.sum())
        if n_g == 0:
            continue
        by_cause = vals.get(g, {})
        v = by_cause.get(cause_label)
        for k, t in enumerate(times):
            if v is None:  # no event of the cause in the whole cohort: CIF 0
                est, var = 0.0, 0.0
            else:
                est, var = float(v["estimate"][k]), float(v["variance"][k])
            lo, hi = cif_confint(np.array([est]), np.array([var]), level)
            rows.append({
                "time": float(t), "group": g, "n": n_g,
                "events": int(np.sum(sel & (time <= t) & (status == cause))),
                "observed": est, "observed_variance": var,
                "lower": float(lo[0]), "upper": float(hi[0]),
                "expected": expected.get(g, {}).get(float(t)),
            })
    return rows, warnings
