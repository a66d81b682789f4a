"""Back-transformations against metafor's transf.* and round-trip properties."""

from __future__ import annotations

import numpy as np
import pytest
from _rvalues import rvec
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import load_reference
from drivervte.effects.transforms import back_transform, forward_transform, scale_name
from drivervte.errors import InputError
from tolerances import RTOL_EXACT

BT = load_reference("metafor_escalc")["backtransforms"]


@pytest.mark.parametrize("case", BT, ids=[c["measure"] for c in BT])
def test_back_transform_matches_metafor(case):
    got = back_transform(case["measure"], rvec(case["x"]), ni=case.get("ni"))
    np.testing.assert_allclose(got, rvec(case["value"]), rtol=RTOL_EXACT, atol=1e-15)


@settings(max_examples=200, deadline=None)
@given(st.floats(0.001, 0.999), st.sampled_from(["PLO", "PAS", "PR", "OR", "RR", "HR", "PFT"]),
       st.lists(st.integers(5, 5000), min_size=1, max_size=20))
def test_back_transform_inverts_forward(p, measure, ni):
    if measure in ("OR", "RR", "HR"):
        p = p * 10  # any positive ratio
    y = forward_transform(measure, [p], ni=ni)
    assert back_transform(measure, y, ni=ni)[0] == pytest.approx(p, rel=1e-9, abs=1e-12)


def test_pft_boundaries_like_metafor():
    ni = [10, 20]
    big = back_transform("PFT", [np.pi / 2 + 0.1], ni=ni)
    small = back_transform("PFT", [-0.5], ni=ni)
    assert big[0] == 1.0 and small[0] == 0.0
    assert np.isnan(back_transform("PFT", [np.nan], ni=ni)[0])


def test_pft_needs_ni():
    with pytest.raises(InputError, match="sample sizes"):
        back_transform("PFT", [0.3])


def test_unknown_measure():
    with pytest.raises(InputError, match="unknown measure"):
        back_transform("XYZ", [0.3])


@pytest.mark.parametrize("measure,name", [("OR", "OR"), ("rr", "RR"), ("HR", "HR"),
                                          ("SHR", "SHR"), ("PLO", "proportion"),
                                          ("PFT", "proportion"), ("RD", "identity"),
                                          ("GEN", "identity"), ("PETO", "OR")])
def test_scale_name(measure, name):
    assert scale_name(measure) == name
