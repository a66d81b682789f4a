"""crr's censoring step function: left limits, time 0, beyond the group's last time."""

from __future__ import annotations

import numpy as np

from drivervte.survival.finegray_ltrunc import truncation_weights
from drivervte.survival.finegray_weights import censoring_km, eval_censoring


def test_left_limit_time_zero_and_beyond():
    # times 0(c) 0(event) 2(c) 2(event) 5(event); censored marks:
    t = np.array([0.0, 0.0, 2.0, 2.0, 5.0])
    c = np.array([True, False, True, False, False])
    knots, vals = censoring_km(t, c)
    # KM: at 0, 5 at risk, 1 censored -> 4/5; at 2, 3 at risk, 1 censored -> 4/5 * 2/3
    np.testing.assert_allclose(vals[1:-1], [0.8, 0.8 * 2 / 3, 0.8 * 2 / 3], rtol=1e-15)
    G = eval_censoring(knots, vals, np.array([0.0, 1.0, 2.0, 3.0, 5.0, 5.5]))
    # t = 0 -> G(0) (crr evaluates at 0 * (1 - 100 eps) = 0, the knot itself)
    # t = 2 -> G(2-) = G(0); t = 5 -> G(5-); beyond the last time -> 0
    np.testing.assert_allclose(G, [0.8, 0.8, 0.8, 0.8 * 2 / 3, 0.8 * 2 / 3, 0.0], rtol=1e-15)


def test_truncation_weights_without_delay_is_left_limit_km_with_events_first():
    """entry = 0 for all: finegray's G, where a failure tied with a censoring leaves the
    risk set first (so the censoring KM's risk set at 2 excludes the failure at 2)."""
    t = np.array([1.0, 2.0, 2.0, 3.0, 4.0])
    ici = np.array([1, 0, 2, 0, 1])
    w = truncation_weights(np.zeros(5), t, ici)
    # censoring at 2: at risk {censored at 2, 3, 4} = 3 -> 2/3; at 3: {3, 4} -> 1/2
    np.testing.assert_allclose(
        w(np.array([1.0, 2.0, 2.5, 3.0, 3.5, 4.0])), [1, 1, 2 / 3, 2 / 3, 1 / 3, 1 / 3], rtol=1e-15
    )
