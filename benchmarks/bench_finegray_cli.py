"""Benchmark: the whole ``drivervte finegray FILE.csv ... --json`` process at n = 1e6, p = 10.

Issue #3's target: Fine-Gray at n = 1e6, p = 10 with crr's sandwich SE in <= 5 s as a whole
process, CSV read included, cold (first run, page cache dropped) and warm.

Data (``--data``):

* ``sim`` (default): ``drivervte simulate --n N --seed 1`` (17 columns, text columns among
  them), with the 10 covariates ``age, sex, egfr, alk, ros1, kras, platelets, hemoglobin,
  leukocytes, bmi`` (``sex`` is text, coded ``sex[T.M]``: p = 10 design columns);
* ``numeric``: the problem of ``bench_finegray.py`` (``time, status, x1..x10``, integer days).

Runs (each a new process, timed with ``os.wait4``: wall, user, sys, peak RSS, major
faults):

* ``cold``: the page cache dropped first (``sync; echo 3 > /proc/sys/vm/drop_caches``, needs
  root; otherwise reported as ``first`` and only the first run in a new process);
* ``warm`` x ``--repeat``;
* ``split``: one more warm process with the phases timed in-process (start-up imports,
  command imports, CSV read, validation + design matrix, fit, output) and the peak RSS
  (``VmHWM``) after each phase; the interpreter's own start is the rest of the wall time.

Usage: ``python benchmarks/bench_finegray_cli.py [--n 1000000] [--data sim|numeric]
[--csv PATH] [--repeat 3] [--no-cold]``. Wall seconds are inflated when the machine is
shared (the load average is printed); user + sys is the fairer measure then.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

SIM_COVS = "age,sex,egfr,alk,ros1,kras,platelets,hemoglobin,leukocytes,bmi"
NUM_COVS = ",".join(f"x{j + 1}" for j in range(10))

# The child of the ``split`` run: the CLI in-process, with timing wrappers around the
# reading and the validation (module attributes replaced; the numbers are unchanged).
_SPLIT = r"""
import sys, time, json, resource
T0 = time.perf_counter()
marks = []
def hwm():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
def mark(name):
    ru = resource.getrusage(resource.RUSAGE_SELF)
    marks.append((name, time.perf_counter(), hwm(), ru.ru_utime, ru.ru_stime))
mark("start")
import drivervte.cli.main as cli_main
mark("imports: CLI (typer, rich, numpy)")
import drivervte.survival.cohort as cohort
import drivervte.survival.finegray as finegray
mark("imports: command (pandas, pyarrow, scipy.sparse)")
_read, _prep = cohort.read_table, finegray.from_frame
def read_table(*a, **k):
    out = _read(*a, **k)
    if not marks[-1][0].startswith("read"):  # not the pass-through call of prepare_cohort
        mark("read CSV (used columns)")
    return out
def from_frame(*a, **k):
    out = _prep(*a, **k)
    mark("validate + design matrix")
    return out
cohort.read_table, finegray.from_frame = read_table, from_frame
_fit = finegray.FineGray._fit_crr
def _fit_crr(self, *a, **k):
    out = _fit(self, *a, **k)
    mark("checks + fit + sandwich")
    return out
finegray.FineGray._fit_crr = _fit_crr
import io, contextlib
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    try:
        cli_main.app(sys.argv[1:], standalone_mode=False)
    except SystemExit:
        pass
mark("output (JSON)")
json.loads(buf.getvalue())
rows = [(n, t - marks[i][1], m, u - marks[i][3], st - marks[i][4])
        for i, (n, t, m, u, st) in enumerate(marks[1:])]
print(json.dumps({"phases": rows, "total": marks[-1][1] - T0}), file=sys.stderr)
"""


def make_csv(n: int, kind: str, path: Path) -> None:
    if kind == "sim":
        exe = shutil.which("drivervte") or str(Path(sys.executable).parent / "drivervte")
        subprocess.run([exe, "simulate", "--n", str(n), "--seed", "1", "--out", str(path)],
                       check=True, capture_output=True)  # fmt: skip
        return
    import numpy as np

    sys.path.insert(0, str(Path(__file__).parent))
    from bench_finegray import simulate

    t, s, X = simulate(n)
    cols = ["time", "status", *NUM_COVS.split(",")]
    np.savetxt(path, np.column_stack((t, s, X)), delimiter=",", header=",".join(cols),
               comments="", fmt="%.10g")  # fmt: skip


def command(csv: Path, kind: str) -> list[str]:
    exe = shutil.which("drivervte") or str(Path(sys.executable).parent / "drivervte")
    covs = SIM_COVS if kind == "sim" else NUM_COVS
    return [exe, "finegray", str(csv), "--time", "time", "--status", "status", "--cause", "1",
            "--covariates", covs, "--json"]  # fmt: skip


def drop_caches() -> bool:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def run(cmd: list[str]) -> dict:
    """One process: wall, user, sys, peak RSS (MB), major faults; its JSON output."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {err.decode()[-500:]}")
    res = json.loads(out)
    return {"wall": wall, "user": ru.ru_utime, "sys": ru.ru_stime,
            "peak_rss_MB": ru.ru_maxrss / 1024, "major_faults": ru.ru_majflt,
            "converged": res["converged"], "coef0": next(iter(res["coef"].values()))}  # fmt: skip


def split(cmd: list[str]) -> dict:
    p = subprocess.run([sys.executable, "-c", _SPLIT, *cmd[1:]], capture_output=True,
                       text=True, check=False)  # fmt: skip
    if p.returncode != 0:
        raise SystemExit(f"split run failed: {p.stderr[-500:]}")
    return json.loads(p.stderr.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--data", choices=["sim", "numeric"], default="sim")
    ap.add_argument("--csv", type=Path, default=None, help="reuse (or write) this CSV")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-cold", action="store_true")
    a = ap.parse_args()
    csv = a.csv or Path(f"/tmp/bench_fg_{a.data}_{a.n}.csv")
    if not csv.exists():
        make_csv(a.n, a.data, csv)
    cmd = command(csv, a.data)
    print(f"{csv} ({csv.stat().st_size / 1e6:.0f} MB); load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")  # fmt: skip
    rows = []
    if not a.no_cold:
        label = "cold (page cache dropped)" if drop_caches() else "first (cache not dropped)"
        rows.append((label, run(cmd)))
    for i in range(a.repeat):
        rows.append((f"warm {i + 1}", run(cmd)))
    print(f"{'run':<28}{'wall':>7}{'user':>7}{'sys':>7}{'peak RSS MB':>13}{'majflt':>8}")
    for label, r in rows:
        print(f"{label:<28}{r['wall']:>7.2f}{r['user']:>7.2f}{r['sys']:>7.2f}"
              f"{r['peak_rss_MB']:>13.0f}{r['major_faults']:>8}")  # fmt: skip
    assert all(r["converged"] for _, r in rows)
    assert len({r["coef0"] for _, r in rows}) == 1, "runs disagree"
    s = split(cmd)
    print(f"\nsplit (one warm process, in-process clock; total {s['total']:.2f} s after the "
          "interpreter started)")  # fmt: skip
    print(f"{'phase':<48}{'wall':>7}{'user':>7}{'sys':>7}{'peak RSS MB':>13}")
    for name, sec, mb, user, sys_ in s["phases"]:
        print(f"{name:<48}{sec:>7.2f}{user:>7.2f}{sys_:>7.2f}{mb:>13.0f}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
