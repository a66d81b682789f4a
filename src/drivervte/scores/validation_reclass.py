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
:math:`NRI = NRI_e + NRI_{ne}`. No standard error is given (the published ones rest on the
bootstrap); the continuous NRI is 2 x the net proportions, ranging over [-2, 2].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from drivervte.survival.cuminc import cumulative_incidence

__all__ = ["nri_competing"]


def _cif_at(time: np.ndarray, status: np.ndarray, t: float, cause: int) -> float:
    if time.size == 0:
        return float("nan")
    if not np.any(status != 0):
        return 0.0 if time.max() >= t else float("nan")
    # when everyone left at the last time has an event, the all-cause survival is 0 there
    # and the cumulative incidence is final: it stays defined after the last time
    final = bool(np.all(status[time == time.max()] != 0))
    tq = min(t, float(time.max())) if final else t
    res = cumulative_incidence(time, status)
    curve = res.curves["1"].get(str(int(cause)))
    if curve is None:
        return 0.0 if time.max() >= tq else float("nan")
    return float(curve.at(np.array([tq]))[0][0])


def nri_competing(time: np.ndarray, status: np.ndarray, old: np.ndarray, new: np.ndarray,
                  t: float, cause: int = 1,
                  cutoffs: Sequence[float] | None = None) -> dict:
    """NRI at ``t``: ``{time, type, cutoffs, nri, nri_events, nri_nonevents, p_up, p_down,
    reason}`` (continuous when ``cutoffs`` is None, else category)."""
    time = np.asarray(time, float)
    status = np.asarray(status)
    old = np.asarray(old, float)
    new = np.asarray(new, float)
    if cutoffs is None:
        up, down = new > old, new < old
        kind = "continuous"
    else:
        cuts = np.sort(np.asarray(cutoffs, float))
        c_old = np.searchsorted(cuts, old, side="right")
        c_new = np.searchsorted(cuts, new, side="right")
        up, down = c_new > c_old, c_new < c_old
        kind = "category"
    out = {"time": float(t), "type": kind,
           "cutoffs": None if cutoffs is None else [float(c) for c in cutoffs],
           "p_up": float(up.mean()), "p_down": float(down.mean())}
    f_all = _cif_at(time, status, t, cause)
    nan = float("nan")
    if not np.isfinite(f_all) or f_all <= 0 or f_all >= 1:
        return {**out, "nri": nan, "nri_events": nan, "nri_nonevents": nan,
                "reason": f"cumulative incidence at {t:g} is {f_all:.4g}: NRI undefined"}
    f_up = _cif_at(time[up], status[up], t, cause) if up.any() else 0.0
    f_down = _cif_at(time[down], status[down], t, cause) if down.any() else 0.0
    if not (np.isfinite(f_up) and np.isfinite(f_down)):
        return {**out, "nri": nan, "nri_events": nan, "nri_nonevents": nan,
                "reason": f"follow-up in the up or down group ends before {t:g}: NRI undefined"}
    p_up, p_down = out["p_up"], out["p_down"]
    ne = (f_up * p_up - f_down * p_down) / f_all
    nne = ((1 - f_down) * p_down - (1 - f_up) * p_up) / (1 - f_all)
    return {**out, "nri": ne + nne, "nri_events": ne, "nri_nonevents": nne, "reason": None}
