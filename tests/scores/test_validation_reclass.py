"""NRI with competing risks: without censoring it is the plain net proportions."""

from __future__ import annotations

import numpy as np
import pytest

from drivervte.scores.validation_reclass import nri_competing


def test_without_censoring_equals_counts():
    t = np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    s = np.array([1, 1, 2, 1, 2, 2, 1, 2, 2, 2])   # no censoring; horizon 10: all observed
    old = np.full(10, 0.1)
    new = np.array([.2, .05, .2, .2, .05, .05, .1, .2, .05, .1])
    res = nri_competing(t, s, old, new, 10.0)
    # events (rows 0, 1, 3, 6): up 0, 3; down 1 -> (2 - 1) / 4
    # non-events (2, 4, 5, 7, 8, 9): down 4, 5, 8; up 2, 7 -> (3 - 2) / 6
    assert res["nri_events"] == pytest.approx(1 / 4)
    assert res["nri_nonevents"] == pytest.approx(1 / 6)
    assert res["nri"] == pytest.approx(1 / 4 + 1 / 6)
    cat = nri_competing(t, s, old, new, 10.0, cutoffs=[0.08, 0.15])
    # categories: old all middle; new .2 high (up), .05 low (down), .1 middle
    assert cat["nri"] == pytest.approx(res["nri"])
    cat2 = nri_competing(t, s, old, new, 10.0, cutoffs=[0.5])
    assert cat2["nri"] == 0.0 and cat2["p_up"] == 0.0


def test_identical_models_give_zero():
    t = np.array([1.0, 2, 3, 4, 5, 6])
    s = np.array([1, 0, 2, 1, 0, 1])
    r = np.linspace(0.1, 0.6, 6)
    res = nri_competing(t, s, r, r, 4.0)
    assert res["nri"] == 0.0 and res["reason"] is None


def test_no_event_by_horizon_is_nan():
    res = nri_competing(np.array([5.0, 6]), np.array([1, 0]), np.array([.1, .2]),
                        np.array([.2, .1]), 2.0)
    assert np.isnan(res["nri"]) and res["reason"]
