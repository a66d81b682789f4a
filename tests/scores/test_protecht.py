"""PROTECHT (Verso, Intern Emerg Med 2012): Khorana + gemcitabine 1 + platinum 1."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from drivervte.cli.main import app
from drivervte.errors import InputError
from drivervte.scores import assess

BASE = {"site": "breast", "platelets": 200, "hb": 13, "leukocytes": 7, "bmi": 25, "esa": False,
        "chemo": "taxane"}


def res(**kw):
    return assess("protecht", **{**BASE, **kw})


@pytest.mark.parametrize(("chemo", "pts"), [
    ("taxane", 0), ("gemcitabine", 1), ("cisplatin", 1), ("carboplatin", 1), ("platinum", 1),
    ("gemcitabine,cisplatin", 2), ("pemetrexed, carboplatin", 1), ("none", 0),
])
def test_chemotherapy_items(chemo, pts):
    assert res(chemo=chemo).points == pts


def test_khorana_thresholds_carry_over():
    assert res(platelets=349.9).points == 0 and res(platelets=350).points == 1
    assert res(leukocytes=11).points == 0 and res(leukocytes=11.1).points == 1
    assert res(hb="99g/L").points == 1 and res(hb="100g/L").points == 0
    assert res(bmi=35).points == 1 and res(site="lung").points == 1


def test_only_the_high_group_is_assigned():
    assert res(site="lung", chemo="cisplatin").group is None           # 2: no verified group
    r = res(site="lung", chemo="gemcitabine,carboplatin")              # 3
    assert r.points == 3 and r.group == "high"
    assert r.risk["estimate"] is None  # no verified published risk


def test_worked_example_nsclc_on_cisplatin_gemcitabine():
    r = res(site="nsclc", platelets="420000/uL", hb="96g/L", leukocytes=9, bmi=27,
            chemo="cisplatin, gemcitabine")
    assert r.points == 1 + 1 + 1 + 1 + 1 and r.group == "high"


def test_oxaliplatin_leaves_the_platinum_item_open():
    r = res(chemo="oxaliplatin")
    assert r.points is None and r.points_range == [0, 1] and r.missing == ["platinum"]
    assert any("oxaliplatin" in n for n in r.notes)
    assert res(chemo="oxaliplatin,carboplatin").points == 1


def test_missing_chemo_range_and_bad_value():
    r = assess("protecht", **{k: v for k, v in BASE.items() if k != "chemo"})
    assert r.points_range == [0, 2] and r.groups_possible == []
    with pytest.raises(InputError, match="accepted") as e:
        res(chemo="folfox")
    assert e.value.column == "chemo"


runner = CliRunner()
CLI = ["risk", "--score", "protecht", "--site", "lung", "--platelets", "380", "--hb", "13",
       "--leukocytes", "8", "--bmi", "24", "--chemo", "cisplatin,gemcitabine"]


def test_cli_one_patient_json():
    out = runner.invoke(app, [*CLI, "--json"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.stdout)
    assert d["score"] == "protecht" and d["points"] == 4 and d["group"] == "high"
    assert d["items"]["platinum"]["points"] == 1 and "not a medical device" in d["disclaimer"]


def test_cli_bad_chemo_exits_2():
    args = list(CLI)
    args[-1] = "folfox"
    out = runner.invoke(app, args)
    assert out.exit_code == 2 and "--chemo" in out.output
