"""Harrell's concordance (cox_concordance) against a brute-force pair loop and a hand count.

The R comparison (``coxph(...)$concordance`` for every fixture case) is in
test_cox_reference.py.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from drivervte.survival.cox_concordance import concordance


def brute(time, event, lp, w, strata, entry):
    n = len(time)
    strata = np.zeros(n) if strata is None else strata
    entry = np.full(n, -np.inf) if entry is None else entry
    conc = disc = tied = 0.0
    for i in range(n):
        if not event[i]:
            continue
        for j in range(n):
            if j == i or strata[j] != strata[i] or entry[j] >= time[i]:
                continue
            if time[j] > time[i] or (time[j] == time[i] and not event[j]):
                ww = w[i] * w[j]
                if lp[i] > lp[j]:
                    conc += ww
                elif lp[i] < lp[j]:
                    disc += ww
                else:
                    tied += ww
    return conc, disc, tied


def test_hand_counted_example():
    """Events at 1 (x=1), 6 (x=1), 6 (x=0), 9 (x=0): 5 concordant, 2 discordant, 6 tied
    on x (survival::coxph gives the same counts; C = 8/13)."""
    t = np.array([1, 1, 6, 6, 8, 9, 9.0])
    e = np.array([1, 0, 1, 1, 0, 1, 0], bool)
    x = np.array([1, 1, 1, 0, 0, 0, 1.0])
    c = concordance(t, e, x)
    assert (c.concordant, c.discordant, c.tied_x) == (5, 2, 6)
    assert c.concordance == 8 / 13


@settings(max_examples=80, deadline=None)
@given(st.integers(2, 40), st.integers(0, 2**31 - 1), st.booleans(), st.booleans(), st.booleans())
def test_matches_brute_force(n, seed, weighted, stratified, delayed):
    rng = np.random.default_rng(seed)
    time = rng.integers(1, 6, n).astype(float)
    event = rng.random(n) < 0.6
    lp = rng.integers(0, 4, n) * 0.5  # many ties in the score
    w = rng.uniform(0.5, 2, n) if weighted else np.ones(n)
    strata = rng.integers(0, 3, n) if stratified else None
    entry = np.where(rng.random(n) < 0.5, np.floor(rng.random(n) * time), 0.0) if delayed else None
    c = concordance(time, event, lp, w, strata, entry)
    np.testing.assert_allclose([c.concordant, c.discordant, c.tied_x],
                               brute(time, event, lp, w, strata, entry), rtol=1e-12, atol=1e-12)  # fmt: skip


def test_no_comparable_pairs_gives_nan():
    c = concordance(np.array([1.0, 1.0]), np.array([True, True]), np.array([0.0, 1.0]))
    assert np.isnan(c.concordance)
