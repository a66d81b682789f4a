"""Fine-Gray with delayed entry (left truncation), as R ``survival::finegray`` + ``coxph``.

``crr`` has no delayed entry. With entry times :math:`E_i < T_i`, Geskus (2011, Biometrics
67: 39-49) keeps a competing failure in the risk set after :math:`T_j` with weight

.. math::

    w_j(t) = \\frac{\\hat G(t-)\\hat H(t-)}{\\hat G(T_j-)\\hat H(T_j-)}

where :math:`\\hat G` is the Kaplan-Meier of censoring computed on the left-truncated data
(risk set :math:`E_i < u \\le T_i`) and :math:`\\hat H` the reverse-time (Lynden-Bell)
estimate of the entry distribution; everyone else is at risk while
:math:`E_i < t \\le T_i`. The estimate maximises the weighted Breslow partial likelihood,
which is what ``coxph(Surv(fgstart, fgstop, fgstatus) ~ x, weight = fgwt, data =
finegray(Surv(entry, time, ev) ~ ., id = id))`` computes on the expanded data; here the
weights are applied inside the linear-time scan of :mod:`.finegray_scan` (a subtraction of
the not-yet-entered subjects), without expanding the data.

Conventions reproduced from ``survival::finegray`` (survival 3.5): entry and exit times
closer than :math:`\\sqrt{\\epsilon}` are first merged (``timefix``, :func:`aeq_times`); times are replaced by
their ranks among all entry and exit times, and an event or competing exit is moved 0.2
rank earlier, so a censoring or an entry tied with a failure counts *after* it (in
:math:`\\hat G` and :math:`\\hat H` alike); the combined step function :math:`\\hat G\\hat H`
changes at censoring and entry times; :math:`\\hat H` is used only when some entry is later
than the earliest exit (``finegray``'s ``delay``). With ties these conventions differ from
``crr``'s (whose censoring KM counts failures tied with a censoring as still at risk), so
the two agree on coefficients only when no failure time is tied with a censoring time.

Standard errors (``se``): the robust variance of ``coxph(..., cluster = id)``, i.e. the
sandwich of the per-subject score residuals **with the weights treated as known**
(no :math:`\\psi` term for the estimated :math:`\\hat G\\hat H`, unlike ``crr``'s ``var``);
``se_model`` is ``coxph``'s ``naive.var``. ``cengroup`` and ``cov2`` are not available
with delayed entry.

A risk set that empties between entries (everyone who entered has left before the next
subject enters) makes :math:`\\hat H` (or :math:`\\hat G`) 0 before that time and the weight
of an earlier competing failure 0/0; ``finegray`` then writes NaN weights that ``coxph``
drops without a word. Here this is an :class:`~drivervte.errors.InputError` naming the rows.
"""

from __future__ import annotations

import numpy as np

from drivervte.errors import InputError
from drivervte.survival.finegray_newton import newton
from drivervte.survival.finegray_scan import fast_kernel, fast_loglik, prepare, sandwich_terms

__all__ = ["aeq_times", "fit_ltrunc", "truncation_weights"]


def aeq_times(entry: np.ndarray, time: np.ndarray, rows: np.ndarray | None = None):
    """Merge nearly equal times as R ``survival::aeqSurv`` (``finegray``'s ``timefix``).

    Among the sorted distinct entry and exit times :math:`y`, a time whose gap to the
    previous one is at most :math:`\\sqrt{\\epsilon}` in absolute value or relative to
    ``mean(|y|)`` is tied with it; every time is replaced by the first time of its run
    of ties. Returns the (possibly) new ``entry, time``; an interval that collapses to
    length 0 is an :class:`InputError` (R: "aeqSurv exception").
    """
    tol = np.sqrt(np.finfo(float).eps)
    y = np.unique(np.concatenate((entry, time)))
    y = y[np.isfinite(y)]
    dy = np.diff(y)
    tied = (dy <= tol) | (dy / np.mean(np.abs(y)) <= tol)
    if not tied.any():
        return entry, time
    cuts = y[np.concatenate(([True], ~tied))]
    ze = np.searchsorted(cuts, entry, side="right") - 1
    zt = np.searchsorted(cuts, time, side="right") - 1
    bad = np.flatnonzero(ze == zt)
    if bad.size:
        raise InputError(
            "entry and time are equal to within sqrt(machine epsilon) (R survival's timefix "
            "treats them as equal, an interval of length 0); drop these rows or fix the times",
            column="entry",
            rows=bad if rows is None else rows[bad],
        )
    return cuts[ze], cuts[zt]


