"""Input-kind detection, validation messages and exclusions of from_table / escalc."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from drivervte.effects import detect_kind, escalc, from_table
from drivervte.errors import InputError


@pytest.mark.parametrize("cols,kind", [
    (["ai", "bi", "ci", "di"], "2x2"), (["AI", " n1i", "ci", "N2I"], "2x2"),
    (["xi", "ni"], "proportion"), (["Events", "Total"], "proportion"),
    (["yi", "vi"], "generic"), (["yi", "sei"], "generic"),
    (["estimate", "lower", "upper", "pvalue"], "ratio_ci"), (["estimate", "p"], "pvalue"),
])
def test_detect_kind(cols, kind):
    assert detect_kind(cols)[0] == kind


def test_unrecognised_columns_list_the_known_sets():
    with pytest.raises(InputError, match="recognised column sets: ai, bi, ci, di"):
        from_table({"foo": [1], "bar": [2]})


def err(table, measure=None, **kw) -> InputError:
    with pytest.raises(InputError) as ei:
        from_table(table, measure, **kw)
    return ei.value


def test_negative_counts():
    e = err({"ai": [1, -1], "bi": [5, 5], "ci": [1, 1], "di": [5, 5]})
    assert e.column == "ai" and e.rows == [1] and "row 2" in str(e) and "negative" in str(e)


def test_events_exceed_total():
    e = err({"ai": [1, 9], "n1i": [5, 5], "ci": [1, 1], "n2i": [5, 5]})
    assert e.column == "ai" and e.rows == [1] and "exceed" in str(e)
    e = err({"xi": [3, 30], "ni": [10, 20]}, "PR")
    assert e.column == "xi" and e.rows == [1]


def test_non_integer_counts():
    e = err({"xi": [3.5, 3], "ni": [10, 20]}, "PLO")
    assert e.column == "xi" and e.rows == [0] and "whole numbers" in str(e)


def test_non_numeric_cells():
    e = err(pd.DataFrame({"ai": ["1", "two"], "bi": [5, 5], "ci": [1, 1], "di": [5, 5]}))
    assert e.column == "ai" and e.rows == [1] and "'two'" in str(e)


def test_vi_and_sei_positive():
    assert err({"yi": [0.1, 0.2], "vi": [0.1, 0.0]}).rows == [1]
    assert err({"yi": [0.1, 0.2], "sei": [-0.1, 0.1]}).column == "sei"


def test_ratio_ci_errors():
    base = {"estimate": [1.5, 1.2], "lower": [1.1, 1.0], "upper": [2.0, 1.5]}
    e = err({**base, "lower": [1.1, 1.6]}, "HR")
    assert e.column == "lower" and e.rows == [1] and "above" in str(e)
    e = err({**base, "estimate": [1.5, 1.7]}, "HR")
    assert e.column == "estimate" and e.rows == [1] and "outside" in str(e)
    e = err({**base, "estimate": [-0.2, 1.2], "lower": [-0.5, 1.0]}, "HR")
    assert e.column == "estimate" and "logarithm" in str(e)
    e = err(base)  # ratio input needs the measure
    assert e.column == "measure" and "OR, RR, HR, SHR, IRR" in str(e)


def test_pvalue_range():
    e = err({"estimate": [1.5, 1.2], "pvalue": [0.2, 1.5]}, "OR")
    assert e.column == "pvalue" and e.rows == [1] and "(0, 1]" in str(e)
    e = err({"estimate": [1.5, 1.2], "pvalue": [0.0, 0.5]}, "OR")
    assert e.rows == [0]


def test_measure_incompatible_with_kind():
    e = err({"ai": [1], "bi": [5], "ci": [1], "di": [5]}, "PLO")
    assert e.column == "measure" and "OR, RR, RD, PETO" in str(e)
    e = err({"xi": [1], "ni": [5]}, "HR")
    assert e.column == "measure"
    e = err({"yi": [0.1], "vi": [0.1]}, "XYZ")  # generic: must be a measure we can label
    assert e.column == "measure" and "HR" in str(e)


def test_error_names_the_users_column_spelling():
    e = err({"AI": [1, -1], "BI": [5, 5], "CI": [1, 1], "DI": [5, 5]})
    assert e.column == "AI"


def test_missing_values_excluded_with_reason():
    es = from_table({"study": ["A", "B", "C"], "ai": [1, None, 3], "bi": [5, 5, 5],
                     "ci": [1, 1, np.nan], "di": [5, 5, 5]})
    assert es.study == ["A"]
    assert [e["row"] for e in es.excluded] == [1, 2]
    assert es.excluded[0]["study"] == "B" and "ai" in es.excluded[0]["reason"]
    assert "ci" in es.excluded[1]["reason"]
    assert "excluded: row 2 (B)" in es.summary()


def test_all_rows_missing_is_an_error():
    with pytest.raises(InputError, match="nothing to analyse"):
        from_table({"yi": [None, None], "vi": [0.1, 0.2]})


def test_uncorrected_zero_cells_are_excluded_not_returned_as_inf():
    es = from_table({"ai": [0, 2], "bi": [5, 5], "ci": [1, 1], "di": [5, 5]}, "OR", to="none")
    assert es.rows.tolist() == [1]
    assert "to='none'" in es.excluded[0]["reason"]


def test_bad_options():
    t = {"ai": [1], "bi": [5], "ci": [1], "di": [5]}
    assert err(t, to="sometimes").column == "to"
    assert err(t, add=-1).column == "add"
    ci = {"estimate": [1.5], "lower": [1.1], "upper": [2.0]}
    assert err(ci, "HR", level=150).column == "level"
    # metafor reads a level below 1 as a fraction
    assert from_table(ci, "HR", level=0.9).vi[0] == from_table(ci, "HR", level=90).vi[0]
    assert from_table(ci, "HR", level=90).vi[0] > from_table(ci, "HR", level=95).vi[0]


def test_escalc_length_mismatch():
    with pytest.raises(InputError, match="differ in length"):
        escalc("OR", ai=[1, 2], bi=[3], ci=[1, 2], di=[3, 4])


def test_to_dict_is_stable_and_json_safe():
    es = from_table({"ai": [1, 0], "bi": [5, 5], "ci": [1, 2], "di": [5, 5]})
    d = es.to_dict()
    assert list(d) == ["measure", "input_kind", "k", "studies", "counts", "excluded", "notes"]
    assert list(d["studies"][0]) == ["study", "row", "yi", "vi", "sei", "ni", "approximate"]
    json.dumps(d, allow_nan=False)
    assert d["counts"]["ai"] == [1.0, 0.0]


def test_default_labels_and_study_column():
    es = from_table({"Study": ["X", None], "yi": [0.1, 0.2], "vi": [0.1, 0.1]})
    assert es.study == ["X", "Study 2"]


def test_rma_from_effect_sizes_matches_metafor():
    from conftest import load_reference

    ref = load_reference("metafor_escalc")
    bcg = next(c for c in ref["cases"]
               if c["name"] == "bcg_OR_only0_drop00=FALSE_add=0.5")["input"]
    assert len(ref["rma_fits"]) == 2
    for fit in ref["rma_fits"]:
        es = from_table(pd.DataFrame({k: bcg[k] for k in ("ai", "bi", "ci", "di")}),
                        fit["measure"])
        res = es.rma("REML")
        # REML is iterative: RTOL_ITER / RTOL_SE of tests/tolerances.py
        assert res.tau2 == pytest.approx(fit["tau2"], rel=1e-6)
        assert res.estimate == pytest.approx(fit["beta"], rel=1e-6)
        assert res.se == pytest.approx(fit["se"], rel=1e-5)
        assert res.Q == pytest.approx(fit["QE"], rel=1e-10)
        assert res.measure == fit["measure"] and res.study[0] == "Study 1"


def test_inconsistent_group_sizes_when_both_forms_given():
    e = err({"ai": [1, 2], "bi": [5, 5], "ci": [1, 1], "di": [5, 5], "n1i": [6, 8]})
    assert e.column == "n1i" and e.rows == [1]
    ok = from_table({"ai": [1, 2], "bi": [5, 5], "ci": [1, 1], "di": [5, 5], "n1i": [6, 7]})
    assert ok.k == 2
