"""Shared helpers for the tests of influence.py, bias.py and trimfill.py against the
``metafor_bias`` fixture (written by tests/reference/R/metafor_bias.R).

Tolerances (see tests/tolerances.py for the named constants):

- EE and DL fits are closed-form: only summation order differs from R, so
  ``RTOL_EXACT`` (1e-10) applies to everything computed from them, including refits.
- REML fits are iterative. The fixture script runs metafor's Fisher scoring to a change
  below 1e-12 (``control = list(threshold = 1e-12)``); drivervte converges to its own
  tighter rule. Estimates then agree to ~1e-9 relative; we test at ``RTOL_ITER`` (1e-6).
- Quantities that can be exactly zero (tau², I², and tau²-derived values when tau² sits on
  the boundary) get ``ATOL_ZERO`` (1e-8) as absolute tolerance: metafor stops at e.g.
  tau² = 4e-13 where drivervte finds 3e-15.
- Everything else gets an absolute floor of 1e-12 on the model scale, for numbers that
  are zero up to rounding (e.g. the Egger slope of an exactly symmetric funnel, 1e-16).
"""

from __future__ import annotations

import warnings

import numpy as np

from conftest import load_reference
from drivervte.meta.rma import fit_rma
from tolerances import ATOL_ZERO, RTOL_EXACT, RTOL_ITER

REF = load_reference("metafor_bias")
DATASETS = REF["datasets"]
ATOL_FLOOR = 1e-12
ZERO_KEYS = {"tau2", "I2", "tau2_del", "H2"}


def cases(kind: str, need: str | None = None) -> list[dict]:
    """Fixture cases of one kind (optionally only those with the key ``need``)."""
    return [c for c in REF["cases"] if c["kind"] == kind and (need is None or need in c)]


def case_id(case: dict) -> str:
    return case["id"]


def rtol_for(case: dict) -> float:
    return RTOL_EXACT if case.get("method") in ("EE", "DL", "MH", "PETO") else RTOL_ITER


def as_array(values) -> np.ndarray:
    """Fixture values (None = R's NA) as a float array with NaN."""
    if values is None:
        return np.array([np.nan])
    if not isinstance(values, list):
        values = [values]
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def assert_close(actual, expected, *, rtol: float, atol: float = ATOL_FLOOR, what: str = ""):
    """NaN exactly where R has NA; elsewhere ``|a - e| <= atol + rtol |e|``."""
    a = np.atleast_1d(np.asarray(actual, dtype=float))
    e = as_array(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    assert np.array_equal(np.isnan(a), np.isnan(e)), f"{what}: NaN pattern {a} vs {e}"
    m = ~np.isnan(e)
    np.testing.assert_allclose(a[m], e[m], rtol=rtol, atol=atol, err_msg=what)


def atol_for(key: str) -> float:
    return ATOL_ZERO if key in ZERO_KEYS else ATOL_FLOOR


def fit_case(case: dict, X=None):
    """Refit the case's model in drivervte (warnings from k < 10 etc. silenced)."""
    d = DATASETS[case["dataset"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_rma(d["yi"], d["vi"], X, method=case["method"], test=case["test"],
                       level=case["level"], study=d["study"], measure=d["measure"])


def fit_counts_case(case: dict):
    """The MH / Peto model of a fixture case, from the dataset's 2x2 counts."""
    from drivervte.meta.mantel_haenszel import rma_mh
    from drivervte.meta.peto import rma_peto

    d = DATASETS[case["dataset"]]
    c = d["counts"]
    if case["method"] == "MH":
        return rma_mh(c["ai"], c["bi"], c["ci"], c["di"], measure=case["measure"],
                      study=d["study"])
    return rma_peto(c["ai"], c["bi"], c["ci"], c["di"], study=d["study"])
