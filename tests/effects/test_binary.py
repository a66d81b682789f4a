"""2x2 effect sizes against metafor::escalc (fixture metafor_escalc.json) and properties."""

from __future__ import annotations

import numpy as np
import pytest
from _rvalues import rvec
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import load_reference
from drivervte.effects import from_table
from drivervte.effects.binary import escalc_2x2
from tolerances import RTOL_EXACT

CASES = [c for c in load_reference("metafor_escalc")["cases"]
         if c["input"]["kind"] in ("2x2", "2x2_n")]


def test_grid_is_complete():
    # 3 datasets x 4 measures x 4 'to' x 2 drop00, plus add=1 and the n1i/n2i form.
    assert len(CASES) == 3 * 4 * (4 * 2 + 1) + 1


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_escalc_2x2_matches_metafor(case):
    inp, opt, out = case["input"], case["options"], case["output"]
    cols = ["ai", "bi", "ci", "di"] if inp["kind"] == "2x2" else ["ai", "n1i", "ci", "n2i"]
    table = {c: rvec(inp[c]) for c in cols}
    es = from_table(table, opt["measure"], add=opt["add"], to=opt["to"], drop00=opt["drop00"])
    r_yi, r_vi, r_ni = rvec(out["yi"]), rvec(out["vi"]), rvec(out["ni"])
    # metafor recodes +-Inf to NA; drivervte excludes exactly those rows, with a reason,
    # and also rows with vi = 0 (RD of a double-zero table without correction), which no
    # inverse-variance model can weight.
    r_ok = np.isfinite(r_yi) & np.isfinite(r_vi) & (r_vi > 0)
    assert es.rows.tolist() == np.flatnonzero(r_ok).tolist()
    assert sorted(e["row"] for e in es.excluded) == np.flatnonzero(~r_ok).tolist()
    np.testing.assert_allclose(es.yi, r_yi[r_ok], rtol=RTOL_EXACT, atol=1e-14)
    np.testing.assert_allclose(es.vi, r_vi[r_ok], rtol=RTOL_EXACT)
    np.testing.assert_allclose(es.ni, r_ni[r_ok], rtol=0)


counts = st.integers(min_value=0, max_value=500)


@settings(max_examples=200, deadline=None)
@given(counts, counts, counts, counts, st.sampled_from(["only0", "all", "if0all"]))
def test_swapping_groups_negates_log_or_rr_rd(a, b, c, d, to):
    for m in ("OR", "RR", "RD", "PETO"):
        y1, v1, _ = escalc_2x2([a], [b], [c], [d], m, to=to)
        y2, v2, _ = escalc_2x2([c], [d], [a], [b], m, to=to)
        if np.isfinite(y1[0]) and np.isfinite(v1[0]):
            assert y2[0] == pytest.approx(-y1[0], rel=1e-12, abs=1e-12)
            assert v2[0] == pytest.approx(v1[0], rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(counts, counts, counts, counts)
def test_exchanging_events_and_nonevents_negates_log_or(a, b, c, d):
    y1, v1, _ = escalc_2x2([a], [b], [c], [d], "OR")
    y2, v2, _ = escalc_2x2([b], [a], [d], [c], "OR")
    if np.isfinite(y1[0]):
        assert y2[0] == pytest.approx(-y1[0], rel=1e-12, abs=1e-12)
        assert v2[0] == pytest.approx(v1[0], rel=1e-12)


def test_double_zero_kept_by_default_and_dropped_with_drop00():
    t = {"ai": [0, 3], "bi": [10, 7], "ci": [0, 1], "di": [12, 9], "study": ["DZ", "B"]}
    kept = from_table(t, "OR")
    assert kept.study == ["DZ", "B"]
    assert kept.yi[0] == pytest.approx(np.log((0.5 / 10.5) / (0.5 / 12.5)))
    assert any("double-zero" in n for n in kept.notes)
    dropped = from_table(t, "OR", drop00=True)
    assert dropped.study == ["B"]
    assert dropped.excluded[0]["study"] == "DZ"
    assert "double-zero" in dropped.excluded[0]["reason"]


def test_zero_cell_note_names_the_studies():
    es = from_table({"ai": [0, 3], "bi": [10, 7], "ci": [2, 1], "di": [12, 9]}, "RR")
    assert es.notes and "Study 1" in es.notes[0] and "Study 2" not in es.notes[0]
