"""Harrell's concordance of a risk score with survival, as ``survival::concordance``.

A pair (i, j) is *comparable* when i has the event at ``t_i`` and j is still at risk after
it in the same stratum: ``start_j < t_i`` and ``t_j > t_i``, or ``t_j = t_i`` with j
censored (a censoring at ``t`` is taken to follow an event at ``t``, as survival does). Pairs
of events at the same time are ``tied.y`` and not comparable. With risk score ``lp`` (higher
= shorter survival, ``reverse = TRUE`` as ``coxph`` uses) a comparable pair is concordant
when ``lp_i > lp_j``, discordant when ``lp_i < lp_j`` and ``tied.x`` when equal; each pair
counts ``w_i w_j``. ``C = (concordant + tied.x / 2) / (concordant + discordant + tied.x)``.

Algorithm: the comparable set is ``{j : key_j > key(t_i)}`` (``key`` orders stratum, time,
and events before censorings) minus, for delayed entry, ``{j : start_j >= t_i}``, a subset.
Each part is a weighted two-dimensional dominance count, done by a bottom-up merge sort
whose levels are vectorised: O(m log^2 m) in C loops for m = rows + events, no Python loop
over rows (about 0.1 s at n = 1e4, 1-2 s at 1e5 on a loaded 2-core machine; hence
``CoxPH(concordance="auto")`` stops at 1e5). The standard error of
``survival::concordance`` is not computed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ConcordanceCounts", "concordance"]


@dataclass
class ConcordanceCounts:
    concordant: float
    discordant: float
    tied_x: float

    @property
    def concordance(self) -> float:
        den = self.concordant + self.discordant + self.tied_x
        return (self.concordant + self.tied_x / 2) / den if den > 0 else float("nan")


def _dominance(pkey, plp, pw, qkey, qlp, qw) -> tuple[float, float]:
    """Sum of ``qw_i pw_j`` over pairs with ``pkey_j > qkey_i`` and ``plp_j < qlp_i`` (and ==).

    Keys never tie between points and queries (callers make them differ). ``*lp`` are
    non-negative integers with strata already folded in. Bottom-up merge sort on the key
    order: at the level with half-blocks of size h, each query in an even half-block is
    compared with the points of the next (odd) half-block, both sorted by ``lp``, by
    ``searchsorted``; every (query, later point) pair is counted at exactly one level.
    """
    key = np.concatenate([pkey, qkey])
    lp = np.concatenate([plp, qlp]).astype(np.int64)
    w = np.concatenate([pw, qw]).astype(float)
    isq = np.zeros(key.size, bool)
    isq[pkey.size :] = True
    order = np.argsort(key, kind="stable")
    lp, w, isq = lp[order], w[order], isq[order]
    m = key.size
    pos = np.arange(m)
    big = np.int64(lp.max() + 1 if m else 1)
    arr = np.arange(m)  # arrangement: element indices sorted by (pos // h, lp)
    conc = tied = 0.0
    h = 1
    while h < m:
        hb = pos // h
        # merge: sort by (half-block, lp); the previous arrangement has sorted runs
        skey = hb[arr] * big + lp[arr]
        arr = arr[np.argsort(skey, kind="stable")]
        hb_a, lp_a, w_a, q_a = hb[arr], lp[arr], w[arr], isq[arr]
        pts = (~q_a) & (hb_a % 2 == 1)
        K = hb_a[pts] * big + lp_a[pts]
        CW = np.concatenate([[0.0], np.cumsum(w_a[pts])])
        qs = q_a & (hb_a % 2 == 0)
        target = (hb_a[qs] + 1) * big
        base = np.searchsorted(K, target, "left")
        lo = np.searchsorted(K, target + lp_a[qs], "left")
        hi = np.searchsorted(K, target + lp_a[qs], "right")
        wq = w_a[qs]
        conc += float(wq @ (CW[lo] - CW[base]))
        tied += float(wq @ (CW[hi] - CW[lo]))
        h *= 2
    return conc, tied


def concordance(
    time: np.ndarray,
    event: np.ndarray,
    lp: np.ndarray,
    weights: np.ndarray | None = None,
    strata: np.ndarray | None = None,
    entry: np.ndarray | None = None,
) -> ConcordanceCounts:
    """Weighted concordant / discordant / tied-on-score pair counts (see module docstring)."""
    n = time.shape[0]
    event = event.astype(bool)
    w = np.ones(n) if weights is None else weights.astype(float)
    s = np.zeros(n, np.int64) if strata is None else strata.astype(np.int64)
    times = time if entry is None else np.concatenate([time, entry])
    uniq = np.unique(times)
    rt = np.searchsorted(uniq, time)
    M = np.int64(4 * (uniq.size + 2))
    # stop key: stratum, time, events (4r+1) before queries (4r+2) before censorings (4r+3)
    pkey = s * M + 4 * rt + np.where(event, 1, 3)
    qkey = (s * M + 4 * rt + 2)[event]
    # scores as integer ranks, strata folded in so that cross-stratum pairs never count
    ulp, rlp = np.unique(lp, return_inverse=True)
    L = np.int64(ulp.size + 1)
    plp = s * L + rlp
    qlp = plp[event]
    qw = w[event]
    conc, tied = _dominance(pkey, plp, w, qkey, qlp, qw)
    # comparable weight per query: points with larger key in the same stratum
    ks = np.sort(pkey)
    cw = np.concatenate([[0.0], np.cumsum(w[np.argsort(pkey, kind="stable")])])
    upto = np.searchsorted(ks, (s[event] + 1) * M, "left")
    after = np.searchsorted(ks, qkey, "left")
    total = float(qw @ (cw[upto] - cw[after]))
    if entry is not None:
        # remove rows that enter at or after t_i (start key 4 r(start) + 3 > query key)
        re = np.searchsorted(uniq, entry)
        ekey = s * M + 4 * re + 3
        c2, t2 = _dominance(ekey, plp, w, qkey, qlp, qw)
        conc, tied = conc - c2, tied - t2
        ks2 = np.sort(ekey)
        cw2 = np.concatenate([[0.0], np.cumsum(w[np.argsort(ekey, kind="stable")])])
        upto2 = np.searchsorted(ks2, (s[event] + 1) * M, "left")
        after2 = np.searchsorted(ks2, qkey, "left")
        total -= float(qw @ (cw2[upto2] - cw2[after2]))
    return ConcordanceCounts(concordant=conc, discordant=total - conc - tied, tied_x=tied)
