"""Input checks of :class:`drivervte.survival.cox.CoxPH` (array path), raising ``InputError``."""

from __future__ import annotations

from typing import Any

import numpy as np

from drivervte.errors import InputError

__all__ = ["as_1d", "as_codes", "as_float", "check_design"]


def as_1d(x: Any, name: str, n: int | None = None) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1:
        raise InputError("must be one-dimensional", column=name)
    if n is not None and a.shape[0] != n:
        raise InputError(f"has {a.shape[0]} values, expected {n} (one per row)", column=name)
    return a


def as_float(x: Any, name: str, n: int) -> np.ndarray:
    a = as_1d(x, name, n)
    try:
        return a.astype(float)
    except (TypeError, ValueError):
        raise InputError("must be numbers", column=name) from None


def as_codes(x: Any, name: str, n: int) -> tuple[np.ndarray, int]:
    a = as_1d(x, name, n)
    if a.dtype.kind == "f" and np.isnan(a).any():
        raise InputError("missing values", column=name, rows=np.flatnonzero(np.isnan(a)))
    if a.dtype == object:
        bad = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in a])
        if bad.any():
            raise InputError("missing values", column=name, rows=np.flatnonzero(bad))
        a = a.astype(str)
    uniq, codes = np.unique(a, return_inverse=True)
    return codes.astype(np.int64), int(uniq.size)


def check_design(X: np.ndarray, names: list[str], w: np.ndarray) -> np.ndarray:
    """Finite, non-constant, full-rank covariates; returns their weighted means."""
    bad = ~np.isfinite(X)
    if bad.any():
        j = int(np.flatnonzero(bad.any(axis=0))[0])
        raise InputError(
            "covariate values must be finite", column=names[j], rows=np.flatnonzero(bad[:, j])
        )
    wsum = w.sum()
    means = (w @ X) / wsum
    # weighted covariance from one pass over X (no n x p temporary)
    G = (X.T @ X if np.all(w == 1) else X.T @ (X * w[:, None])) / wsum - np.outer(means, means)
    scale = np.sqrt(np.maximum(np.diag(G), 0))
    const = scale <= 1e-12 * np.maximum(np.abs(means), 1)
    for j in np.flatnonzero(const):
        raise InputError("constant covariate: drop it from the model", column=names[j])
    G = G / np.outer(scale, scale)
    # collinearity: residual variance of each column given the earlier ones
    for j in range(1, G.shape[1]):
        A, b = G[:j, :j], G[:j, j]
        resid = G[j, j] - b @ np.linalg.lstsq(A, b, rcond=None)[0]
        if resid < 1e-9:
            raise InputError(
                f"covariate is a linear combination of {names[:j]}; drop it "
                "(e.g. one dummy of every categorical variable is the reference)",
                column=names[j],
            )
    return means
