"""drivervte.meta: meta-analysis models (metafor's ``rma.uni``, ``rma.mh``, ``rma.peto``).

Public API
----------
- :func:`rma` -- the user-facing entry point (tables, ``EffectSizes`` or arrays).
- :func:`fit_rma` -- equal/random-effects models and meta-regression on arrays.
- :func:`predict` -- predictions and prediction intervals from an ``rma`` fit.
- :func:`subgroup_analysis` -- separate models per subgroup and the test for differences.
- :func:`qprofile_ci` -- Q-profile confidence interval of tau², I², H².
- :class:`MetaResult`, :class:`ModeratorResult` -- the shared results.
- ``METAFOR_DEFAULT_CONTROL`` -- ``control=`` that reproduces metafor's default stopping.
- ``rma_mh``, ``rma_peto`` (Mantel-Haenszel, Peto), ``leave_one_out``, ``cumulative``,
  ``influence``, ``egger_test``, ``rank_test``, ``trimfill``: loaded on first use from
  their modules.
"""

from __future__ import annotations

import importlib
from typing import Any

from drivervte.meta.api import rma
from drivervte.meta.heterogeneity import Tau2CI, qprofile_ci
from drivervte.meta.result import MetaResult, ModeratorResult
from drivervte.meta.rma import Prediction, fit_rma, predict
from drivervte.meta.subgroup import SubgroupResult, subgroup_analysis
from drivervte.meta.tau2 import METAFOR_DEFAULT_CONTROL

# Functions of the sibling modules, imported lazily so that importing drivervte.meta stays
# cheap and does not depend on every module.
_LAZY = {
    "rma_mh": "drivervte.meta.mantel_haenszel",
    "rma_peto": "drivervte.meta.peto",
    "leave_one_out": "drivervte.meta.influence",
    "cumulative": "drivervte.meta.influence",
    "influence": "drivervte.meta.influence",
    "egger_test": "drivervte.meta.bias",
    "rank_test": "drivervte.meta.bias",
    "trimfill": "drivervte.meta.bias",
}

__all__ = [
    "METAFOR_DEFAULT_CONTROL",
    "MetaResult",
    "ModeratorResult",
    "Prediction",
    "SubgroupResult",
    "Tau2CI",
    "fit_rma",
    "predict",
    "qprofile_ci",
    "rma",
    "subgroup_analysis",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'drivervte.meta' has no attribute '{name}'")
