"""Benchmark: the bootstrap of ``validate_score`` (C-index, NRI, AUC) at n = 1e3, 1e4, 1e5.

Simulated competing-risks cohort (VTE hazard rising with the marker, death as competing
event, uniform censoring; about 35% VTE, 25% death, 40% censored; times rounded to 0.01 so
there are ties), a predicted risk and a second, noisier one (so that the NRI is computed),
horizons 3, 6, 12. For each n it prints

- the time of one replicate split by part (resample draw + censoring Kaplan-Meier, AUC at
  the three horizons, Wolbers' C at the three horizons in one pass, continuous + category
  NRI at the three horizons), median of ``--reps`` replicates;
- the wall-clock seconds of ``validate_score(..., bootstrap=B)`` (``--boot``, default 200)
  minus the same call with ``bootstrap=0``, and that per replicate;
- the growth ratio per 10x n of the per-replicate time (10 = linear; each estimator is
  O(n log n) from its sorts, so a little above 10 is expected).

Usage: ``python benchmarks/bench_validation_bootstrap.py [--sizes 1000,10000,100000]
[--boot 200] [--reps 5]``. Timings belong here, never in the tests. CPU seconds
(``time.process_time``) are printed too: on a shared machine they are the fairer figure.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from drivervte.scores.validation import validate_score
from drivervte.scores.validation_auc import CensoringKM, auc_competing
from drivervte.scores.validation_cindex import cindex_competing_times
from drivervte.scores.validation_reclass import nri_competing_times

TIMES = [3.0, 6.0, 12.0]


def simulate(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    m = rng.normal(size=n)
    t_vte = rng.exponential(20 * np.exp(-0.8 * m))
    t_death = rng.exponential(30, n)
    t_cens = rng.uniform(2, 24, n)
    t = np.minimum.reduce([t_vte, t_death, t_cens])
    s = np.select([t == t_vte, t == t_death], [1, 2], 0)
    return pd.DataFrame({
        "time": np.round(t, 2) + 0.01, "status": s,
        "pred": 1 / (1 + np.exp(-(m - 2))),
        "pred2": 1 / (1 + np.exp(-(m + 0.3 * rng.normal(size=n) - 2))),
    })


def parts(df: pd.DataFrame, reps: int, seed: int = 0) -> dict[str, float]:
    """Median seconds of each part of one replicate."""
    t, s = df["time"].to_numpy(), df["status"].to_numpy()
    m, m2 = df["pred"].to_numpy(), df["pred2"].to_numpy()
    rng = np.random.default_rng(seed)
    out: dict[str, list[float]] = {"draw+km": [], "auc": [], "cindex": [], "nri": []}
    for _ in range(reps):
        c0 = time.perf_counter()
        idx = rng.integers(0, t.size, size=t.size)
        tb, sb, mb, m2b = t[idx], s[idx], m[idx], m2[idx]
        km = CensoringKM.fit(tb, sb)
        c1 = time.perf_counter()
        for h in TIMES:
            auc_competing(tb, sb, mb, h, 1, 0.95, km)
        c2 = time.perf_counter()
        cindex_competing_times(tb, sb, mb, TIMES, 1, "km", km)
        c3 = time.perf_counter()
        nri_competing_times(tb, sb, mb, m2b, TIMES, 1)
        nri_competing_times(tb, sb, mb, m2b, TIMES, 1, (0.05, 0.10))
        c4 = time.perf_counter()
        for k, v in zip(out, (c1 - c0, c2 - c1, c3 - c2, c4 - c3), strict=True):
            out[k].append(v)
    return {k: float(np.median(v)) for k, v in out.items()}


def whole(df: pd.DataFrame, boot: int) -> tuple[float, float]:
    """Wall and CPU seconds of the bootstrap inside validate_score (B runs minus B = 0)."""
    kw = dict(time="time", status="status", score=None, predicted="pred", compare="pred2",
              times=TIMES)
    w0, p0 = time.perf_counter(), time.process_time()
    validate_score(df, **kw)
    w1, p1 = time.perf_counter(), time.process_time()
    validate_score(df, **kw, bootstrap=boot, seed=1)
    w2, p2 = time.perf_counter(), time.process_time()
    return (w2 - w1) - (w1 - w0), (p2 - p1) - (p1 - p0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--boot", type=int, default=200)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    rows = []
    for n in (int(float(x)) for x in args.sizes.split(",")):
        df = simulate(n)
        p = parts(df, args.reps)
        wall, cpu = whole(df, args.boot)
        row = {"n": n, "B": args.boot, "per_replicate_parts_s": p,
               "per_replicate_s": sum(p.values()), "bootstrap_wall_s": wall,
               "bootstrap_cpu_s": cpu, "wall_per_replicate_s": wall / args.boot}
        print(json.dumps(row))
        rows.append(row)
    print(f"\n{'n':>8} {'draw+km':>8} {'AUC x3':>8} {'C x3':>8} {'NRI x6':>8} "
          f"{'B=' + str(args.boot) + ' wall':>11} {'cpu':>8} {'growth':>7}")
    prev = None
    for r in rows:
        p = r["per_replicate_parts_s"]
        growth = "" if prev is None else f"{r['wall_per_replicate_s'] / prev:.1f}x"
        print(f"{r['n']:>8} {p['draw+km']:>8.4f} {p['auc']:>8.4f} {p['cindex']:>8.4f} "
              f"{p['nri']:>8.4f} {r['bootstrap_wall_s']:>11.2f} {r['bootstrap_cpu_s']:>8.2f} "
              f"{growth:>7}")
        prev = r["wall_per_replicate_s"]


if __name__ == "__main__":
    main()
