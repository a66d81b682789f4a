"""rma_peto against metafor::rma.peto (fixture metafor_mh_peto.json)."""

from __future__ import annotations

import numpy as np
import pytest
from test_mantel_haenszel import check_common, fit, rvec

from conftest import load_reference
from drivervte.errors import InputError
from drivervte.meta.peto import rma_peto

CASES = [c for c in load_reference("metafor_mh_peto")["cases"]
         if c["call"].startswith("rma.peto")]


def test_grid_is_complete():
    assert len(CASES) == 5 * 4 + 1


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_rma_peto_matches_metafor(case):
    out = case["output"]
    if "error" in out:
        with pytest.raises(InputError, match="nothing to pool"):
            fit(rma_peto, case)
        return
    res = fit(rma_peto, case)
    check_common(res, out)
    assert res.settings["k_pos"] == out["k_pos"]


def test_peto_back_transforms_to_or():
    res = rma_peto(rvec([4, 6]), rvec([119, 300]), rvec([11, 29]), rvec([128, 274]))
    assert res.method == "PETO" and res.transformed["scale"] == "OR"
    assert res.transformed["ci_lower"] == pytest.approx(np.exp(res.ci_lower))
