"""rma(): tables, EffectSizes and arrays in; dispatch to fit_rma / rma_mh / rma_peto.

Numbers are checked against the metafor fixtures (dat.bcg with escalc RR, moderators
ablat and alloc) so the table -> effect sizes -> design -> model path is tested end to end.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import load_reference
from drivervte.errors import InputError
from drivervte.meta import fit_rma, rma
from drivervte.meta.api import design_from_columns
from tolerances import RTOL_ITER

REF = load_reference("metafor_rma")

# metadat::dat.bcg (Colditz et al. 1994), public data.
BCG = pd.DataFrame({
    "study": ["Aronson", "Ferguson & Simes", "Rosenthal et al", "Hart & Sutherland",
              "Frimodt-Moller et al", "Stein & Aronson", "Vandiviere et al", "TPT Madras",
              "Coetzee & Berjak", "Rosenthal et al 2", "Comstock et al", "Comstock & Webster",
              "Comstock et al 2"],
    "ai": [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27],
    "bi": [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886],
    "ci": [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29],
    "di": [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825],
    "ablat": [44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33],
    "alloc": ["random", "random", "random", "random", "alternate", "alternate", "random",
              "random", "random", "systematic", "systematic", "systematic", "systematic"],
})


def _case(design, method="REML", test="z"):
    return next(c for c in REF["cases"] if c["dataset"] == "bcg" and c["design"] == design
                and c["method"] == method and c["test"] == test and c["control"] != "default")


def test_table_of_counts_with_categorical_moderator_matches_metafor():
    res = rma(BCG, measure="RR", mods=["alloc"], method="REML", test="knha")
    o = _case("bcg/alloc", "REML", "knha")["output"]
    np.testing.assert_allclose(res.yi, REF["datasets"]["bcg"]["yi"], rtol=1e-12)
    assert res.moderators.names == ["intrcpt", "alloc[T.random]", "alloc[T.systematic]"]
    np.testing.assert_allclose(res.moderators.coef, o["beta"], rtol=RTOL_ITER)
    np.testing.assert_allclose(res.moderators.QM, o["QM"], rtol=RTOL_ITER)
    np.testing.assert_allclose(res.tau2, o["tau2"], rtol=RTOL_ITER)
    assert res.measure == "RR" and res.study[0] == "Aronson"
    assert res.ni is not None


def test_numeric_moderator_and_yi_vi_columns():
    ds = REF["datasets"]["bcg"]
    t = pd.DataFrame({"Study": BCG["study"], "logrr": ds["yi"], "var": ds["vi"],
                      "ablat": BCG["ablat"]})
    res = rma(t, yi="logrr", vi="var", measure="RR", mods=["ablat"], method="DL")
    o = _case("bcg/ablat", "DL")["output"]
    np.testing.assert_allclose(res.moderators.coef, o["beta"], rtol=1e-10)
    np.testing.assert_allclose(res.moderators.R2, o["R2"], rtol=1e-10)
    assert res.moderators.names == ["intrcpt", "ablat"]
    assert res.study[1] == "Ferguson & Simes"


def test_sei_column_and_arrays_agree():
    ds = REF["datasets"]["bcg"]
    sei = np.sqrt(ds["vi"])
    a = rma(pd.DataFrame({"y": ds["yi"], "se": sei}), yi="y", sei="se")
    b = rma(yi=ds["yi"], sei=sei)
    c = fit_rma(ds["yi"], ds["vi"])
    for r in (a, b):
        assert r.estimate == pytest.approx(c.estimate, rel=1e-12)
        assert r.tau2 == pytest.approx(c.tau2, rel=1e-12)


def test_effect_sizes_input():
    from drivervte.effects import escalc

    es = escalc("RR", ai=BCG["ai"], bi=BCG["bi"], ci=BCG["ci"], di=BCG["di"])
    res = rma(es, method="PM")
    o = _case(None, "PM")["output"]
    assert res.estimate == pytest.approx(o["beta"], rel=RTOL_ITER)
    assert res.measure == "RR"


def test_array_moderators_get_an_intercept():
    ds = REF["datasets"]["bcg"]
    res = rma(yi=ds["yi"], vi=ds["vi"], mods=BCG["ablat"].to_numpy(), method="ML")
    o = _case("bcg/ablat", "ML")["output"]
    np.testing.assert_allclose(res.moderators.coef, o["beta"], rtol=RTOL_ITER)
    assert res.moderators.names == ["intrcpt", "mod1"]


def test_missing_row_is_excluded_and_reported():
    t = BCG.copy()
    t.loc[2, "ai"] = np.nan
    res = rma(t, measure="RR", method="DL")
    assert res.k == 12
    assert [e["row"] for e in res.excluded] == [2]
    assert "Rosenthal et al" not in res.study


def test_moderators_follow_the_kept_rows():
    t = BCG.copy()
    t.loc[0, "ai"] = np.nan
    res = rma(t, measure="RR", mods=["ablat"], method="DL")
    np.testing.assert_allclose(res.X[:, 1], BCG["ablat"].to_numpy()[1:])


def test_missing_moderator_names_column_and_row():
    t = BCG.copy()
    t["ablat"] = t["ablat"].astype(float)
    t.loc[4, "ablat"] = np.nan
    with pytest.raises(InputError) as ei:
        rma(t, measure="RR", mods=["ablat"])
    assert ei.value.column == "ablat" and ei.value.rows == [4]


def test_single_level_and_unknown_moderators():
    t = BCG.assign(const="x")
    with pytest.raises(InputError, match="single value"):
        rma(t, measure="RR", mods=["const"])
    with pytest.raises(InputError, match="not in the table"):
        rma(BCG, measure="RR", mods=["latitude"])


def test_mh_and_peto_dispatch():
    from drivervte.meta.mantel_haenszel import rma_mh
    from drivervte.meta.peto import rma_peto

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mh = rma(BCG, measure="RR", method="MH")
        direct = rma_mh(BCG["ai"], BCG["bi"], BCG["ci"], BCG["di"], measure="RR",
                        study=list(BCG["study"]))
        pe = rma(BCG, method="PETO")
        pdirect = rma_peto(BCG["ai"], BCG["bi"], BCG["ci"], BCG["di"])
    assert mh.method == "MH" and mh.estimate == pytest.approx(direct.estimate, rel=1e-14)
    assert pe.estimate == pytest.approx(pdirect.estimate, rel=1e-14)
    with pytest.raises(InputError, match="moderators"):
        rma(BCG, method="MH", mods=["ablat"])
    with pytest.raises(InputError, match="2x2 counts"):
        rma(yi=[0.1, 0.2], vi=[0.1, 0.1], method="MH")


def test_input_errors():
    with pytest.raises(InputError, match="yi"):
        rma()
    with pytest.raises(InputError) as ei:
        rma(yi=[0.1, 0.2], sei=[0.1, -1])
    assert ei.value.rows == [1]
    with pytest.raises(InputError, match="table"):
        rma(yi=[0.1, 0.2, 0.3], vi=[0.1] * 3, mods=["x"])
    with pytest.raises(InputError, match="data"):
        rma(42)


def test_design_from_columns_dummy_coding():
    X, names = design_from_columns(BCG, ["alloc", "ablat"])
    assert names == ["intrcpt", "alloc[T.random]", "alloc[T.systematic]", "ablat"]
    assert X.shape == (13, 4)
    assert X[4, 1] == 0 and X[4, 2] == 0  # 'alternate' is the reference
    assert X[0, 1] == 1 and X[10, 2] == 1


def test_named_columns_appear_in_exclusions_and_errors():
    t = pd.DataFrame({"name": ["a", "b", "c"], "y": [0.1, 0.3, np.nan],
                      "v": [0.01, 0.02, 0.03]})
    res = rma(t, yi="y", vi="v", study="name", method="DL")
    assert res.study == ["a", "b"]
    assert res.excluded == [{"row": 2, "study": "c", "reason": "missing value in y"}]
    bad = t.assign(v=[0.01, -1.0, 0.03])
    with pytest.raises(InputError) as ei:
        rma(bad, yi="y", vi="v")
    assert ei.value.column == "v" and ei.value.rows == [1]


def test_effect_size_notes_reach_the_result():
    t = BCG.copy()
    t.loc[0, "ai"] = 0  # a zero cell: escalc adds 1/2, and says so
    from drivervte.effects import from_table

    es = from_table(t, "OR")
    assert es.notes
    res = rma(t, measure="OR", method="DL")
    assert res.warnings[: len(es.notes)] == es.notes
    assert res.yi[0] == pytest.approx(es.yi[0])
