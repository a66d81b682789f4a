"""Ratio + CI and ratio + p-value inputs (fixture: the R arithmetic that defines them)."""

from __future__ import annotations

import numpy as np
import pytest
from _rvalues import rvec

from conftest import load_reference
from drivervte.effects import escalc, from_table
from drivervte.effects.generic import parse_pvalue
from drivervte.errors import InputError
from tolerances import RTOL_EXACT

CASES = {c["name"]: c for c in load_reference("metafor_escalc")["cases"]}


@pytest.mark.parametrize("name", ["ratio_ci_level95", "ratio_ci_level90"])
def test_ratio_ci_matches_r(name):
    case = CASES[name]
    inp = case["input"]
    es = from_table({k: inp[k] for k in ("estimate", "lower", "upper")},
                    case["options"]["measure"], level=case["options"]["level"])
    assert es.input_kind == "ratio_ci" and es.measure == "HR"
    np.testing.assert_allclose(es.yi, rvec(case["output"]["yi"]), rtol=RTOL_EXACT)
    np.testing.assert_allclose(es.vi, rvec(case["output"]["vi"]), rtol=RTOL_EXACT)
    assert not es.approximate.any()


def test_pvalue_matches_r_and_is_flagged():
    case = CASES["pvalue"]
    inp = case["input"]
    es = from_table({"estimate": inp["estimate"], "pvalue": inp["pvalue"]}, "OR")
    np.testing.assert_allclose(es.yi, rvec(case["output"]["yi"]), rtol=RTOL_EXACT)
    np.testing.assert_allclose(es.vi, rvec(case["output"]["vi"]), rtol=RTOL_EXACT)
    assert es.approximate.all()
    assert es.to_dict()["studies"][0]["approximate"] is True


def test_asymmetric_ci_is_noted_with_row():
    es = escalc("HR", estimate=[1.5, 1.2], lower=[1.1, 1.1], upper=[2.05, 3.0])
    assert len(es.notes) == 1 and es.notes[0].startswith("row 2 ")
    assert "asymmetric" in es.notes[0]


def test_pvalue_upper_bound_uses_the_bound_conservatively():
    exact = escalc("HR", estimate=[2.0], pvalue=[0.001])
    bound = escalc("HR", estimate=[2.0], pvalue=["<0.001"])
    smaller = escalc("HR", estimate=[2.0], pvalue=[0.0001])
    assert bound.vi[0] == exact.vi[0]
    assert bound.vi[0] > smaller.vi[0]  # larger SE than any p below the bound
    assert any("upper bounds" in n for n in bound.notes)


def test_pvalue_lower_bound_refused():
    with pytest.raises(InputError, match="lower bound") as ei:
        escalc("HR", estimate=[2.0, 1.3], pvalue=[0.01, ">0.05"])
    assert ei.value.column == "pvalue" and ei.value.rows == [1]


@pytest.mark.parametrize("text,expected", [("0.03", (0.03, "exact")),
                                           ("<0.001", (0.001, "upper_bound")),
                                           ("p < 0.05", (0.05, "upper_bound")),
                                           ("<=1e-4", (1e-4, "upper_bound")),
                                           ("> 0.1", (0.1, "lower_bound")),
                                           ("", (np.nan, "missing"))])
def test_parse_pvalue(text, expected):
    p, kind = parse_pvalue(text)
    assert kind == expected[1]
    if kind != "missing":
        assert p == expected[0]


def test_parse_pvalue_rejects_words():
    with pytest.raises(ValueError):
        parse_pvalue("significant")


def test_generic_yi_sei():
    es = from_table({"yi": [0.1, -0.2], "sei": [0.2, 0.5]}, "HR")
    np.testing.assert_allclose(es.vi, [0.04, 0.25])
    assert es.measure == "HR" and es.input_kind == "generic"
