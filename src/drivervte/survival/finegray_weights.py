"""Kaplan-Meier censoring weights for Fine-Gray, with ``cmprsk::crr``'s exact conventions.

Fine and Gray (1999) keep a subject who failed from a competing cause at time :math:`T_j`
in the risk set after :math:`T_j` with weight :math:`\\hat G(t-)/\\hat G(T_j-)`, where
:math:`\\hat G` is the Kaplan-Meier estimate of the censoring distribution (censorings are
the "events"; failures of any cause are censored observations of it).

``crr`` (cmprsk 2.2-11, R function ``crr``) computes, for each censoring group ``g``
(``cengroup``), ``survfit(Surv(ftime, cenind) ~ 1)`` on the group's subjects and evaluates
that step function with ``approx(method = "constant", f = 0, rule = 2)`` at
``ftime * (1 - 100 * .Machine$double.eps)`` with the knots

* ``min(0, times) - 10 * eps`` -> 1,
* every distinct time of the group -> its KM value,
* ``max(times) * (1 + 10 * eps)`` -> 0.

Consequences reproduced here (bit for bit in the knots):

* for :math:`t > 0` the value is the left limit :math:`\\hat G_g(t-)`;
* for :math:`t = 0` it is :math:`\\hat G_g(0)` (censorings at time 0 count);
* for :math:`t` beyond the last time observed in group ``g`` it is **0**, not the last KM
  value (matters only with ``cengroup``).

Two distinct times closer than ~100 ulp would be merged by this convention; so they are
in ``crr``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["censoring_km", "eval_censoring"]

_EPS = np.finfo(float).eps


def censoring_km(time: np.ndarray, censored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knots and values of ``crr``'s censoring step function for one group.

    Parameters
    ----------
    time : (m,) float array of the group's times (any order).
    censored : (m,) bool array, True where the subject is censored.

    Returns
    -------
    knots, values : arrays of length (#distinct times + 2), as in ``crr``'s ``approx`` call.
    """
    if time.size > 1 and np.all(time[1:] >= time[:-1]):
        t, c = time, censored.astype(float)  # already sorted (the usual call)
    else:
        order = np.argsort(time, kind="stable")
        t, c = time[order], censored[order].astype(float)
    start = np.flatnonzero(np.concatenate(([True], t[1:] != t[:-1])))
    uniq = t[start]
    n_risk = t.size - start  # number with time >= u
    n_cens = np.add.reduceat(c, start) if t.size else np.zeros(0)
    surv = np.cumprod(1.0 - n_cens / n_risk)
    knots = np.concatenate(
        ([min(0.0, float(uniq[0])) - 10 * _EPS], uniq, [float(uniq[-1]) * (1 + 10 * _EPS)])
    )
    values = np.concatenate(([1.0], surv, [0.0]))
    return knots, values


def eval_censoring(knots: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``approx(knots, values, xout = at * (1 - 100 eps), "constant", f = 0, rule = 2)``."""
    x = np.asarray(at, dtype=float) * (1 - 100 * _EPS)
    idx = np.searchsorted(knots, x, side="right") - 1
    out = values[np.clip(idx, 0, values.size - 1)]
    out = np.where(idx < 0, values[0], out)
    return out
