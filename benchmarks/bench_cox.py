"""Benchmark: drivervte CoxPH vs lifelines CoxPHFitter vs statsmodels PHReg vs naive O(n^2).

Simulated right-censored data with p = 10 standard-normal covariates, exponential event and
censoring times (about 60 % events, continuous times, so few ties). Every fit uses Efron
ties; drivervte runs with ``concordance=False`` (the others do not compute it in ``fit``
either). Reports wall-clock seconds (best of ``--repeat`` runs), the growth ratio per 10x n,
and the largest absolute coefficient difference between drivervte and the others. CPU
seconds (``time.process_time``, all threads) are recorded too: on a shared machine they
are the fairer comparison. Set ``OPENBLAS_NUM_THREADS=1`` on a loaded machine: BLAS threads
spinning against other processes can double the wall time.

R ``survival::coxph`` (Efron, ``eps = 1e-12``) is run through ``Rscript`` at ``--r-sizes``
(default 1e6) when R is installed: its fit time and the largest coefficient difference.

Usage: ``python benchmarks/bench_cox.py [--sizes 10000,100000,1000000] [--repeat 1]
[--naive-max 3000] [--no-others] [--statsmodels-max 100000] [--r-sizes 1000000]``. Prints one JSON object per size and a summary table.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

from drivervte.survival.cox import CoxPH


def simulate(n: int, p: int = 10, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    beta = np.linspace(-0.5, 0.5, p)
    t = rng.exponential(1.0 / np.exp(X @ beta))
    c = rng.exponential(1.5, size=n)
    return np.minimum(t, c), (t <= c).astype(int), X


def naive_efron(time: np.ndarray, status: np.ndarray, X: np.ndarray, iters: int = 30):
    """Textbook O(n^2 p^2) Newton-Raphson with explicit risk-set masks (Efron ties)."""
    _n, p = X.shape
    beta = np.zeros(p)
    event_times = np.unique(time[status == 1])
    for _ in range(iters):
        r = np.exp(X @ beta)
        U = np.zeros(p)
        info = np.zeros((p, p))
        for t in event_times:
            risk = time >= t
            dead = risk & (time == t) & (status == 1)
            d = int(dead.sum())
            s0, s1 = r[risk].sum(), r[risk] @ X[risk]
            s2 = (X[risk] * r[risk, None]).T @ X[risk]
            e0, e1 = r[dead].sum(), r[dead] @ X[dead]
            e2 = (X[dead] * r[dead, None]).T @ X[dead]
            U += X[dead].sum(axis=0)
            for k in range(d):
                f = k / d
                den = s0 - f * e0
                m = (s1 - f * e1) / den
                U -= m
                info += (s2 - f * e2) / den - np.outer(m, m)
        step = np.linalg.solve(info, U)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta


def timed(fn, repeat: int):
    """Best wall-clock seconds over ``repeat`` runs, the CPU seconds of that run, the output."""
    best, cpu, out = np.inf, np.inf, None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = time.perf_counter() - t0
        if wall < best:
            best, cpu = wall, time.process_time() - c0
    timed.last_cpu = cpu
    return best, out


_R_COXPH = r"""
suppressPackageStartupMessages({library(survival); library(jsonlite)})
args <- commandArgs(TRUE)
d <- read.csv(args[1])
covs <- setdiff(names(d), c("T", "E"))
f <- as.formula(paste("Surv(T, E) ~", paste(covs, collapse = " + ")))
el <- system.time(fit <- coxph(f, data = d, ties = "efron",
                               control = coxph.control(eps = 1e-12, iter.max = 50)))
cat(toJSON(list(seconds = el[["elapsed"]], coef = unname(coef(fit)),
                se = unname(sqrt(diag(fit$var)))), digits = NA, auto_unbox = TRUE))
