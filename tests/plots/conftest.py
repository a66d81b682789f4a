"""Test data for the plots: MetaResult objects built directly (DerSimonian-Laird numbers).

The plots only read a fitted result's fields, so the tests build results here instead of
depending on the model code; the values are internally consistent (DL estimate, CI, PI, Q,
I², percent weights) so the figures look like real ones.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from drivervte.meta.result import MetaResult


def make_result(yi, vi, *, study=None, measure="OR", method="DL", level=95.0, ni=None,
                **overrides) -> MetaResult:
    yi = np.asarray(yi, float)
    vi = np.asarray(vi, float)
    k = yi.size
    w = 1 / vi
    mu_fe = np.sum(w * yi) / np.sum(w)
    q = float(np.sum(w * (yi - mu_fe) ** 2))
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    re = method not in ("EE", "FE", "MH", "PETO")
    tau2 = max(0.0, (q - (k - 1)) / c) if (re and k > 1) else 0.0
    ws = 1 / (vi + tau2)
    mu = float(np.sum(ws * yi) / np.sum(ws))
    se = float(np.sqrt(1 / np.sum(ws)))
    z = stats.norm.ppf(0.5 + level / 200)
    zval = mu / se
    pi_se = np.sqrt(se**2 + tau2)
    i2 = max(0.0, 100 * (q - (k - 1)) / q) if k > 1 and q > 0 else 0.0
    fields = dict(
        k=k, measure=measure, method=method, test="z", level=level, estimate=mu, se=se,
        statistic=zval, pvalue=float(2 * stats.norm.sf(abs(zval))),
        ci_lower=mu - z * se, ci_upper=mu + z * se,
        pi_lower=mu - z * pi_se, pi_upper=mu + z * pi_se, tau2=tau2, Q=q, Q_df=k - 1,
        Q_pvalue=float(stats.chi2.sf(q, k - 1)) if k > 1 else 1.0, I2=i2,
        H2=q / (k - 1) if k > 1 and q > 0 else 1.0,
        study=list(study) if study is not None else [f"Study {i + 1}" for i in range(k)],
        yi=yi, vi=vi, weights=100 * ws / ws.sum(),
        ni=None if ni is None else np.asarray(ni, float),
    )
    fields.update(overrides)
    return MetaResult(**fields)


# Log odds ratios of VTE, mutation-positive vs negative, in the spirit of the seed studies.
VTE_STUDIES = ["Corrales-Rodriguez 2015", "Wang 2019", "Dou 2018", "Sen Yang 2020",
               "Ng 2019", "Al-Samkari 2020", "Icht 2023"]
VTE_YI = np.log([2.67, 3.06, 0.62, 4.9, 2.36, 1.86, 1.95])
VTE_VI = np.array([0.195, 0.14, 0.09, 0.26, 0.07, 0.022, 0.033])


@pytest.fixture
def vte_result() -> MetaResult:
    return make_result(VTE_YI, VTE_VI, study=VTE_STUDIES, I2_ci_lower=12.0,
                       I2_ci_upper=81.0)


@pytest.fixture
def make():
    return make_result
