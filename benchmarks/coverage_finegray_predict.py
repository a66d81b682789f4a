"""Simulation study: coverage of FineGray.predict's confidence intervals, and its cost in n.

Data come from a true Fine-Gray model (the design of Fine and Gray 1999, Section 5):

    F_1(t | z) = 1 - [1 - p (1 - e^{-t})]^{exp(z'b1)},

cause 2 otherwise, with an exponential time of rate exp(z'b2); z = (binary gene flag,
standard normal); independent uniform censoring. For a fixed profile and times the study
counts how often each method's 95% interval contains the true F_1(t | z), and compares the
Monte Carlo SD of the estimates with the mean reported SE. A method whose SE is right has
coverage near 0.95 (Monte Carlo error about +-0.014 at 1,000 replicates).

Then it times ``predict`` (3 times, 2 profiles, influence method) at n = 1e4, 1e5, 1e6 and
prints the growth per 10x n (linear in n expected: ~10x).

Usage: ``python benchmarks/coverage_finegray_predict.py [--reps 1000] [--n 200,1000]
[--censor 0.5,4] [--sizes 10000,100000,1000000] [--seed 1]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from drivervte.survival.finegray import FineGray

B1 = np.array([0.5, 0.3])
B2 = np.array([-0.3, 0.2])
P = 0.4
PROFILES = np.array([[0.0, 0.0], [1.0, 1.0]])
TIMES = np.array([0.25, 0.75, 1.5])


def true_cif(z: np.ndarray, t: np.ndarray) -> np.ndarray:
    r = np.exp(z @ B1)
    return 1 - (1 - P * (1 - np.exp(-t[:, None]))) ** r[None, :]


def simulate(n: int, rng: np.random.Generator, censor: tuple[float, float]):
    z = np.column_stack([rng.binomial(1, 0.4, n), rng.normal(size=n)])
    r1 = np.exp(z @ B1)
    f1inf = 1 - (1 - P) ** r1
    cause1 = rng.uniform(size=n) < f1inf
    u = rng.uniform(size=n)
    # invert F_1(t | z) / F_1(inf | z) = u
    t1 = -np.log1p(-(1 - (1 - u * f1inf) ** (1 / r1)) / P)
    t2 = rng.exponential(1 / np.exp(z @ B2))
    t = np.where(cause1, t1, t2)
    c = rng.uniform(*censor, n)
    status = np.where(t <= c, np.where(cause1, 1, 2), 0)
    return np.minimum(t, c), status, z


def coverage(n: int, reps: int, censor, seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = true_cif(PROFILES, TIMES)
    hits = {"influence": 0, "survfit": 0}
    ses = {"influence": [], "survfit": []}
    ests = []
    skipped = 0
    for _ in range(reps):
        t, s, z = simulate(n, rng, censor)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fg = FineGray().fit(time=t, status=s, X=z, covariates=["gene", "x"])
        if not fg.converged_:
            skipped += 1
            continue
        for m in hits:
            pr = fg.predict(PROFILES, TIMES, method=m)
            hits[m] += (pr.ci_lower <= truth) & (truth <= pr.ci_upper)
            ses[m].append(pr.se)
        ests.append(pr.estimate)
    used = reps - skipped
    sd = np.std(np.array(ests), axis=0, ddof=1)
    print(f"\nn = {n}, {used} replicates ({skipped} not converged), censoring U{censor}, "
          f"95% intervals")
    head = "  ".join(f"t={t:g},z{j}" for t in TIMES for j in range(PROFILES.shape[0]))
    print(f"{'':22s}{head}")
    print(f"{'true F1':22s}" + "  ".join(f"{v:9.4f}" for v in truth.ravel()))
    print(f"{'MC SD of estimate':22s}" + "  ".join(f"{v:9.4f}" for v in sd.ravel()))
    for m in hits:
        cov = hits[m] / used
        mse = np.mean(np.array(ses[m]), axis=0)
        print(f"{'coverage ' + m:22s}" + "  ".join(f"{v:9.3f}" for v in cov.ravel()))
        print(f"{'mean SE ' + m:22s}" + "  ".join(f"{v:9.4f}" for v in mse.ravel()))


def timing(sizes: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    print("\nFineGray.predict (influence, 3 times x 2 profiles) vs fit, wall seconds")
    prev = None
    for n in sizes:
        t, s, z = simulate(n, rng, (0.5, 4))
        z = np.column_stack([z, rng.normal(size=(n, 8))])  # p = 10
        t0 = time.perf_counter()
        fg = FineGray().fit(time=t, status=s, X=z, covariates=[f"x{i}" for i in range(10)])
        t1 = time.perf_counter()
        fg.predict(np.zeros((2, 10)), TIMES)
        t2 = time.perf_counter()
        grow = f"  x{(t2 - t1) / prev:.1f} per 10x n" if prev else ""
        print(f"n = {n:>9,d}: fit {t1 - t0:7.3f} s, predict {t2 - t1:7.3f} s{grow}")
        prev = t2 - t1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--n", default="200,1000")
    ap.add_argument("--censor", default="0.5,4")
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    censor = tuple(float(x) for x in a.censor.split(","))
    for n in (int(x) for x in a.n.split(",") if x):
        coverage(n, a.reps, censor, a.seed)
    timing([int(x) for x in a.sizes.split(",") if x], a.seed)


if __name__ == "__main__":
    main()