def truncation_weights(entry: np.ndarray, time: np.ndarray, ici: np.ndarray):
    """The step function :math:`W(t-) = \\hat G(t-)\\hat H(t-)` of ``survival::finegray``.

    Returns ``wfun(x)``: for each ``x``, the weight of the interval that contains ``x``,
    i.e. ``cp2[#{ct2 < x}]`` in ``finegray``'s notation.
    """
    utime = np.unique(np.concatenate((entry, time)))
    rs = np.searchsorted(utime, entry) + 1.0  # ranks, 1-based as findInterval
    rt = np.searchsorted(utime, time) + 1.0
    stop = np.where(ici != 0, rt - 0.2, rt)
    cens = ici == 0
    # censoring KM on (rs, stop]: Y(r) = #{rs < r <= stop}
    cr, cc = np.unique(rt[cens], return_counts=True)
    s_stop, s_start = np.sort(stop), np.sort(rs)
    # (an entry at rank r is not yet at risk at r: #{rs >= r} is subtracted)
    Y = (stop.size - np.searchsorted(s_stop, cr, side="left")) - (
        rs.size - np.searchsorted(s_start, cr, side="left")
    )
    G = np.cumprod(1.0 - cc / Y)
    delay = bool(np.any(entry > time.min()))
    if delay:
        # reverse-time KM of entries: at entry rank e, Y_H(e) = #{rs <= e < stop}
        er, ec = np.unique(rs, return_counts=True)
        YH = np.searchsorted(s_start, er, side="right") - np.searchsorted(s_stop, er, side="right")
        SH = np.cumprod((1.0 - ec / YH)[::-1])[::-1]  # S_H at each entry rank (ascending)
        dprob = np.concatenate((SH[1:], [1.0]))
        temp = np.union1d(er, cr)
        i1 = np.searchsorted(er, temp, side="right")  # >= 1: temp >= first entry
        i2 = np.searchsorted(cr, temp, side="right")
        cprob = dprob[i1 - 1] * np.concatenate(([1.0], G))[i2]
        ctime = utime[temp.astype(int) - 1]
    else:
        cprob = G
        ctime = utime[cr.astype(int) - 1]
    ct2 = np.concatenate((ctime, [time.max()]))
    cp2 = np.concatenate(([1.0], cprob))

    def wfun(x):
        j = np.searchsorted(ct2, np.asarray(x, dtype=float), side="left")
        return cp2[np.minimum(j, cp2.size - 1)]

    return wfun


def fit_ltrunc(est, inp):
    """Fit with delayed entry (called by :meth:`FineGray.fit` when ``entry`` is given)."""
    if inp.X2.shape[1]:
        raise InputError("cov2/tf cannot be combined with entry", column="cov2")
    if np.unique(inp.group).size > 1:
        raise InputError(
            "cengroup cannot be combined with entry (survival::finegray has no censoring groups)",
            column="cengroup",
        )
    s = inp.status
    ici = np.where(s == est.cencode, 0, np.where(s == est.cause, 1, 2))
    entry, time = aeq_times(inp.entry, inp.time, inp.rows)
    wfun = truncation_weights(entry, time, ici)
    # a zero weight matters only if a failure of the cause comes later (finegray: NaN rows)
    later = time < time[ici == 1].max()
    zero = np.flatnonzero((ici == 2) & later & ~(wfun(time) > 0))
    if zero.size:
        raise InputError(
            "delayed-entry weights are undefined (0/0) for competing failures at or before "
            f"time {float(time[zero].max()):g}: at some time the risk set is empty (every "
            "subject who entered earlier has left before the next one enters), so the "
            "censoring-and-entry curve G(t-)H(t-) is 0 there (R survival::finegray gives "
            "NaN weights and coxph silently drops those rows). Start follow-up after that "
            "gap (drop or re-time the early rows) or fit without entry",
            column="entry",
            rows=inp.rows[zero],
        )
    D = prepare(time, ici, inp.X, np.zeros(time.size, int), entry=entry, wfun=wfun)
    p = D.p
    beta, out, conv, it, reasons = newton(
        lambda b: fast_kernel(D, b),
        lambda b: fast_loglik(D, b),
        p,
        max_iter=est.max_iter,
        tol=est.tol,
        names=inp.names,
        sd=np.sqrt(np.einsum("ij,ij->j", D.X, D.X) / max(D.time.size, 1)),
        n_events=float(D.dk.sum()),
    )
    R, info, _, _, S0 = sandwich_terms(D, beta, kern=out, psi=False)
    return est._finish(
        D, beta, R, info, S0, loglik=out[0], loglik_null=fast_loglik(D, np.zeros(p)),
        conv=conv, iterations=it, reasons=reasons, ici=ici, inp=inp,
        notes=("delayed entry: weights of survival::finegray; se is the "
               "coxph robust (cluster) SE, without the weight-estimation term",))