"""


def run_r_coxph(tt, st, X, timeout: float) -> dict:
    """R ``survival::coxph`` (Efron, eps = 1e-12) on the same data via ``Rscript``: its fit
    time (``system.time``, reading the CSV excluded) and coefficients."""
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    if shutil.which("Rscript") is None:
        return {"skipped": "Rscript not found"}
    with tempfile.TemporaryDirectory() as tmp:
        csv, script = Path(tmp) / "d.csv", Path(tmp) / "c.R"
        cols = [f"x{j}" for j in range(X.shape[1])]
        np.savetxt(csv, np.column_stack((tt, st, X)), delimiter=",", fmt="%.17g",
                   header=",".join(["T", "E", *cols]), comments="")
        script.write_text(_R_COXPH)
        try:
            p = subprocess.run(["Rscript", str(script), str(csv)], capture_output=True,
                               text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return {"skipped": f"timeout after {timeout} s"}
        if p.returncode != 0:
            return {"skipped": "failed: " + p.stderr.strip()[-200:]}
        return json.loads(p.stdout)


def bench_one(n: int, args: argparse.Namespace) -> dict:
    """Time every implementation at one n; returns the JSON record."""
    tt, st, X = simulate(n)
    rec: dict = {"n": n, "p": X.shape[1], "events": int(st.sum())}
    # concordance off: lifelines computes it lazily, statsmodels not at all
    sec, model = timed(lambda: CoxPH(concordance=False).fit(time=tt, status=st, X=X), args.repeat)
    ours = model.coef_
    rec["drivervte_s"] = sec
    rec["drivervte_cpu_s"] = timed.last_cpu
    rec["drivervte_iterations"] = model.result_.iterations
    if n == args.naive_max:
        sec, b = timed(lambda: naive_efron(tt, st, X), 1)
        rec["naive_s"] = sec
        rec["maxdiff_naive"] = float(np.max(np.abs(b - ours)))
    if str(n) in args.r_sizes.split(","):
        r = run_r_coxph(tt, st, X, args.timeout)
        if "skipped" in r:
            rec["R_coxph"] = r["skipped"]
        else:
            rec["R_coxph_s"] = r["seconds"]
            rec["maxdiff_R_coxph"] = float(np.max(np.abs(np.asarray(r["coef"]) - ours)))
            rec["maxreldiff_R_coxph_se"] = float(np.max(np.abs(
                np.asarray(r["se"]) / np.sqrt(np.diag(model.result_.vcov)) - 1)))
    if not args.no_others:
        import pandas as pd
        from lifelines import CoxPHFitter
        from statsmodels.duration.hazard_regression import PHReg

        df = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
        df["T"], df["E"] = tt, st
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sec, cph = timed(
                lambda: CoxPHFitter().fit(df, "T", "E"),
                args.repeat,
            )
        rec["lifelines_s"] = sec
        rec["lifelines_cpu_s"] = timed.last_cpu
        rec["maxdiff_lifelines"] = float(np.max(np.abs(cph.params_.to_numpy() - ours)))
        if n <= args.statsmodels_max:
            sec, ph = timed(
                lambda: PHReg(tt, X, status=st, ties="efron").fit(),
                args.repeat,
            )
            rec["statsmodels_s"] = sec
            rec["maxdiff_statsmodels"] = float(np.max(np.abs(np.asarray(ph.params) - ours)))
    return rec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--naive-max", type=int, default=3000)
    ap.add_argument("--no-others", action="store_true")
    ap.add_argument(
        "--statsmodels-max",
        type=int,
        default=100000,
        help="largest n for statsmodels PHReg (O(n^2)-like; ~160 s at 1e5)",
    )
    ap.add_argument("--r-sizes", default="1000000",
                    help="sizes at which R survival::coxph is run too (needs Rscript)")
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for n in [args.naive_max, *sizes] if args.naive_max else sizes:
        rec = bench_one(n, args)
        print(json.dumps(rec), flush=True)
        rows.append(rec)
    main_rows = [r for r in rows if r["n"] in sizes]
    print("\n     n   drivervte   lifelines  statsmodels  growth(ours per 10x)")
    prev = None
    for r in main_rows:
        g = "" if prev is None else f"{r['drivervte_s'] / prev:.1f}x"
        print(
            f"{r['n']:>7}  {r['drivervte_s']:>9.3f}s  {r.get('lifelines_s', float('nan')):>9.3f}s"
            f"  {r.get('statsmodels_s', float('nan')):>10.3f}s  {g}"
        )
        prev = r["drivervte_s"]


if __name__ == "__main__":
    main()
