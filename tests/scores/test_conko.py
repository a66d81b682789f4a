"""CONKO (Pelzer 2013): Khorana with BMI replaced by performance status >= 2."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from drivervte.cli.main import app
from drivervte.errors import InputError
from drivervte.scores import assess

BASE = {"site": "breast", "platelets": 200, "hb": 13, "leukocytes": 7, "esa": False, "ecog": 0}


def res(**kw):
    return assess("conko", **{**BASE, **kw})


@pytest.mark.parametrize(("ecog", "pts"), [(0, 0), (1, 0), (2, 1), (3, 1), ("4", 1)])
def test_performance_status_at_below_above_2(ecog, pts):
    assert res(ecog=ecog).points == pts


def test_bmi_is_not_an_item():
    with pytest.raises(InputError, match="unknown item"):
        res(bmi=40)


def test_worked_example_pancreas():
    r = res(site="pancreas", platelets=400, hb="95g/L", leukocytes=12, ecog=2)
    assert r.points == 2 + 1 + 1 + 1 + 1
    assert r.group is None and r.risk["estimate"] is None  # cut-offs not verified


def test_missing_ecog_gives_a_range():
    r = assess("conko", **{**BASE, "ecog": None, "site": "pancreas"})
    assert r.points is None and r.points_range == [2, 3] and r.missing == ["ecog"]
    with pytest.raises(InputError, match="whole number"):
        res(ecog=1.5)


runner = CliRunner()
CLI = ["risk", "--score", "conko", "--site", "pancreas", "--platelets", "400", "--hb", "12",
       "--leukocytes", "8", "--ecog", "2"]


def test_cli_one_patient_json():
    out = runner.invoke(app, [*CLI, "--json"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.stdout)
    assert d["score"] == "conko" and d["points"] == 4 and d["items"]["ecog"]["points"] == 1
    assert "not a medical device" in d["disclaimer"]


def test_cli_bad_site_and_ecog_exit_2():
    out = runner.invoke(app, [*CLI[:4], "mars", *CLI[5:]])
    assert out.exit_code == 2 and "--site" in out.output
    out = runner.invoke(app, [*CLI[:-1], "9"])
    assert out.exit_code == 2 and "--ecog" in out.output
