"""Khorana (Blood 2008) and Vienna CATS (Blood 2010): every threshold at, below and above."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivervte.errors import InputError
from drivervte.scores import assess

BASE = {"site": "breast", "platelets": 200, "hb": 13, "leukocytes": 7, "bmi": 25, "esa": False}


def points(score="khorana", **kw):
    return assess(score, **{**BASE, **kw}).points


def test_baseline_patient_scores_zero():
    assert points() == 0


@pytest.mark.parametrize(
    ("item", "below", "at", "above", "at_points"),
    [
        ("platelets", 349.9, 350, 350.1, 1),    # >= 350 x10^9/L
        ("leukocytes", 10.9, 11, 11.1, 0),      # > 11 x10^9/L (11 itself scores 0)
        ("bmi", 34.9, 35, 35.1, 1),             # >= 35 kg/m2
    ],
)
def test_thresholds(item, below, at, above, at_points):
    assert points(**{item: below}) == 0
    assert points(**{item: at}) == at_points
    assert points(**{item: above}) == 1


def test_haemoglobin_below_10_or_esa():
    assert points(hb=9.99) == 1
    assert points(hb=10) == 0          # < 10 g/dL: 10 itself scores 0
    assert points(hb="100g/L") == 0
    assert points(hb="99g/L") == 1
    assert points(hb=12, esa=True) == 1  # ESA use scores whatever the haemoglobin


@pytest.mark.parametrize(("site", "pts"), [("stomach", 2), ("pancreas", 2), ("lung", 1),
                                           ("lymphoma", 1), ("bladder", 1), ("breast", 0)])
def test_site_points(site, pts):
    assert points(site=site) == pts


def test_brain_is_very_high_only_in_vienna_cats():
    with pytest.raises(InputError, match="unknown site"):
        points(site="brain")
    assert points("vienna_cats", site="brain", ddimer=0.5, sp_selectin=20) == 2


@pytest.mark.parametrize(("total", "group", "risk"),
                         [(0, "low", 0.015), (1, "intermediate", 0.038),
                          (2, "intermediate", 0.096), (3, "high", 0.177), (6, "high", 0.177)])
def test_groups_and_published_6_month_risks(total, group, risk):
    kw = [("site", "pancreas"), ("platelets", 400), ("hb", 9), ("leukocytes", 12), ("bmi", 40)]
    values = dict(BASE)
    remaining = total
    for name, val in kw:
        gain = 2 if name == "site" else 1
        if remaining >= gain:
            values[name] = val
            remaining -= gain
    if remaining == 1:  # an odd total left after the 2-point site: use a lung site
        values["site"] = "lung"
    res = assess("khorana", **values)
    assert res.points == total
    assert res.group == group
    assert res.risk["estimate"] == risk
    assert res.risk["horizon_months"] == 6.0
    assert res.risk["lower"] < risk < res.risk["upper"]


@pytest.mark.parametrize(("dd", "sp", "extra"), [(1.43, 53.0, 0), (1.44, 53.0, 1),
                                                 (1.43, 53.1, 1), (1.44, 53.1, 2)])
def test_vienna_biomarker_thresholds(dd, sp, extra):
    assert points("vienna_cats", ddimer=dd, sp_selectin=sp) == extra


def test_vienna_published_risks_only_where_the_paper_gives_them():
    res0 = assess("vienna_cats", **BASE, ddimer=0.5, sp_selectin=20)
    assert res0.points == 0 and res0.risk["estimate"] == 0.010
    res1 = assess("vienna_cats", **{**BASE, "platelets": 400}, ddimer=0.5, sp_selectin=20)
    assert res1.points == 1 and res1.risk["estimate"] is None
    assert res1.group is None


def test_missing_items_give_a_range_never_a_guess():
    res = assess("khorana", site="lung", platelets=380, hb=None, leukocytes=None, bmi=22)
    assert res.points is None
    assert res.points_range == [2, 4]
    assert set(res.missing) == {"hb_or_esa", "leukocytes"}
    assert res.group is None and res.groups_possible == ["intermediate", "high"]
    assert res.risk["estimate"] is None


def test_missing_haemoglobin_with_esa_is_determined():
    res = assess("khorana", **{**BASE, "hb": None, "esa": True})
    assert res.points == 1 and res.missing == []


ITEM_VALUES = st.fixed_dictionaries({
    "platelets": st.floats(100, 800), "hb": st.floats(6, 16), "leukocytes": st.floats(2, 25),
    "bmi": st.floats(15, 50)})


@given(ITEM_VALUES, st.sampled_from(["platelets", "leukocytes", "bmi"]), st.floats(0, 50))
def test_points_monotone_in_each_item(values, item, bump):
    lo = points(**values)
    hi_values = dict(values)
    hi_values[item] = min(values[item] + bump, {"platelets": 2000, "leukocytes": 500,
                                                 "bmi": 100}[item])
    assert points(**hi_values) >= lo


@given(ITEM_VALUES, st.floats(0, 5))
def test_points_decrease_with_haemoglobin(values, bump):
    higher = {**values, "hb": min(values["hb"] + bump, 25)}
    assert points(**higher) <= points(**values)
