"""Synthetic cohort: determinism, columns, prevalence by setting, valid times/status."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from drivervte.errors import InputError
from drivervte.survival.cohort import prepare_cohort
from drivervte.survival.cuminc import cumulative_incidence
from drivervte.survival.simulate import GENES, PREVALENCE, simulate_cohort

COLUMNS = [
    "id", "age", "sex", "smoking", "histology", "stage", "gene", "egfr", "alk", "ros1", "kras",
    "platelets", "hemoglobin", "leukocytes", "bmi", "time", "status",
]  # fmt: skip


def test_deterministic_for_a_seed():
    a = simulate_cohort(500, seed=7)
    b = simulate_cohort(500, seed=7)
    pd.testing.assert_frame_equal(a, b)
    c = simulate_cohort(500, seed=8)
    assert not a["time"].equals(c["time"])


def test_columns_and_values():
    df = simulate_cohort(2000, seed=1, setting="western")
    assert list(df.columns) == COLUMNS
    assert len(df) == 2000 and df["id"].tolist() == list(range(1, 2001))
    assert set(df["status"].unique()) <= {0, 1, 2}
    assert {0, 1, 2} <= set(df["status"].unique())
    assert (df["time"] > 0).all() and np.isfinite(df["time"]).all()
    # one driver at most, and the flags agree with the gene column
    flags = df[["egfr", "alk", "ros1", "kras"]].to_numpy()
    assert (flags.sum(axis=1) <= 1).all()
    assert ((df["gene"] == "ALK").to_numpy() == (df["alk"] == 1).to_numpy()).all()
    assert set(df["gene"].cat.categories) == set(GENES)
    # times are whole days
    days = df["time"].to_numpy() * (365.25 / 12)
    np.testing.assert_allclose(days, np.round(days), atol=1e-6)


@pytest.mark.parametrize("setting", ["east_asian", "western"])
def test_prevalence_matches_setting(setting):
    n = 40_000
    df = simulate_cohort(n, seed=3, setting=setting)
    for gene, p in PREVALENCE[setting].items():
        observed = float((df["gene"] == gene).mean())
        assert abs(observed - p) < 4 * np.sqrt(p * (1 - p) / n), (gene, observed, p)


def test_gene_effects_show_in_cumulative_incidence():
    df = simulate_cohort(20_000, seed=11)
    sub = df[df["gene"].isin(["ALK", "EGFR", "none"])]
    res = cumulative_incidence(
        sub["time"].to_numpy(), sub["status"].to_numpy(),
        group=sub["gene"].astype(str).to_numpy(), times=[12],
    )  # fmt: skip
    at = res.at([12])
    alk, egfr, none = (at[g]["1"]["estimate"][0] for g in ("ALK", "EGFR", "none"))
    assert alk > none > egfr
    assert res.gray["1"].pvalue < 1e-6
    # stage IV has more VTE than stage I
    iv = df["stage"] == "IV"
    i = df["stage"] == "I"
    r = cumulative_incidence(
        df["time"][iv | i].to_numpy(), df["status"][iv | i].to_numpy(),
        group=df["stage"][iv | i].astype(str).to_numpy(), times=[6],
    )  # fmt: skip
    assert r.at([6])["IV"]["1"]["estimate"][0] > 2 * r.at([6])["I"]["1"]["estimate"][0]


def test_left_truncation():
    df = simulate_cohort(3000, seed=5, left_truncation=True)
    assert len(df) == 3000
    assert (df["entry"] >= 0).all() and (df["entry"] < df["time"]).all()
    cohort = prepare_cohort(df, time="time", status="status", entry="entry", covariates=["alk"])
    assert cohort.entry is not None and cohort.n == 3000


def test_usable_by_prepare_cohort():
    df = simulate_cohort(1000, seed=2)
    c = prepare_cohort(
        df, time="time", status="status", covariates=["alk", "stage", "age"],
        reference={"stage": "I"},
    )  # fmt: skip
    assert c.covariate_names == ["alk", "stage[T.II]", "stage[T.III]", "stage[T.IV]", "age"]


@pytest.mark.parametrize(
    ("kwargs", "column"),
    [({"n": 0, "seed": 1}, "n"), ({"n": 10, "seed": 1, "setting": "african"}, "setting")],
)
def test_bad_arguments(kwargs, column):
    with pytest.raises(InputError) as exc:
        simulate_cohort(**kwargs)
    assert exc.value.column == column
