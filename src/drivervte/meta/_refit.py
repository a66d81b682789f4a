"""Refitting a model on other data with the original model's settings.

Leave-one-out, cumulative meta-analysis, influence diagnostics, the regression test and
trim-and-fill all refit the model on a subset or an augmented set of studies. metafor
passes the original ``method``, ``test``, ``level``, fixed ``tau2`` and ``control`` to each
refit (``leave1out.rma.uni``, ``cumul.rma.uni``, ``influence.rma.uni``, ``regtest``) and
silences the refits' warnings; :func:`refit` does the same and reports what went wrong
instead of hiding it (see :class:`RefitOutcome`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from drivervte.errors import ConvergenceError, ConvergenceWarning, InputError
from drivervte.meta.result import MetaResult

__all__ = ["RefitOutcome", "check_k", "is_mh_peto", "refit", "require_rma"]


@dataclass
class RefitOutcome:
    """One refit: the model (``None`` when it could not be fitted) and why not."""

    fit: MetaResult | None
    problem: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.fit is not None and self.fit.converged


def is_mh_peto(res: MetaResult) -> bool:
    """True for Mantel-Haenszel and Peto results (not ``rma.uni`` models)."""
    return str(res.method).upper() in ("MH", "PETO")


def require_rma(res: MetaResult, what: str) -> None:
    """Raise :class:`InputError` unless ``res`` is an ``rma.uni``-type model."""
    if not isinstance(res, MetaResult):
        raise InputError(f"{what} needs a fitted MetaResult, got {type(res).__name__}",
                         column="result")
    if is_mh_peto(res):
        raise InputError(
            f"{what} is defined for inverse-variance (rma) models, not {res.method}; refit "
            "the studies' yi/vi with fit_rma (as metafor, which offers it for rma.uni only)",
            column="method")


def check_k(res: MetaResult, minimum: int, what: str) -> None:
    """Raise :class:`InputError` when the model has fewer than ``minimum`` studies."""
    if res.k < minimum:
        raise InputError(
            f"{what} needs at least {minimum} studies; this model has k = {res.k}",
            column="yi")


def _settings(res: MetaResult) -> dict[str, Any]:
    s = res.settings or {}
    return {"tau2": s.get("tau2_fixed"), "control": s.get("control")}


def refit(res: MetaResult, yi, vi, X=None, *, study=None, method: str | None = None,
          test: str | None = None, level: float | None = None, ni=None,
          keep_tau2: bool = True, confint: bool = False) -> RefitOutcome:
    """Fit ``fit_rma`` to ``yi``/``vi`` (and design ``X``) with ``res``'s settings.

    Parameters
    ----------
    res : MetaResult
        The original model: its ``method``, ``test``, ``level``, fixed ``tau2`` and
        ``control`` are reused unless overridden here.
    keep_tau2 : bool
        Pass the original model's fixed tau² (if any) to the refit.
    confint : bool
        Compute the Q-profile CI of tau² (off by default: refits do not report it).

    Returns
    -------
    RefitOutcome
        ``fit`` is ``None`` when ``fit_rma`` rejected the data (the reason is in
        ``problem``); a fit with ``converged=False`` is returned with ``problem`` set.
        Warnings raised while fitting (e.g. "k = 1") are collected in ``notes``, as metafor
        silences them in its refits.
    """
    from drivervte.meta.rma import fit_rma

    kw = _settings(res)
    meth = method if method is not None else res.method
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = fit_rma(
                np.asarray(yi, float), np.asarray(vi, float), X, method=meth,
                test=test if test is not None else res.test,
                level=level if level is not None else res.level,
                tau2=kw["tau2"] if keep_tau2 else None, study=study, measure=res.measure,
                ni=ni, control=kw["control"], confint=confint,
            )
        except (InputError, ConvergenceError, np.linalg.LinAlgError) as exc:
            # metafor wraps each refit in try() and reports NA; so do we, with the reason.
            return RefitOutcome(None, problem=f"{type(exc).__name__}: {exc}"
                                if not isinstance(exc, InputError) else str(exc))
    notes = [str(w.message) for w in caught if not issubclass(w.category, ConvergenceWarning)]
    if not fit.converged:
        return RefitOutcome(fit, problem="the refit did not converge", notes=notes)
    return RefitOutcome(fit, notes=notes)


def s2w_of(fit: MetaResult) -> float:
    """The Knapp-Hartung factor of a fit (1 for z-tests), as metafor's ``res$s2w``."""
    s = (fit.settings or {}).get("s2w")
    return 1.0 if s is None else float(s)


def nan_if_none(x: Any) -> float:
    """``None`` -> NaN, anything else -> float."""
    return math.nan if x is None else float(x)
