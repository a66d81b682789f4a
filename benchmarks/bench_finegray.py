"""Benchmark: drivervte FineGray (crr-exact, linear scan) vs naive O(n*d) vs R crr vs PyPI.

Data: simulated NSCLC-like cohort, p = 10 (5 binary gene flags, 5 continuous), cause 1
(VTE) ~25 %, cause 2 (death) ~35 %, the rest censored; follow-up in integer days (ties, as
in registries). Every fit computes crr's sandwich variance (``var``).

Reports wall-clock seconds (best of ``--repeat``) and the CPU seconds of the same run (the
machine may be shared: CPU time is the fairer measure then), the growth ratio per 10x n,
and for the others the largest relative difference of coefficients and SEs from
drivervte's:

* ``naive``: the same estimator with the per-failure-time kernel
  (:mod:`drivervte.survival.finegray_dense`, :math:`O(n d p^2)`, d ~ number of distinct
  failure days), i.e. what a direct transcription of ``crr`` costs;
* ``R crr``: ``cmprsk::crr`` via ``Rscript`` if installed (skipped otherwise);
* PyPI packages a user might pick: ``pycrr`` (``FineGrayModel``, ``robust_se_``) and
  ``comprisk`` (``FineGrayRegression(robust_se=True)``), imported from
  ``--pypi-path`` (install with ``pip install --target DIR --no-deps comprisk pycrr
  numba llvmlite scikit-learn joblib threadpoolctl cloudpickle``); skipped if absent.
  Each external run is a subprocess with a timeout.
* ``cli``: the whole ``drivervte finegray FILE.csv ... --json`` process on a CSV of the
  largest size (reading the CSV included); ``bench_finegray_cli.py`` times that process cold
  and warm (wall, user, sys, peak RSS) with the split by phase.

Usage: ``python benchmarks/bench_finegray.py [--sizes 10000,100000,1000000]
[--naive 1000,10000] [--others 1000,10000] [--repeat 1] [--timeout 300]
[--pypi-path /tmp/fg/benchpkgs] [--no-cli] [--external "R crr,pycrr,comprisk"]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from drivervte.survival.finegray import FineGray
from drivervte.survival.finegray_dense import dense_eval
from drivervte.survival.finegray_newton import newton
from drivervte.survival.finegray_scan import prepare

P = 10


def simulate(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.binomial(1, [0.35, 0.08, 0.05, 0.2, 0.1], (n, 5)),
                         rng.normal(size=(n, 5))]).astype(float)
    b1 = np.array([0.5, 0.7, 0.3, -0.2, 0.1, 0.2, -0.1, 0.05, 0.0, 0.1])
    t1 = rng.exponential(365 / (0.25 * np.exp(X @ b1)))
    t2 = rng.exponential(365 / 0.35, n)
    tc = rng.uniform(90, 4 * 365, n)
    t = np.minimum(np.minimum(t1, t2), tc)
    s = np.where(t == t1, 1, np.where(t == t2, 2, 0))
    return np.ceil(t), s, X


def fit_drivervte(t, s, X):
    fg = FineGray().fit(time=t, status=s, X=X)
    return fg.coef_, np.sqrt(np.diag(fg.vcov_))


def fit_naive(t, s, X):
    D = prepare(t, np.where(s == 0, 0, np.where(s == 1, 1, 2)), X, np.zeros(t.size, int))
    b, _, _, _, _ = newton(lambda b: dense_eval(D, b, "kernel"),
                           lambda b: dense_eval(D, b, "loglik"), X.shape[1],
                           max_iter=50, tol=1e-9, names=[str(i) for i in range(X.shape[1])])
    R, info = dense_eval(D, b, "variance")[:2]
    Hi = np.linalg.inv(info)
    return b, np.sqrt(np.diag(Hi @ (R.T @ R) @ Hi))


def best_of(fn, repeat):
    """Best wall-clock seconds of ``repeat`` runs, the CPU seconds of that run, the output."""
    best, cpu, out = np.inf, np.inf, None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        el, ec = time.perf_counter() - t0, time.process_time() - c0
        if el < best:
            best, cpu = el, ec
    return best, cpu, out


_R_SCRIPT = """
suppressPackageStartupMessages(library(cmprsk))
d <- read.csv(commandArgs(TRUE)[1])
X <- as.matrix(d[, grep("^x", names(d))])
t0 <- proc.time()
f <- crr(d$t, d$s, X)
el <- proc.time() - t0
cat(jsonlite::toJSON(list(seconds = el[["elapsed"]],
    cpu = el[["user.self"]] + el[["sys.self"]], coef = unname(f$coef),
    se = unname(sqrt(diag(f$var)))), digits = NA, auto_unbox = TRUE))
"""

_PY_EXT = """
import json, sys, time
import numpy as np
sys.path.append({path!r})
d = np.load({npz!r})
t, s, X = d["t"], d["s"], d["X"]
t0, c0 = time.perf_counter(), time.process_time()
if {pkg!r} == "pycrr":
    from pycrr.model import FineGrayModel
    m = FineGrayModel().fit(X, t, s, event_of_interest=1)
    coef, se = m.coef_, m.robust_se_
else:
    from comprisk import FineGrayRegression
    m = FineGrayRegression(robust_se=True).fit(X, time=t, event=s)
    coef, se = m.coef_, m.se_
el, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps(dict(seconds=el, cpu=cpu, coef=list(map(float, coef)),
                      se=list(map(float, se)))))
