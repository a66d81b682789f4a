"""ONKOTEV (Cella, Oncologist 2017; ONKOTEV-2, JAMA Netw Open 2023): items, levels, ranges."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from drivervte.cli.main import app
from drivervte.errors import InputError
from drivervte.scores import assess

KH0 = {"site": "breast", "platelets": 200, "hb": 13, "leukocytes": 7, "bmi": 25, "esa": False}
BASE = {**KH0, "stage": "localized", "vascular_compression": False, "prior_vte": False}


def res(**kw):
    return assess("onkotev", **{**BASE, **kw})


@pytest.mark.parametrize(("khorana", "pts"), [
    ({"site": "lung", "platelets": 400}, 0),                  # Khorana 2: not > 2
    ({"site": "pancreas", "platelets": 400}, 1),              # Khorana 3
    ({"site": "lung", "platelets": 400, "bmi": 36}, 1),       # Khorana 3
    ({"site": "stomach", "hb": 9, "leukocytes": 12, "bmi": 40, "platelets": 400}, 1),  # 6
])
def test_khorana_above_2(khorana, pts):
    r = res(**khorana)
    assert r.points == pts
    assert r.items["khorana_gt2"]["points"] == pts


@pytest.mark.parametrize(("stage", "pts"), [("localized", 0), ("locally_advanced", 0),
                                            ("metastatic", 1), ("iv", 1)])
def test_metastatic_disease(stage, pts):
    assert res(stage=stage).points == pts


@pytest.mark.parametrize("item", ["vascular_compression", "prior_vte"])
def test_yes_no_items(item):
    assert res(**{item: True}).points == 1
    assert res(**{item: "no"}).points == 0


@pytest.mark.parametrize(("extra", "total", "risk", "n"), [
    ({}, 0, 4 / 116, 116),
    ({"prior_vte": True}, 1, 26 / 234, 234),
    ({"prior_vte": True, "stage": "metastatic"}, 2, 21 / 64, 64),
    ({"prior_vte": True, "stage": "metastatic", "vascular_compression": True}, 3, 3 / 11, 11),
    ({"prior_vte": True, "stage": "metastatic", "vascular_compression": True,
      "site": "pancreas", "platelets": 400}, 4, 3 / 11, 11),
])
def test_levels_and_published_proportions(extra, total, risk, n):
    r = res(**extra)
    assert r.points == total
    assert r.group is None  # the papers name no risk groups
    assert r.risk["estimate"] == pytest.approx(risk) and r.risk["n"] == n
    assert r.risk["horizon_months"] == 24.0
    assert r.risk["lower"] < r.risk["estimate"] < r.risk["upper"]


def test_worked_example():
    r = res(site="lung", platelets=400, hb="95g/L", stage="metastatic", prior_vte=True)
    assert r.items["khorana_gt2"]["value"]["khorana_points"] == 3
    assert r.points == 3 and r.risk["estimate"] == pytest.approx(3 / 11)


def test_khorana_item_determined_despite_missing_khorana_inputs():
    r = res(site="pancreas", platelets=400, hb=None, leukocytes=None, bmi=None)
    assert r.items["khorana_gt2"]["points"] == 1 and r.points == 1
    assert any("every possible Khorana total (3-6) is > 2" in n for n in r.notes)
    low = res(site="breast", platelets=None, leukocytes=None)  # Khorana 0-2 whatever they are
    assert low.points == 0


def test_missing_items_give_a_range():
    r = res(site="lung", platelets=None, stage=None)  # Khorana 1 or 2: item decided (0)
    assert r.missing == ["metastatic"] and r.points_range == [0, 1]
    r = res(site="lung", platelets=400, leukocytes=None, stage=None)   # Khorana 2 or 3
    assert sorted(r.missing) == ["khorana_gt2", "metastatic"]
    assert r.points is None and r.points_range == [0, 2]
    assert "published risks over the possible totals range 3.4-32.8%" in r.risk["source"]


def test_bad_input():
    with pytest.raises(InputError, match="accepted") as e:
        res(stage="advanced")
    assert e.value.column == "stage"
    with pytest.raises(InputError, match="unknown item"):
        res(ecog=2)


runner = CliRunner()
CLI = ["risk", "--score", "onkotev", "--site", "lung", "--platelets", "400", "--hb", "95g/L",
       "--leukocytes", "8", "--bmi", "24", "--stage", "metastatic", "--prior-vte",
       "--no-vascular-compression"]


def test_cli_one_patient_json():
    out = runner.invoke(app, [*CLI, "--json"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.stdout)
    assert d["score"] == "onkotev" and d["points"] == 3 and d["group"] is None
    assert d["risk"]["n"] == 11 and "not a medical device" in d["disclaimer"]


def test_cli_bad_stage_exits_2():
    args = list(CLI)
    args[args.index("--stage") + 1] = "advanced"
    out = runner.invoke(app, args)
    assert out.exit_code == 2 and "--stage" in out.output
