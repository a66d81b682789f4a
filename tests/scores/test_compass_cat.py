"""COMPASS-CAT (Gerotziafas, Oncologist 2017): every item at, below and above its cut-off."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from drivervte.cli.main import app
from drivervte.errors import InputError
from drivervte.scores import assess, score_table

BASE = {"chemo": "other", "months_since_diagnosis": 12, "cvc": False, "stage": "localized",
        "cv_risk_factors": 0, "hospitalization": False, "prior_vte": False, "platelets": 200}


def res(**kw):
    return assess("compass_cat", **{**BASE, **kw})


def test_baseline_scores_zero_low_intermediate_with_validation_risk():
    r = res()
    assert r.points == 0 and r.group == "low/intermediate"
    assert r.risk["estimate"] == 0.0227 and r.risk["horizon_months"] == 6.0
    assert r.risk["n"] is None and r.risk["lower"] is None  # group sizes not published


@pytest.mark.parametrize(
    ("item", "below", "at", "above", "pts_below", "pts_at", "pts_above"),
    [
        ("months_since_diagnosis", 5.9, 6, 6.1, 4, 4, 0),  # <= 6 months scores
        ("platelets", 349.9, 350, 350.1, 0, 2, 2),          # >= 350 x10^9/L
        ("cv_risk_factors", 1, 2, 3, 0, 5, 5),              # at least 2 factors
    ],
)
def test_thresholds(item, below, at, above, pts_below, pts_at, pts_above):
    assert res(**{item: below}).points == pts_below
    assert res(**{item: at}).points == pts_at
    assert res(**{item: above}).points == pts_above


@pytest.mark.parametrize(("item", "pts"), [("cvc", 3), ("hospitalization", 5), ("prior_vte", 1)])
def test_yes_no_items(item, pts):
    assert res(**{item: True}).points == pts
    assert res(**{item: "yes"}).points == pts
    assert res(**{item: "no"}).points == 0


@pytest.mark.parametrize(("stage", "pts"), [("localized", 0), ("locally advanced", 2),
                                            ("metastatic", 2), ("IV", 2)])
def test_stage(stage, pts):
    assert res(stage=stage).points == pts


@pytest.mark.parametrize(("chemo", "pts"), [("anthracycline", 6), ("antihormonal", 6),
                                            ("platinum, gemcitabine", 0), ("taxane,epirubicin", 6),
                                            ("none", 0)])
def test_therapy(chemo, pts):
    assert res(chemo=chemo).points == pts


def test_groups_at_the_cut_off():
    assert res(chemo="anthracycline").group == "low/intermediate"      # 6
    r = res(chemo="anthracycline", prior_vte=True)                     # 7
    assert r.points == 7 and r.group == "high" and r.risk["estimate"] == 0.0631


def test_worked_example_and_maximum():
    r = res(chemo="anthracycline", months_since_diagnosis="3 months", cvc=True,
            stage="metastatic", cv_risk_factors=2, platelets="400000/uL")
    assert r.points == 6 + 4 + 3 + 2 + 5 + 2
    full = res(chemo="antihormonal", months_since_diagnosis=1, cvc=True, stage="metastatic",
               cv_risk_factors=7, hospitalization=True, prior_vte=True, platelets=500)
    assert full.points == 28 and full.group == "high"


def test_missing_items_give_a_range_not_a_guess():
    r = assess("compass_cat", chemo="none", stage="localized")
    assert r.points is None and r.group is None
    assert r.points_range == [0, 20]
    assert r.groups_possible == ["low/intermediate", "high"]
    decided = assess("compass_cat", chemo="anthracycline", hospitalization=True)
    assert decided.points is None and decided.points_range == [11, 28]
    assert decided.group == "high"  # every possible total is >= 7


def test_units_and_bad_values():
    assert res(months_since_diagnosis="2years").points == 0   # 24 months
    assert res(months_since_diagnosis="0.5y").points == 4     # 6 months
    with pytest.raises(InputError, match="days or weeks"):
        res(months_since_diagnosis="30days")
    with pytest.raises(InputError, match="outside"):
        res(months_since_diagnosis=-1)
    with pytest.raises(InputError, match="whole number"):
        res(cv_risk_factors=8)
    with pytest.raises(InputError, match="accepted") as e:
        res(stage="stage III")
    assert e.value.column == "stage"
    with pytest.raises(InputError, match="none"):
        res(chemo="none,platinum")
    with pytest.raises(InputError, match="yes/no"):
        res(cvc="maybe")
    with pytest.raises(InputError, match="unknown item"):
        res(bmi=40)


@settings(max_examples=60, deadline=None)
@given(chemo=st.sampled_from(["anthracycline", "other"]), months=st.floats(0, 60),
       flags=st.lists(st.booleans(), min_size=3, max_size=3),
       stage=st.sampled_from(["localized", "metastatic"]), cv=st.integers(0, 7),
       plt=st.floats(50, 900))
def test_total_is_sum_of_items_and_group_follows_cut_off(chemo, months, flags, stage, cv, plt):
    r = assess("compass_cat", chemo=chemo, months_since_diagnosis=months, cvc=flags[0],
               stage=stage, cv_risk_factors=cv, hospitalization=flags[1],
               prior_vte=flags[2], platelets=plt)
    assert r.points == sum(d["points"] for d in r.items.values())
    assert 0 <= r.points <= 28
    assert r.group == ("high" if r.points >= 7 else "low/intermediate")


def test_table_scores_every_row():
    df = pd.DataFrame({**{k: [v, v] for k, v in BASE.items()}, "id": [1, 2]})
    df["cvc"] = ["no", "yes"]
    df.loc[1, "chemo"] = "anthracycline"
    out = score_table(df, "compass_cat")
    assert list(out["points"]) == [0, 9] and list(out["group"]) == ["low/intermediate", "high"]
    with pytest.raises(InputError, match="no column for cvc"):
        score_table(df.drop(columns="cvc"), "compass_cat")


runner = CliRunner()
CLI = ["risk", "--score", "compass_cat", "--chemo", "anthracycline",
       "--months-since-diagnosis", "3", "--cvc", "--stage", "metastatic",
       "--cv-risk-factors", "2", "--no-hospitalization", "--no-prior-vte", "--platelets", "400"]


def test_cli_one_patient_json():
    out = runner.invoke(app, [*CLI, "--json"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.stdout)
    assert d["score"] == "compass_cat" and d["points"] == 22 and d["group"] == "high"
    assert d["items"]["cvc"]["points"] == 3 and d["risk"]["estimate"] == 0.0631
    assert "not a medical device" in d["disclaimer"]


@pytest.mark.parametrize(("opt", "bad"), [("--stage", "stage3"), ("--chemo", "bleach"),
                                          ("--cv-risk-factors", "two")])
def test_cli_bad_category_exits_2_naming_the_option(opt, bad):
    args = list(CLI)
    args[args.index(opt) + 1] = bad
    out = runner.invoke(app, args)
    assert out.exit_code == 2, out.output
    assert opt in out.output