"""


def run_external(kind, t, s, X, timeout, pypi_path):
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "R crr":
            if shutil.which("Rscript") is None:
                return {"skipped": "Rscript not found"}
            csv = Path(tmp) / "d.csv"
            cols = {"t": t, "s": s} | {f"x{j + 1}": X[:, j] for j in range(X.shape[1])}
            np.savetxt(csv, np.column_stack(list(cols.values())), delimiter=",",
                       header=",".join(cols), comments="", fmt="%.17g")
            script = Path(tmp) / "b.R"
            script.write_text(_R_SCRIPT)
            cmd = ["Rscript", str(script), str(csv)]
        else:
            if not (Path(pypi_path) / kind).exists():
                return {"skipped": f"{kind} not installed under {pypi_path}"}
            npz = Path(tmp) / "d.npz"
            np.savez(npz, t=t, s=s, X=X)
            cmd = [sys.executable, "-c", _PY_EXT.format(path=pypi_path, npz=str(npz), pkg=kind)]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return {"skipped": f"timeout after {timeout} s"}
        if p.returncode != 0:
            return {"skipped": "failed: " + p.stderr.strip().splitlines()[-1][:200]}
        return json.loads(p.stdout.strip().splitlines()[-1])


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))


def cli_run(n, timeout):
    t, s, X = simulate(n)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "cohort.csv"
        cols = ["time", "status"] + [f"x{j + 1}" for j in range(P)]
        np.savetxt(csv, np.column_stack((t, s, X)), delimiter=",", header=",".join(cols),
                   comments="", fmt="%.10g")
        exe = shutil.which("drivervte") or str(Path(sys.executable).parent / "drivervte")
        cmd = [exe, "finegray", str(csv), "--time", "time", "--status", "status",
               "--covariates", ",".join(cols[2:]), "--json"]
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                           env=os.environ.copy())
        el = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        size_mb = csv.stat().st_size / 1e6
    ok = p.returncode == 0 and json.loads(p.stdout)["converged"]
    return el, cpu, ok, size_mb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--naive", default="1000,10000")
    ap.add_argument("--others", default="1000,10000")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--pypi-path", default="/tmp/fg/benchpkgs")
    ap.add_argument("--no-cli", action="store_true")
    ap.add_argument("--external", default="R crr,pycrr,comprisk",
                    help="which of 'R crr', pycrr, comprisk to run at the --others sizes")
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",") if x]
    small = sorted({int(x) for x in (a.naive + "," + a.others).split(",") if x})
    rows = []
    prev = None
    for n in sorted(set(sizes) | set(small)):
        t, s, X = simulate(n)
        sec, cpu, (coef, se) = best_of(lambda t=t, s=s, X=X: fit_drivervte(t, s, X),
                                       a.repeat)
        ratio = sec / prev[1] if prev and n == 10 * prev[0] else None
        prev = (n, sec)
        row = {"n": n, "impl": "drivervte", "seconds": round(sec, 3), "cpu": round(cpu, 3),
               "ratio_per_10x": None if ratio is None else round(ratio, 2),
               "events": int(np.sum(s == 1)), "distinct_failure_days": int(
                   np.unique(t[s == 1]).size)}
        rows.append(row)
        print(json.dumps(row), flush=True)
        if str(n) in a.naive.split(","):
            sec2, cpu2, (c2, se2) = best_of(lambda t=t, s=s, X=X: fit_naive(t, s, X), 1)
            row = {"n": n, "impl": "naive O(n d)", "seconds": round(sec2, 3),
                   "cpu": round(cpu2, 3),
                   "max_rel_coef": rel(c2, coef), "max_rel_se": rel(se2, se)}
            rows.append(row)
            print(json.dumps(row), flush=True)
        if str(n) in a.others.split(","):
            for kind in [k.strip() for k in a.external.split(",") if k.strip()]:
                r = run_external(kind, t, s, X, a.timeout, a.pypi_path)
                row = {"n": n, "impl": kind}
                if "skipped" in r:
                    row["skipped"] = r["skipped"]
                else:
                    row |= {"seconds": round(r["seconds"], 3), "cpu": round(r["cpu"], 3),
                            "max_rel_coef": rel(r["coef"], coef),
                            "max_rel_se": rel(r["se"], se)}
                rows.append(row)
                print(json.dumps(row), flush=True)
    if not a.no_cli:
        n = max(sizes)
        el, cpu, ok, mb = cli_run(n, a.timeout)
        row = {"n": n, "impl": "drivervte finegray CLI (whole process, CSV read)",
               "seconds": round(el, 2), "cpu": round(cpu, 2), "ok": ok, "csv_MB": round(mb, 1)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    print()
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(wall seconds are inflated when the machine is shared; cpu = process CPU seconds)")
    print(f"{'n':>9}  {'implementation':<48} {'seconds':>9} {'cpu':>8}  notes")
    for r in rows:
        note = ""
        if "ratio_per_10x" in r and r["ratio_per_10x"] is not None:
            note = f"x{r['ratio_per_10x']} per 10x n"
        if "max_rel_coef" in r:
            note = f"max rel diff coef {r['max_rel_coef']:.1e}, se {r['max_rel_se']:.1e}"
        if "skipped" in r:
            note = "skipped: " + r["skipped"]
        sec, cpu = r.get("seconds"), r.get("cpu")
        print(f"{r['n']:>9}  {r['impl']:<48} {'' if sec is None else sec:>9} "
              f"{'' if cpu is None else cpu:>8}  {note}")


if __name__ == "__main__":
    main()
