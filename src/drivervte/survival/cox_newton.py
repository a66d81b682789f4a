"""Newton-Raphson for the Cox partial likelihood, step for step as ``survival::coxph``.

The iteration is the one in ``survival``'s ``coxfit6.c`` (right-censored data) and
``agfit4.c`` (counting-process data):

1. Evaluate loglik, score ``U`` and information ``I`` at ``beta0`` (0); the score test is
   ``U' I^{-1} U`` there. Propose ``beta1 = beta0 + I^{-1} U``.
2. At iteration ``k`` evaluate the proposal. It is accepted as converged when everything
   is finite and ``|1 - best_loglik / loglik| <= eps`` (``agfit4`` also requires that no
   step-halving is under way). If the loglik is not finite or went down, *step-halving*:
   the proposal moves towards the last accepted point, ``(new + h * old) / (h + 1)`` with
   ``h`` = the number of consecutive halvings. Otherwise accept it and take a Newton step.
3. Running out of iterations returns the last accepted point, flagged as not converged.

Because Newton's method is invariant to affine changes of the covariates, centring (and
``survival``'s scaling) does not change the iterates, so iteration counts agree with R.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from drivervte.survival.cox_scan import CoxEvaluation, CoxProblem

__all__ = ["NewtonFit", "newton_cox"]


@dataclass
class NewtonFit:
    beta: np.ndarray
    information: np.ndarray
    score: np.ndarray  # score at the returned beta
    loglik: float
    loglik_init: float
    score_test: float
    iterations: int
    converged: bool
    halving_at_end: bool


def _solve(info: np.ndarray, rhs: np.ndarray) -> np.ndarray | None:
    """``info^{-1} rhs`` by Cholesky; None when ``info`` is not positive definite."""
    try:
        c = linalg.cho_factor(info, lower=True, check_finite=True)
    except (linalg.LinAlgError, ValueError):
        return None
    return linalg.cho_solve(c, rhs)


def _finite(ev: CoxEvaluation) -> bool:
    return bool(
        np.isfinite(ev.loglik)
        and np.all(np.isfinite(ev.score))
        and np.all(np.isfinite(ev.information))
    )


def newton_cox(
    problem: CoxProblem,
    init: np.ndarray,
    *,
    max_iter: int,
    eps: float,
) -> NewtonFit:
    """Maximise the partial likelihood of ``problem`` from ``init`` (see the module docstring)."""
    beta = np.asarray(init, dtype=float).copy()
    first = problem.evaluate(beta)
    step = _solve(first.information, first.score)
    if step is None or not _finite(first):
        raise np.linalg.LinAlgError(
            "the information matrix at the initial value is singular or not finite"
        )
    score_test = float(first.score @ step)
    best = first
    if max_iter == 0:
        return NewtonFit(
            beta,
            first.information,
            first.score,
            first.loglik,
            first.loglik,
            score_test,
            0,
            False,
            False,
        )
    new_beta = beta + step
    halving = 0
    require_no_halving = problem.counting  # agfit4 convention
    for it in range(1, max_iter + 1):
        cur = problem.evaluate(new_beta)
        ok = _finite(cur)
        step = _solve(cur.information, cur.score) if ok else None
        ok = ok and step is not None
        if (
            ok
            and abs(1.0 - best.loglik / cur.loglik) <= eps
            and not (require_no_halving and halving)
        ):
            return NewtonFit(
                new_beta,
                cur.information,
                cur.score,
                cur.loglik,
                first.loglik,
                score_test,
                it,
                True,
                halving > 0,
            )
        if not ok or cur.loglik < best.loglik:
            halving += 1
            new_beta = (new_beta + halving * beta) / (halving + 1.0)
        else:
            halving = 0
            best = cur
            beta = new_beta
            new_beta = new_beta + step
    # out of iterations: the last accepted point
    return NewtonFit(
        beta,
        best.information,
        best.score,
        best.loglik,
        first.loglik,
        score_test,
        max_iter,
        False,
        halving > 0,
    )
