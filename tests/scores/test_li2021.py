"""Li et al., Thromb Res 2021 (NSCLC, EGFR -1 point): every cut-off at, below and above."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from drivervte.cli.main import app
from drivervte.errors import InputError
from drivervte.scores import assess

BASE = {"ecog": 0, "egfr_mutation": False, "neutrophils": 4, "hb": 13.5, "cea": 2,
        "ddimer": 0.5}


def res(**kw):
    return assess("li2021", **{**BASE, **kw})


def test_baseline_zero_no_group_no_risk():
    r = res()
    assert r.points == 0 and r.group is None and r.risk["estimate"] is None


@pytest.mark.parametrize(
    ("item", "below", "at", "above", "pts_below", "pts_at", "pts_above"),
    [
        ("ecog", 1, 2, 3, 0, 1, 1),                                  # ECOG >= 2
        ("neutrophils", 7.4, 7.5, 7.6, 0, 2, 2),                     # >= 7.5 x10^9/L
        ("hb", "114.9g/L", "115g/L", "115.1g/L", 1, 0, 0),           # < 115 g/L
        ("hb", 11.49, 11.5, 11.51, 1, 0, 0),                         # same in g/dL
        ("cea", 4.9, 5.0, 5.1, 0, 2, 2),                             # >= 5.0 ng/mL
        ("ddimer", "1399ng/mL", "1400ng/mL", "1401ng/mL", 0, 4, 4),  # >= 1400 ng/mL
        ("ddimer", 1.39, 1.4, 1.41, 0, 4, 4),                        # same in ug/mL
    ],
)
def test_thresholds(item, below, at, above, pts_below, pts_at, pts_above):
    assert res(**{item: below}).points == pts_below
    assert res(**{item: at}).points == pts_at
    assert res(**{item: above}).points == pts_above


def test_egfr_mutation_subtracts_one():
    assert res(egfr_mutation=True).points == -1
    assert res(egfr_mutation="yes", ddimer=2).points == 3


def test_worked_example_and_extremes():
    r = res(ecog=2, egfr_mutation=True, neutrophils="8000/uL", hb="110g/L", cea=6,
            ddimer="1500ng/mL")
    assert r.points == 1 - 1 + 2 + 1 + 2 + 4
    assert res(ecog=4, neutrophils=20, hb=8, cea=100, ddimer=10).points == 10


def test_missing_items_range_includes_negative_point():
    r = assess("li2021", ecog=2, neutrophils=8, hb=13, cea=2, ddimer=0.5)
    assert r.missing == ["egfr_mutation"] and r.points_range == [2, 3]
    r = assess("li2021")
    assert r.points_range == [-1, 10] and r.points is None


def test_bad_input():
    with pytest.raises(InputError, match="whole number") as e:
        res(ecog=5)
    assert e.value.column == "ecog"
    with pytest.raises(InputError, match="DDU"):
        res(ddimer="1500DDU")
    with pytest.raises(InputError, match="unknown item"):
        res(site="lung")


@settings(max_examples=60, deadline=None)
@given(ecog=st.integers(0, 4), egfr=st.booleans(), neu=st.floats(0.1, 30),
       hb=st.floats(5, 18), cea=st.floats(0, 200), dd=st.floats(0.05, 20))
def test_total_is_sum_of_items(ecog, egfr, neu, hb, cea, dd):
    r = assess("li2021", ecog=ecog, egfr_mutation=egfr, neutrophils=neu, hb=hb, cea=cea,
               ddimer=dd)
    assert r.points == sum(d["points"] for d in r.items.values())
    assert -1 <= r.points <= 10


runner = CliRunner()
CLI = ["risk", "--score", "li2021", "--ecog", "2", "--egfr-mutation", "--neutrophils", "8",
       "--hb", "110g/L", "--cea", "6", "--ddimer", "1500ng/mL"]


def test_cli_one_patient_json():
    out = runner.invoke(app, [*CLI, "--json"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.stdout)
    assert d["score"] == "li2021" and d["points"] == 9
    assert d["items"]["egfr_mutation"]["points"] == -1
    assert d["group"] is None and d["risk"]["estimate"] is None
    assert "not a medical device" in d["disclaimer"]


def test_cli_bad_ecog_exits_2():
    args = list(CLI)
    args[args.index("--ecog") + 1] = "ambulatory"
    out = runner.invoke(app, args)
    assert out.exit_code == 2 and "--ecog" in out.output


def test_table_keeps_rows_and_reports_ranges(tmp_path):
    import pandas as pd

    df = pd.DataFrame({"id": [1, 2, 3], "ecog": [2, 0, None], "egfr_mutation": [1, 0, None],
                       "neutrophils": [8.0, 4.0, 5.0], "hb": [110, 140, 130],
                       "cea": [6.0, 1.0, 1.0], "ddimer": [1500, 300, 300]})
    path = tmp_path / "li.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "scored.csv"
    cli = runner.invoke(app, ["risk", str(path), "--score", "li2021", "--unit", "hb=g/L",
                              "--unit", "ddimer=ng/mL", "--out", str(out)])
    assert cli.exit_code == 0, cli.output
    scored = pd.read_csv(out)
    assert list(scored["id"]) == [1, 2, 3]
    assert scored.loc[0, "points"] == 9 and scored.loc[1, "points"] == 0
    assert pd.isna(scored.loc[2, "points"])
    assert (scored.loc[2, "points_min"], scored.loc[2, "points_max"]) == (-1, 1)
    assert scored.loc[2, "missing"] == "ecog,egfr_mutation"
    bad = runner.invoke(app, ["risk", str(path), "--score", "li2021", "--ecog", "2"])
    assert bad.exit_code == 2 and "--ecog" in bad.output
