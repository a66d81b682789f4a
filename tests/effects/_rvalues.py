"""Helpers to read R values from the JSON fixtures (jsonlite writes NA/Inf as strings)."""

from __future__ import annotations

import numpy as np

_SPECIAL = {"NA": np.nan, "NaN": np.nan, "Inf": np.inf, "-Inf": -np.inf, None: np.nan}


def rvec(values) -> np.ndarray:
    """A JSON list (or scalar) from R as a float array, NA -> NaN, 'Inf' -> inf."""
    if not isinstance(values, list):
        values = [values]
    return np.array([_SPECIAL[v] if (v is None or isinstance(v, str)) else v for v in values],
                    dtype=float)
