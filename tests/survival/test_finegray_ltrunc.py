"""Delayed-entry weights of survival::finegray (drivervte.survival.finegray_ltrunc).

The numbers against R on real data are in test_finegray_reference.py (cases lt_*); here: a
worked example whose weights were read off R's ``finegray`` output, and a brute-force
(O(n^2), direct risk-set counting) version of ``finegray``'s curve on random tied data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivervte.errors import InputError
from drivervte.survival.finegray import FineGray
from drivervte.survival.finegray_ltrunc import aeq_times, truncation_weights


def test_entry_tied_with_censoring_is_not_at_risk():
    """n = 6; R: ``finegray(Surv(entry, time, ev) ~ id, id = id, etype = "e")`` gives the
    competing failure (id 1, T = 2) weight 1 on (4, 6] and 0.5 on (6, 7].

    id      1  2  3  4  5  6
    entry   0  0  1  4  0  0
    time    2  3  4  6  5  7
    status  2  1  0  0  1  1      (2 = competing, 1 = event, 0 = censored)

    Ranks of the times {0,...,7} are 1..8; failures move 0.2 rank earlier. Censoring KM
    with risk set entry < u <= exit: at time 4 (id 3) ids 3, 5, 6 are at risk; id 4,
    entering at 4, is not: G = 2/3 (counting id 4 would give 3/4 and a weight of 1.125 on
    (4, 6]). At time 6 (id 4): ids 4, 6 -> G = 1/3. Reverse-time KM of entries: at 4, ids
    4, 5, 6 -> 2/3; at 1, ids 2, 3, 5, 6 (id 1's exit 2 - 0.2 is after 1) and id 1 -> 4/5.
    The curve G(t-)H(t-) is 8/15 on (0, 1], 2/3 on (1, 6], 1/3 on (6, 7]; weights relative
    to T = 2: 1 on (4, 6] and (1/3)/(2/3) = 1/2 on (6, 7], as R.
    """
    entry = np.array([0, 0, 1, 4, 0, 0.0])
    time = np.array([2, 3, 4, 6, 5, 7.0])
    ici = np.array([2, 1, 0, 0, 1, 1])
    w = truncation_weights(entry, time, ici)
    np.testing.assert_allclose(
        w(np.array([0.5, 1, 2, 4, 5, 6, 6.5, 7])),
        [8 / 15, 8 / 15, 2 / 3, 2 / 3, 2 / 3, 2 / 3, 1 / 3, 1 / 3],
        rtol=1e-15,
    )
    np.testing.assert_allclose(w(np.array([5.0, 7.0])) / w(2.0), [1.0, 0.5], rtol=1e-15)


def _brute_curve(entry, time, ici):
    """survival::finegray's (ct2, cp2) by direct counting (O(n^2)), for the property test."""
    utime = np.unique(np.concatenate((entry, time)))
    rs = np.array([np.sum(utime <= e) for e in entry], float)
    rt = np.array([np.sum(utime <= t) for t in time], float)
    stop = np.where(ici != 0, rt - 0.2, rt)
    G, g = {}, 1.0
    for r in sorted(set(rt[ici == 0])):
        at_risk = np.sum((rs < r) & (r <= stop))
        g *= 1 - np.sum((rt == r) & (ici == 0)) / at_risk
        G[r] = g
    if np.any(entry > time.min()):
        H = {}
        for e in sorted(set(rs)):  # product over entries with rank > e
            h = 1.0
            for f in sorted(set(rs)):
                if f > e:
                    h *= 1 - np.sum(rs == f) / np.sum((rs <= f) & (f < stop))
            H[e] = h
        knots = sorted(set(H) | set(G))
        vals = [
            H[max(e for e in H if e <= k)]
            * (G[max(c for c in G if c <= k)] if any(c <= k for c in G) else 1.0)
            for k in knots
        ]
    else:
        knots, vals = sorted(G), [G[k] for k in sorted(G)]
    ct2 = np.array([utime[int(k) - 1] for k in knots] + [time.max()])
    cp2 = np.array([1.0, *vals])
    return lambda x: cp2[min(int(np.sum(ct2 < x)), cp2.size - 1)]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(8, 40))
def test_curve_equals_brute_force_with_ties(seed, n):
    rng = np.random.default_rng(seed)
    time = rng.integers(1, 8, n).astype(float)
    entry = np.minimum(rng.integers(0, 6, n), time - 1).astype(float)
    ici = rng.integers(0, 3, n)
    w = truncation_weights(entry, time, ici)
    ref = _brute_curve(entry, time, ici)
    grid = np.arange(0, 9, 0.5)
    np.testing.assert_allclose(w(grid), [ref(x) for x in grid], rtol=1e-13)


def test_fit_cause_keyword_overrides_constructor():
    rng = np.random.default_rng(5)
    n = 200
    df = pd.DataFrame(
        {"time": rng.exponential(10, n), "status": rng.integers(0, 3, n), "x": rng.normal(size=n)}
    )
    df["entry"] = rng.uniform(0, 0.5, n) * np.minimum(df["time"], 2.0)
    df.loc[:30, "entry"] = 0.0  # under observation from 0: the risk set never empties
    a = FineGray(cause=2).fit(df, time="time", status="status", covariates=["x"], entry="entry")
    b = FineGray(cause=1).fit(
        df, time="time", status="status", covariates=["x"], entry="entry", cause=2
    )
    c = FineGray(cause=1).fit(df, time="time", status="status", covariates=["x"])
    assert b.cause == 2
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.result_.events == b.result_.events == int((df.status == 2).sum())
    assert not np.allclose(b.coef_, c.coef_)


def test_empty_risk_set_gap_is_an_input_error():
    """Subjects 1-2 leave (at 1, 2) before anyone else enters (at 3): H is 0 before 3, and
    the competing failure of row 2 would get weight 0/0 (R: NaN weights, rows dropped)."""
    entry = np.array([0, 0, 3, 3, 3, 4, 3.5, 3.2])
    time = np.array([1, 2, 5, 6, 7, 8, 9, 10.0])
    status = np.array([1, 2, 1, 0, 2, 1, 1, 0])
    x = np.array([0, 1, 1, 0, 1, 0, 1, 0.0])
    with pytest.raises(InputError, match="risk set is empty") as ei:
        FineGray().fit(time=time, status=status, X=x[:, None], entry=entry)
    assert ei.value.rows == [1] and ei.value.column == "entry"


def test_aeq_times_merges_near_ties_and_rejects_zero_length():
    """survival::aeqSurv: gaps <= sqrt(eps) (absolute or relative to mean |y|) are ties."""
    entry = np.array([0.0, 1.0 - 1e-12, 2.0])
    time = np.array([1.0, 3.0 * (1 + 1e-10), 3.0])
    e2, t2 = aeq_times(entry, time)
    np.testing.assert_array_equal(e2, [0.0, 1.0 - 1e-12, 2.0])  # first of each run kept
    np.testing.assert_array_equal(t2, [1.0 - 1e-12, 3.0, 3.0])
    same = (np.array([0.0, 1.0]), np.array([1e-300, 1.0 + 1e-13]))
    with pytest.raises(InputError, match="length 0") as ei:
        aeq_times(*same, rows=np.array([4, 7]))
    assert ei.value.rows == [4, 7]
    untouched = (np.array([0.0, 1.0]), np.array([2.0, 3.0]))
    out = aeq_times(*untouched)
    assert out[0] is untouched[0] and out[1] is untouched[1]  # no near ties: unchanged
