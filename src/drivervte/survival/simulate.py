"""Synthetic NSCLC cohorts with driver genes, VTE and death as competing risks.

For tests, demos and benchmarks: **not** for inference about real patients. Every number
below is either from the seed figures of this project (``studies.md``, "Baseline figures")
or a stated, round assumption chosen to look like published NSCLC cohorts.

Model
-----
Per patient: driver gene (mutually exclusive, prevalence by setting), then smoking, sex,
age and histology conditional on the gene, stage, and the Khorana laboratory/BMI items.
Two latent event times, independent given the covariates, so the **cause-specific
hazards** are exactly:

- VTE: Weibull, h(t) = k lam^k t^(k-1) exp(eta_vte), shape k = 0.8 (risk highest soon after
  diagnosis), eta_vte = log-hazard ratios in :data:`VTE_LOG_HR` applied to the patient.
- Death (before VTE): exponential, rate by stage (:data:`DEATH_RATE_PER_MONTH`) times the
  hazard ratios in :data:`DEATH_HR`.

Observed time = min(VTE, death, administrative censoring, loss to follow-up), in months
(days / (365.25/12)), rounded up to whole days by default so that ties occur as with real
dates. Status: 0 censored, 1 VTE, 2 death without VTE. With ``left_truncation=True``
patients enter the cohort a uniform 0-6 months after diagnosis (``entry``); those whose
observed time is not after entry are never seen, and draws continue until ``n`` are.

Parameters and sources
----------------------
=============================  ====================  ====================  =================================
parameter                      east_asian            western               source
=============================  ====================  ====================  =================================
EGFR prevalence                0.38                  0.14                  studies.md (China ~38%; Europe ~14%)
KRAS prevalence                0.11                  0.26                  studies.md (8-15% vs 20-33%)
ALK prevalence                 0.05                  0.04                  studies.md (3-6%)
ROS1 prevalence                0.02                  0.015                 studies.md (1-3%)
VTE HR ALK / ROS1              2.5 / 2.0             same                  brief (literature: ALK ~2.5, ROS1 ~2)
VTE HR EGFR / KRAS             0.7 / 1.3             same                  brief (literature)
VTE HR stage IV / III vs I-II  4.0 / 1.5             same                  Chew 2008 (metastatic HR ~4); III assumed
VTE HR Khorana lab items       1.5 each, BMI 1.3     same                  assumption (Khorana 2008 ORs ~1.5-2.5)
VTE Weibull lam, k             0.0009 /month, 0.8    0.0012 /month, 0.8    calibrated: ~3% (EA) / ~4% (W) at 1 y
                                                                           in stage I-II non-driver; at 6 mo
                                                                           stage IV ~6-7% non-driver, ~15-19%
                                                                           ALK (Chew 2008 3%/y; Dou 2021
                                                                           12.2% metastatic at 6 mo)
death rate /month I/II/III/IV  .005/.01/.025/.06     same                  assumption (median OS stage IV ~1 y)
death HR EGFR/ALK/ROS1 (TKI)   0.5                   same                  assumption
death HR KRAS; per 10 y age    1.1; 1.2              same                  assumption
stage I/II/III/IV              .20/.10/.20/.50       same                  assumption (about half metastatic)
never-smoker by gene           EGFR .6 ALK .65       EGFR .5 ALK .6        assumption (drivers enriched in
                               ROS1 .65 KRAS .1      ROS1 .6 KRAS .05      never-smokers)
                               none .2               none .1
female by gene                 EGFR .6 ALK/ROS1 .55  same                  assumption
                               KRAS .4 none .3
age (years)                    N(64, 10)             N(67, 10)             assumption; ALK/ROS1 7 y younger
BMI (kg/m2)                    N(23, 3.5)            N(26.5, 5)            assumption
platelets (10^9/L)             lognormal, median 270, sd(log) 0.3          assumption (~20% >= 350)
haemoglobin (g/dL)             N(12.8, 1.6)                                assumption (~5% < 10)
leukocytes (10^9/L)            lognormal, median 7.5, sd(log) 0.3          assumption (~10% > 11)
censoring                      accrual 36 mo, then 24 mo follow-up; loss to follow-up 0.005 /month
=============================  ====================  ====================  =================================

Columns of the returned DataFrame
---------------------------------
``id`` (1..n), ``age`` (int years), ``sex`` (F/M), ``smoking`` (never/former/current),
``histology`` (adenocarcinoma/squamous/other), ``stage`` (I/II/III/IV), ``gene``
(EGFR/ALK/ROS1/KRAS/none), ``egfr`` ``alk`` ``ros1`` ``kras`` (0/1 flags), ``platelets``,
``hemoglobin``, ``leukocytes``, ``bmi``, ``entry`` (only with left truncation), ``time``
(months), ``status`` (0/1/2). Categorical columns are pandas ``category`` dtype.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from drivervte.errors import InputError

__all__ = [
    "DEATH_HR",
    "DEATH_RATE_PER_MONTH",
    "GENES",
    "PREVALENCE",
    "VTE_LOG_HR",
    "simulate_cohort",
]

DAYS_PER_MONTH = 365.25 / 12
GENES = ("EGFR", "ALK", "ROS1", "KRAS", "none")
STAGES = ("I", "II", "III", "IV")

#: Driver-gene prevalence among all NSCLC, mutually exclusive (studies.md, Baseline figures).
PREVALENCE = {
    "east_asian": {"EGFR": 0.38, "ALK": 0.05, "ROS1": 0.02, "KRAS": 0.11},
    "western": {"EGFR": 0.14, "ALK": 0.04, "ROS1": 0.015, "KRAS": 0.26},
}
#: Log cause-specific hazard ratios for VTE.
VTE_LOG_HR = {
    "ALK": np.log(2.5),
    "ROS1": np.log(2.0),
    "EGFR": np.log(0.7),
    "KRAS": np.log(1.3),
    "stage_III": np.log(1.5),
    "stage_IV": np.log(4.0),
    "platelets_ge_350": np.log(1.5),
    "hemoglobin_lt_10": np.log(1.5),
    "leukocytes_gt_11": np.log(1.5),
    "bmi_ge_35": np.log(1.3),
}
VTE_WEIBULL = {"east_asian": (0.0009, 0.8), "western": (0.0012, 0.8)}  # (lam /month, shape)
#: Death (before VTE) hazard per month by stage.
DEATH_RATE_PER_MONTH = {"I": 0.005, "II": 0.01, "III": 0.025, "IV": 0.06}
#: Hazard ratios for death: targeted therapy for EGFR/ALK/ROS1, KRAS, per 10 years of age.
DEATH_HR = {"EGFR": 0.5, "ALK": 0.5, "ROS1": 0.5, "KRAS": 1.1, "age_per_10y": 1.2}
STAGE_P = (0.20, 0.10, 0.20, 0.50)
NEVER_SMOKER = {
    "east_asian": {"EGFR": 0.6, "ALK": 0.65, "ROS1": 0.65, "KRAS": 0.1, "none": 0.2},
    "western": {"EGFR": 0.5, "ALK": 0.6, "ROS1": 0.6, "KRAS": 0.05, "none": 0.1},
}
FEMALE = {"EGFR": 0.6, "ALK": 0.55, "ROS1": 0.55, "KRAS": 0.4, "none": 0.3}
AGE_MEAN = {"east_asian": 64.0, "western": 67.0}
BMI = {"east_asian": (23.0, 3.5), "western": (26.5, 5.0)}
ACCRUAL_MONTHS, FOLLOWUP_MONTHS, LOSS_RATE = 36.0, 24.0, 0.005


def _draw(rng: np.random.Generator, n: int, setting: str) -> pd.DataFrame:
    prev = PREVALENCE[setting]
    p_gene = np.array([prev[g] for g in GENES[:-1]] + [1 - sum(prev.values())])
    gene = rng.choice(len(GENES), size=n, p=p_gene)
    never_p = np.array([NEVER_SMOKER[setting][g] for g in GENES])[gene]
    u = rng.random(n)
    smoking = np.where(u < never_p, 0, np.where(u < never_p + (1 - never_p) * 0.6, 1, 2))
    female = rng.random(n) < np.array([FEMALE[g] for g in GENES])[gene]
    young = np.isin(gene, [1, 2])  # ALK, ROS1
    age = np.clip(np.rint(rng.normal(AGE_MEAN[setting], 10.0, n) - 7.0 * young), 25, 95)
    driver = gene < 4
    u = rng.random(n)
    adeno_p = np.where(driver, 0.95, 0.5)
    histology = np.where(u < adeno_p, 0, np.where(u < adeno_p + (1 - adeno_p) * 0.7, 1, 2))
    stage = rng.choice(4, size=n, p=STAGE_P)
    platelets = np.round(270.0 * np.exp(rng.normal(0.0, 0.3, n)))
    hemoglobin = np.round(rng.normal(12.8, 1.6, n), 1)
    leukocytes = np.round(7.5 * np.exp(rng.normal(0.0, 0.3, n)), 1)
    bmi = np.round(rng.normal(*BMI[setting], n), 1)

    eta = np.zeros(n)
    for gi, g in enumerate(GENES[:-1]):
        eta += VTE_LOG_HR[g] * (gene == gi)
    eta += VTE_LOG_HR["stage_III"] * (stage == 2) + VTE_LOG_HR["stage_IV"] * (stage == 3)
    eta += VTE_LOG_HR["platelets_ge_350"] * (platelets >= 350)
    eta += VTE_LOG_HR["hemoglobin_lt_10"] * (hemoglobin < 10)
    eta += VTE_LOG_HR["leukocytes_gt_11"] * (leukocytes > 11)
    eta += VTE_LOG_HR["bmi_ge_35"] * (bmi >= 35)
    lam, shape = VTE_WEIBULL[setting]
    # H(t) = (lam t)^k exp(eta)  =>  T = (E exp(-eta))^(1/k) / lam, E ~ Exp(1)
    t_vte = (rng.standard_exponential(n) * np.exp(-eta)) ** (1.0 / shape) / lam
    rate = np.array([DEATH_RATE_PER_MONTH[s] for s in STAGES])[stage]
    rate = rate * np.array([DEATH_HR.get(g, 1.0) for g in GENES])[gene]
    rate = rate * DEATH_HR["age_per_10y"] ** ((age - 65.0) / 10.0)
    t_death = rng.standard_exponential(n) / rate
    admin = FOLLOWUP_MONTHS + ACCRUAL_MONTHS * rng.random(n)
    loss = rng.standard_exponential(n) / LOSS_RATE
    cens = np.minimum(admin, loss)
    time = np.minimum(np.minimum(t_vte, t_death), cens)
    status = np.where(time == t_vte, 1, np.where(time == t_death, 2, 0))

    def cat(codes: np.ndarray, labels: tuple[str, ...]) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=list(labels))

    return pd.DataFrame(
        {
            "age": age.astype(np.int64),
            "sex": cat(female.astype(np.int64) ^ 1, ("F", "M")),
            "smoking": cat(smoking, ("never", "former", "current")),
            "histology": cat(histology, ("adenocarcinoma", "squamous", "other")),
            "stage": cat(stage, STAGES),
            "gene": cat(gene, GENES),
            "egfr": (gene == 0).astype(np.int64),
            "alk": (gene == 1).astype(np.int64),
            "ros1": (gene == 2).astype(np.int64),
            "kras": (gene == 3).astype(np.int64),
            "platelets": platelets,
            "hemoglobin": hemoglobin,
            "leukocytes": leukocytes,
            "bmi": bmi,
            "time": time,
            "status": status.astype(np.int64),
        }
    )


def simulate_cohort(
    n: int,
    seed: int,
    setting: Literal["east_asian", "western"] = "east_asian",
    *,
    left_truncation: bool = False,
    round_to_days: bool = True,
) -> pd.DataFrame:
    """Simulate a synthetic NSCLC cohort (see the module docstring for model and sources).

    Parameters
    ----------
    n: number of patients (rows) returned.
    seed: seed of the NumPy ``Generator``; the same (n, seed, options) give the same table.
    setting: ``"east_asian"`` or ``"western"`` (driver prevalence, smoking, age, BMI).
    left_truncation: add ``entry`` (delayed entry, uniform 0-6 months) and keep only patients
        still under observation at entry.
    round_to_days: round times up to whole days (ties as with real dates).

    Returns
    -------
    pandas.DataFrame with the columns listed in the module docstring. Vectorised: n = 1e6
    takes about a second.
    """
    if setting not in PREVALENCE:
        raise InputError(f"setting must be one of {sorted(PREVALENCE)}", column="setting")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError("n must be a positive integer", column="n")
    n = int(n)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"the seed must be a whole number >= 0, got {seed!r}", column="seed")
    rng = np.random.default_rng(seed)
    parts = []
    have = 0
    while have < n:
        need = n - have
        df = _draw(rng, need if not left_truncation else int(need * 1.3) + 16, setting)
        if round_to_days:
            df["time"] = np.ceil(df["time"].to_numpy() * DAYS_PER_MONTH) / DAYS_PER_MONTH
        if left_truncation:
            entry = np.floor(rng.random(len(df)) * 6.0 * DAYS_PER_MONTH) / DAYS_PER_MONTH
            df.insert(len(df.columns) - 2, "entry", entry)
            df = df.loc[df["time"].to_numpy() > entry]
        parts.append(df.iloc[:need])
        have += min(need, len(df))
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    out = out.reset_index(drop=True)
    out.insert(0, "id", np.arange(1, n + 1, dtype=np.int64))
    return out
