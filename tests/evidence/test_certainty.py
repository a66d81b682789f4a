"""The certainty rules and the optimal information size."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivervte.errors import InputError
from drivervte.evidence.certainty import assess, required_information_size
from drivervte.evidence.store import EvidenceStore
from drivervte.evidence.synthesis import SynthesisOptions, comparative_pools, headline_pool


def test_ois_matches_hand_calculation():
    # p0 = 0.10, OR = 2: p1 = 0.2/1.1; z = 1.959964 + 0.841621 (alpha 0.05, power 0.8)
    p0, p1 = 0.10, 0.2 / 1.1
    z = 1.959963984540054 + 0.8416212335729143
    n = z**2 * (p0 * (1 - p0) + p1 * (1 - p1)) / (p1 - p0) ** 2
    assert required_information_size(2.0, 0.10) == pytest.approx(2 * n, rel=1e-12)
    assert math.isinf(required_information_size(1.0, 0.2))


def test_ois_rejects_bad_input():
    with pytest.raises(InputError):
        required_information_size(2.0, 0.0)
    with pytest.raises(InputError):
        required_information_size(-1.0, 0.1)


@settings(max_examples=80, deadline=None)
@given(p0=st.floats(0.01, 0.5), r=st.floats(1.05, 5), f=st.floats(1.05, 2))
def test_ois_shrinks_as_effect_grows(p0, r, f):
    assert required_information_size(r * f, p0) < required_information_size(r, p0)
    assert required_information_size(1 / (r * f), p0) < required_information_size(1 / r, p0)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    stored = EvidenceStore(tmp_path_factory.mktemp("db") / "x.duckdb").records()
    return stored, comparative_pools(stored, SynthesisOptions())


def test_statements_follow_the_numbers(setup):
    stored, pools = setup
    alk = assess("ALK", headline_pool(pools, "ALK"), stored)
    assert alk.direction == "higher" and alk.ci_lower > 1
    assert alk.domains["inconsistency"]["rating"] == "serious"  # I2 > 50 %
    assert alk.more_data_could_change  # the prediction interval includes 1
    kras = assess("KRAS", headline_pool(pools, "KRAS"), stored)
    assert kras.direction == "unclear" and kras.ci_lower < 1 < kras.ci_upper
    assert kras.domains["imprecision"]["rating"] in ("serious", "very serious")
    for c in (alk, kras):
        assert c.level in ("very low", "low")  # observational evidence starts low
        assert c.gene in c.statement and c.level in c.statement


def test_control_risk_from_comparator_counts(setup):
    stored, pools = setup
    c = assess("EGFR", headline_pool(pools, "EGFR"), stored)
    # EGFR-negative arms with counts: Wang 13/206, Sen Yang 13/266
    assert c.control_risk == pytest.approx(26 / 472)
    assert c.ois == pytest.approx(required_information_size(c.estimate, 26 / 472))


def test_no_pool_gives_open_statement():
    c = assess("ROS1", None, [])
    assert c.pool_key is None and c.level == "very low" and c.more_data_could_change
