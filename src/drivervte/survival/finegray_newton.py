"""Newton-Raphson with backtracking for the Fine-Gray log pseudo-likelihood (as ``crr``).

``crr`` (R ``cmprsk``) iterates ``b <- b + H^{-1} U`` from ``b = 0``; it backtracks by
halving the step until the Armijo condition
``l(b_new) >= l(b) + 1e-4 * step'U`` holds (at most 20 halvings) and stops when
``max(|U| * pmax(|b|, 1)) < max(|l|, 1) * gtol``.

We use the same step and the same test, with a tighter default ``tol`` (1e-9 instead of
``gtol = 1e-6``) **and** require the full Newton step to be small
(``|H^{-1}U| <= 1e-9 * max(1, |b|)``; Newton converges quadratically, so the estimate is
then exact to rounding). The second test is what catches a monotone
likelihood (e.g. a binary covariate with no events in one level): there the score decays
geometrically while the coefficient walks to infinity by about one unit per step, so
``crr``'s score test alone can report convergence at a meaningless value. Such fits end
with ``converged=False`` and a reason naming the diverging coefficients. The Armijo test
allows a slack of 16 ulp of the log-likelihood, so a Newton step that is already at the
rounding level is not mistaken for a failed ascent.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["newton"]


def newton(kernel: Callable, loglik: Callable, p: int, *, max_iter: int, tol: float,
           names: list[str], init: np.ndarray | None = None,
           sd: np.ndarray | None = None, n_events: float = 1.0):
    """Maximise; returns (beta, (ll, U, H, extra), converged, iterations, reasons).

    ``sd`` (covariate standard deviations) and ``n_events`` enable the divergence check
    of :func:`diverging` on a converged fit.
    """
    b, out, conv, it, reasons = _newton(kernel, loglik, p, max_iter=max_iter, tol=tol,
                                        names=names, init=init)
    if conv and sd is not None:
        bad = diverging(b, out[2], sd, n_events)
        if bad.size:
            conv = False
            reasons.append(
                "monotone likelihood: coefficient(s) " + ", ".join(names[k] for k in bad)
                + " diverge to +/-infinity (e.g. no events in one level of a binary "
                "covariate); the estimates and their standard errors are not usable")
    return b, out, conv, it, reasons


def diverging(b: np.ndarray, H: np.ndarray, sd: np.ndarray, n_events: float) -> np.ndarray:
    """Indices of coefficients that run off to infinity (monotone likelihood).

    With a monotone likelihood the pseudo-likelihood keeps rising along one direction; the
    Newton iteration walks ~1 unit per step while score and information decay like
    :math:`e^{-|\\beta_k|}`, so a score-based stopping rule (``crr``'s) eventually reports
    convergence at a meaningless value. We flag coefficient k when its standardised
    information is vanishing, :math:`H_{kk} s_k^2 / d < 10^{-8}` (in a regular fit it is of
    the order of the variance fraction of :math:`x_k` within risk sets, far above that), or
    when its standardised size :math:`|\\beta_k| s_k > 20` (a hazard ratio above
    :math:`e^{20}` per standard deviation).
    """
    sd = np.asarray(sd, dtype=float)
    info = np.abs(np.diag(H)) * sd**2 / max(n_events, 1.0)
    return np.flatnonzero((info < 1e-8) | (np.abs(b) * sd > 20))


def _newton(kernel: Callable, loglik: Callable, p: int, *, max_iter: int, tol: float,
            names: list[str], init: np.ndarray | None = None):
    b = np.zeros(p) if init is None else np.asarray(init, dtype=float).copy()
    reasons: list[str] = []
    it = 0
    out = kernel(b)
    while True:
        ll, U, H = out[0], out[1], out[2]
        if not (np.isfinite(ll) and np.all(np.isfinite(U)) and np.all(np.isfinite(H))):
            reasons.append("log pseudo-likelihood or its derivatives are not finite")
            return b, out, False, it, reasons
        try:
            step = np.linalg.solve(H, U)
        except np.linalg.LinAlgError:
            reasons.append("information matrix is singular (collinear covariates or "
                           "a coefficient diverging to infinity)")
            return b, out, False, it, reasons
        score_ok = np.max(np.abs(U) * np.maximum(np.abs(b), 1), initial=0) < max(abs(ll), 1) * tol
        scale_b = np.maximum(np.abs(b), 1)
        step_ok = np.all(np.abs(step) <= 1e-9 * scale_b)
        step_tiny = np.all(np.abs(step) <= 1e-6 * scale_b)
        if score_ok and step_ok:
            return b, out, True, it, reasons
        if it >= max_iter:
            big = [names[k] for k in np.flatnonzero(
                np.abs(step) > 1e-6 * np.maximum(np.abs(b), 1))]
            if score_ok and big:
                reasons.append(
                    "monotone likelihood: coefficient(s) " + ", ".join(big)
                    + " diverge to +/-infinity (e.g. no events in one level of a binary "
                    "covariate); the estimates are not finite")
            else:
                reasons.append(f"no convergence in {max_iter} Newton iterations")
            return b, out, False, it, reasons
        slope = float(step @ U)
        slack = 16 * np.finfo(float).eps * max(abs(ll), 1.0)  # rounding of the sums
        # the full step is evaluated with the whole kernel: accepted (the usual case), its
        # score and information serve the next iteration at no extra cost
        bn = b + step
        out_n = kernel(bn)
        fbn = out_n[0]
        halvings = 0
        while not np.isfinite(fbn) or fbn < ll + 1e-4 * slope - slack:
            out_n = None
            halvings += 1
            if halvings > 20:
                break
            step = step * 0.5
            slope *= 0.5
            bn = b + step
            fbn = loglik(bn)
        if halvings > 20:
            # No ascent along the Newton direction: at the optimum to rounding if the
            # score or the step is already tiny, otherwise a failure.
            if score_ok or step_tiny:
                return b, out, True, it, reasons
            reasons.append("step-halving failed (20 halvings without increase)")
            return b, out, False, it, reasons
        b = bn
        out = out_n if out_n is not None else kernel(b)
        it += 1
