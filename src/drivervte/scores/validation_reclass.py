"""Net reclassification improvement at a horizon with competing risks.

Pencina MJ, D'Agostino RB Sr, Steyerberg EW. Extensions of net reclassification improvement
calculations to measure usefulness of new biomarkers. Stat Med 2011;30:11-21 (the
survival-time estimator, with Kaplan-Meier); here the Kaplan-Meier estimate of the event
probability is replaced by the Aalen-Johansen cumulative incidence of the cause of interest,
so that "event" means "event of interest by t" and "non-event" means everyone else
(event-free or a competing event first), the same split as the AUC's cases and controls.

With "up" the rows whose risk moves up under the new model (continuous NRI: new > old;
category NRI: a higher category for the given cut-offs), "down" likewise, :math:`\\hat F`
the Aalen-Johansen estimate at t in the whole cohort and :math:`\\hat F_{up}`,
:math:`\\hat F_{down}` in the subgroups, :math:`\\hat p_{up}` the proportion moving up:

.. math:: NRI_{e} = \\frac{\\hat F_{up} \\hat p_{up} - \\hat F_{down} \\hat p_{down}}{\\hat F},
          \\qquad NRI_{ne} = \\frac{(1 - \\hat F_{down}) \\hat p_{down} -
          (1 - \\hat F_{up}) \\hat p_{up}}{1 - \\hat F},

(Bayes' rule: :math:`P(up \\mid event) = P(event \\mid up) P(up) / P(event)`) and
:math:`NRI = NRI_e + NRI_{ne}`. No analytic standard error is given (the published ones rest on the
bootstrap: ``validate_score(..., bootstrap=B)``, :mod:`drivervte.scores.validation_bootstrap`);
the continuous NRI is 2 x the net proportions, ranging over [-2, 2].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["nri_competing", "nri_competing_times"]


def _cif_at(time: np.ndarray, status: np.ndarray, ts: np.ndarray, cause: int) -> np.ndarray:
    """Aalen-Johansen cumulative incidence of ``cause`` at each of ``ts`` (NaN after the
    last follow-up), the point estimate of :func:`drivervte.survival.cuminc.aalen_johansen`
    (``cmprsk::cuminc``) with the same arithmetic, computed once for all ``ts``.

    When everyone left at the last time has an event, the all-cause survival is 0 there and
    the cumulative incidence is final: it stays defined after the last time.
    """
    ts = np.asarray(ts, float)
    if time.size == 0:
        return np.full(ts.shape, np.nan)
    tmax = float(time.max())
    if not np.any(status != 0):
        return np.where(ts <= tmax, 0.0, np.nan)
    final = bool(np.all(status[time == tmax] != 0))
    tq = np.minimum(ts, tmax) if final else ts
    u, inv, counts = np.unique(time, return_inverse=True, return_counts=True)
    d1 = np.bincount(inv, weights=(status == cause).astype(float), minlength=u.size)
    nd = np.bincount(inv, weights=(status != 0).astype(float), minlength=u.size)
    rs = (time.size - np.concatenate(([0], np.cumsum(counts)[:-1]))).astype(float)
    keep = nd > 0
    u, d1, nd, rs = u[keep], d1[keep], nd[keep], rs[keep]
    fkn = np.cumprod((rs - nd) / rs)
    fk = np.concatenate(([1.0], fkn[:-1]))
    f = np.cumsum(fk * d1 / rs)
    idx = np.searchsorted(u, tq, side="right") - 1
    est = np.where(idx >= 0, f[np.maximum(idx, 0)], 0.0)
    return np.where(tq > tmax, np.nan, est)


def nri_competing(time: np.ndarray, status: np.ndarray, old: np.ndarray, new: np.ndarray,
                  t: float, cause: int = 1,
                  cutoffs: Sequence[float] | None = None) -> dict:
    """NRI at ``t``: ``{time, type, cutoffs, nri, nri_events, nri_nonevents, p_up, p_down,
    reason}`` (continuous when ``cutoffs`` is None, else category)."""
    return nri_competing_times(time, status, old, new, [t], cause, cutoffs)[0]


def nri_competing_times(time: np.ndarray, status: np.ndarray, old: np.ndarray,
                        new: np.ndarray, times: Sequence[float], cause: int = 1,
                        cutoffs: Sequence[float] | None = None) -> list[dict]:
    """:func:`nri_competing` at each of ``times``: the up/down split does not depend on the
    time, so each of the three cumulative incidence curves (all, up, down) is computed once
    (linear after one sort)."""
    time = np.asarray(time, float)
    status = np.asarray(status)
    old = np.asarray(old, float)
    new = np.asarray(new, float)
    ts = np.asarray([float(t) for t in times])
    if cutoffs is None:
        up, down = new > old, new < old
        kind = "continuous"
    else:
        cuts = np.sort(np.asarray(cutoffs, float))
        c_old = np.searchsorted(cuts, old, side="right")
        c_new = np.searchsorted(cuts, new, side="right")
        up, down = c_new > c_old, c_new < c_old
        kind = "category"
    p_up, p_down = float(up.mean()), float(down.mean())
    f_all = _cif_at(time, status, ts, cause)
    f_up = _cif_at(time[up], status[up], ts, cause) if up.any() else np.zeros(ts.size)
    f_down = (_cif_at(time[down], status[down], ts, cause) if down.any()
              else np.zeros(ts.size))
    nan = float("nan")
    out = []
    for k, t in enumerate(ts.tolist()):
        row = {"time": t, "type": kind,
               "cutoffs": None if cutoffs is None else [float(c) for c in cutoffs],
               "p_up": p_up, "p_down": p_down}
        fa, fu, fd = float(f_all[k]), float(f_up[k]), float(f_down[k])
        if not np.isfinite(fa) or fa <= 0 or fa >= 1:
            out.append({**row, "nri": nan, "nri_events": nan, "nri_nonevents": nan,
                        "reason": f"cumulative incidence at {t:g} is {fa:.4g}: NRI undefined"})
        elif not (np.isfinite(fu) and np.isfinite(fd)):
            out.append({**row, "nri": nan, "nri_events": nan, "nri_nonevents": nan,
                        "reason": f"follow-up in the up or down group ends before {t:g}: "
                                  "NRI undefined"})
        else:
            ne = (fu * p_up - fd * p_down) / fa
            nne = ((1 - fd) * p_down - (1 - fu) * p_up) / (1 - fa)
            out.append({**row, "nri": ne + nne, "nri_events": ne, "nri_nonevents": nne,
                        "reason": None})
    return out
