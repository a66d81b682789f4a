"""Proportions against metafor::escalc (PR, PLO, PLN, PAS, PFT; every 'to')."""

from __future__ import annotations

import numpy as np
import pytest
from _rvalues import rvec

from conftest import load_reference
from drivervte.effects import from_table
from tolerances import RTOL_EXACT

CASES = [c for c in load_reference("metafor_escalc")["cases"]
         if c["input"]["kind"] == "proportion"]


def test_grid_is_complete():
    assert len(CASES) == 2 * 5 * 4 + 1


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_escalc_proportions_match_metafor(case):
    inp, opt, out = case["input"], case["options"], case["output"]
    add = opt["add"] if isinstance(opt["add"], (int, float)) else None  # R NULL -> {}
    es = from_table({"xi": inp["xi"], "ni": inp["ni"]}, opt["measure"], add=add,
                    to=opt["to"])
    r_yi, r_vi = rvec(out["yi"]), rvec(out["vi"])
    # Rows metafor leaves undefined (NA) or with vi = 0 (PR of 0 or 1, no correction) are
    # excluded by drivervte with a reason.
    r_ok = np.isfinite(r_yi) & np.isfinite(r_vi) & (r_vi > 0)
    assert es.rows.tolist() == np.flatnonzero(r_ok).tolist()
    np.testing.assert_allclose(es.yi, r_yi[r_ok], rtol=RTOL_EXACT, atol=1e-14)
    np.testing.assert_allclose(es.vi, r_vi[r_ok], rtol=RTOL_EXACT)
    np.testing.assert_array_equal(es.ni, rvec(out["ni"])[r_ok])


def test_events_total_aliases():
    a = from_table({"events": [3, 0], "total": [20, 15]}, "PFT")
    b = from_table({"xi": [3, 0], "ni": [20, 15]}, "PFT")
    np.testing.assert_array_equal(a.yi, b.yi)
    assert a.counts is not None and a.counts["xi"].tolist() == [3, 0]
