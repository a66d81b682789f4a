"""The pools of the shipped evidence base against metafor (fixture evidence_pools.json).

First the inputs: each Python pool must hold exactly the fixture's records and effect sizes
(a change to evidence.yaml fails here until ``Rscript tests/reference/R/evidence_pools.R``
is rerun). Then the fits: REML + Knapp-Hartung, DL and EE, and the proportion pools.
"""

from __future__ import annotations

import pytest

from conftest import load_reference
from drivervte.evidence.store import EvidenceStore
from drivervte.evidence.synthesis import SynthesisOptions, comparative_pools
from drivervte.evidence.tables import incidence
from tolerances import ATOL_ZERO, RTOL_EXACT, RTOL_ITER, RTOL_QPROFILE

FIXTURE = load_reference("evidence_pools")
CASES = {c["name"]: c for c in FIXTURE["cases"]}
POOL_CASES = [n for n in CASES if not n.startswith("incidence")]
FIT_KEYS = {"REML_knha": "main", "DL_z": "method_DL", "EE_z": "method_EE"}
FIELDS = ("estimate", "se", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "tau2", "I2",
          "H2", "Q", "Q_pvalue", "pvalue")


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    return EvidenceStore(tmp_path_factory.mktemp("db") / "x.duckdb").records()


@pytest.fixture(scope="module")
def pools(stored):
    return {p.key: p for p in comparative_pools(stored, SynthesisOptions())}


def _rtol(method: str) -> float:
    # REML is iterative (R stops at its tolerance); DL and EE are closed form.
    return RTOL_ITER if method == "REML" else RTOL_EXACT


@pytest.mark.parametrize("name", POOL_CASES)
def test_pool_inputs_match_fixture(pools, name):
    case = CASES[name]
    by_id = {s.id: s for s in pools[name].studies}
    assert sorted(by_id) == sorted(case["inputs"]["record_ids"])
    for rid, yi, vi in zip(case["inputs"]["record_ids"], case["inputs"]["yi"],
                           case["inputs"]["vi"], strict=True):
        assert by_id[rid].yi == pytest.approx(yi, rel=RTOL_EXACT)
        assert by_id[rid].vi == pytest.approx(vi, rel=RTOL_EXACT)


@pytest.mark.parametrize("name", POOL_CASES)
@pytest.mark.parametrize("fit_key", list(FIT_KEYS))
def test_pool_fits_match_metafor(pools, name, fit_key):
    ref = CASES[name]["fits"][fit_key]
    pool = pools[name]
    fit = pool.main if FIT_KEYS[fit_key] == "main" else pool.sensitivity[FIT_KEYS[fit_key]]["fit"]
    rtol = _rtol(ref["method"])
    for f in FIELDS:
        if ref["method"] == "EE" and f in ("pi_lower", "pi_upper"):
            continue  # metafor's predict() gives no prediction interval for EE models
        assert getattr(fit, f) == pytest.approx(ref[f], rel=rtol, abs=ATOL_ZERO), f
    if "tau2_ci_upper" in ref:
        for f in ("tau2_ci_lower", "tau2_ci_upper", "I2_ci_lower", "I2_ci_upper"):
            assert getattr(fit, f) == pytest.approx(ref[f], rel=RTOL_QPROFILE, abs=ATOL_ZERO), f


@pytest.mark.parametrize("measure", ["PLO", "PFT"])
def test_incidence_matches_metafor(stored, measure):
    case = CASES["incidence|ROS1|TE"]
    res = incidence(stored, "ROS1", "TE")
    arms = sorted(zip(case["inputs"]["xi"], case["inputs"]["ni"], strict=True))
    assert sorted((a["events"], a["n"]) for a in res.arms) == arms
    fit = res.main if measure == "PLO" else res.pft
    ref = case["fits"][measure]
    for f in FIELDS:
        assert getattr(fit, f) == pytest.approx(ref[f], rel=RTOL_ITER, abs=ATOL_ZERO), f
    tr = fit.transformed
    assert tr["estimate"] == pytest.approx(ref["prop"], rel=RTOL_ITER)
    assert tr["ci_lower"] == pytest.approx(ref["prop_ci_lower"], rel=RTOL_ITER)
    assert tr["ci_upper"] == pytest.approx(ref["prop_ci_upper"], rel=RTOL_ITER)
