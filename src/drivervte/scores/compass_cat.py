"""The COMPASS-CAT score (cancer-associated thrombosis in breast, colorectal, lung, ovarian cancer).

Gerotziafas GT et al. A predictive score for thrombosis associated with breast, colorectal,
lung, or ovarian cancer: the prospective COMPASS-Cancer-Associated Thrombosis study.
Oncologist 2017;22:1222, doi:10.1634/theoncologist.2016-0414.
Derived in outpatients with breast, colorectal, lung or ovarian cancer on anticancer
treatment (not on LMWH).

=====================================================================  ======
item                                                                    points
=====================================================================  ======
anti-hormonal therapy (hormone-receptor-positive breast cancer) or      6
anthracycline treatment
time since cancer diagnosis <= 6 months                                 4
central venous catheter                                                 3
advanced stage of cancer (locally advanced or metastatic)               2
cardiovascular risk factors: at least 2 of personal history of          5
peripheral artery disease, ischaemic stroke, coronary artery disease,
hypertension, hyperlipidaemia, diabetes, obesity
recent hospitalisation for acute medical illness                        5
personal history of VTE                                                 1
platelet count >= 350 x 10^9/L                                          2
=====================================================================  ======

Total 0-28. Risk groups: ``low/intermediate`` 0-6, ``high`` >= 7 (the paper's two groups,
lower-cased; it names no separate low group).

Sources checked (drivervte could not read the full paper): the item table in Supportive &
Palliative Care (BMJ) Table 4 "COMPASS-CAT: a risk assessment model for cancer-related VTE"
(all items and points except the CVC row, which it footnotes), and the Medical Algorithms
Company calculator page for Gerotziafas et al. (all 8 items with points, "locally advanced or
metastatic" for stage, ">= 350,000 per uL" for platelets, "a score >= 7 indicates a high
risk", range 0-28). A third table (BMJ Open Respiratory Research, Table 1) gives 2 points for
hospitalisation and lists anthracycline only; it disagrees with the two sources above, which
agree with each other, so their version is used.

Published risk: the derivation paper's per-group VTE rates could not be verified, so they
are not shipped. The risks reported are those of the external validation (Oncologist
2020;25(7):e1083-e1090, doi:10.1634/theoncologist.2019-0482; 3,814 patients, documented VTE
at 6 months): 2.27% low/intermediate, 6.31% high. Its abstract
gives no group sizes, so no interval is attached (``n`` is null). Sensitivity 95%,
specificity 12%, AUC 0.62 in that cohort: discrimination was modest.
"""

from __future__ import annotations

from typing import Any

from drivervte.scores.spec import Item, PublishedRisk, RiskGroup, ScoreSpec
from drivervte.scores.units import (
    STAGE_CHOICES,
    is_missing,
    parse_choice,
    parse_flag,
    parse_int,
    parse_quantity,
    parse_therapies,
)

__all__ = ["COMPASS_CAT", "RAW_ITEMS", "read_items"]

#: Raw inputs (``assess``/CLI/table names) the score reads.
RAW_ITEMS = ("chemo", "months_since_diagnosis", "cvc", "stage", "cv_risk_factors",
             "hospitalization", "prior_vte", "platelets")

_SPY = ("COMPASS-CAT external validation, Oncologist 2020;25:e1083 (n = 3,814), documented "
        "VTE at 6 months")

COMPASS_CAT = ScoreSpec(
    name="compass_cat",
    title="COMPASS-CAT score",
    citation="Gerotziafas GT et al. Oncologist 2017;22:1222. "
             "doi:10.1634/theoncologist.2016-0414",
    items=(
        Item("chemo", "Anti-hormonal therapy (HR+ breast cancer) or anthracycline: 6", None,
             lambda s: 6 * int(bool(set(s) & {"anthracycline", "antihormonal"})), (0, 6)),
        Item("months_since_diagnosis", "Time since cancer diagnosis <= 6 months: 4", "months",
             lambda m: 4 * int(m <= 6.0), (0, 4)),
        Item("cvc", "Central venous catheter: 3", None, lambda b: 3 * int(b), (0, 3)),
        Item("stage", "Advanced stage (locally advanced or metastatic): 2", None,
             lambda s: 2 * int(s in ("locally_advanced", "metastatic")), (0, 2)),
        Item("cv_risk_factors", ">= 2 cardiovascular risk factors: 5", "count",
             lambda n: 5 * int(n >= 2), (0, 5)),
        Item("hospitalization", "Recent hospitalisation for acute medical illness: 5", None,
             lambda b: 5 * int(b), (0, 5)),
        Item("prior_vte", "Personal history of VTE: 1", None, lambda b: int(b), (0, 1)),
        Item("platelets", "Platelet count >= 350 x10^9/L: 2", "10^9/L",
             lambda x: 2 * int(x >= 350.0), (0, 2)),
    ),
    groups=(RiskGroup("low/intermediate", 0, 6), RiskGroup("high", 7, 28)),
    risks=(
        PublishedRisk(0, 6, 0.0227, 6.0, None, f"{_SPY}, low/intermediate risk (0-6)"),
        PublishedRisk(7, None, 0.0631, 6.0, None, f"{_SPY}, high risk (>= 7)"),
    ),
    guidance=("COMPASS-CAT >= 7 marks high VTE risk in outpatients with breast, colorectal, "
              "lung or ovarian cancer on anticancer treatment. ASCO and ISTH guidance on "
              "primary thromboprophylaxis is based on the Khorana score, not COMPASS-CAT. "
              "Information, not advice."),
    notes=("Derived for breast, colorectal, lung and ovarian cancer only.",
           "The derivation paper's per-group VTE rates could not be verified; the risks shown "
           "are from the 2020 external validation, whose abstract gives no group sizes (no "
           "interval)."),
)


def read_items(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Item values from raw inputs (numbers with optional units, yes/no, categories)."""
    mo = raw.get("months_since_diagnosis")
    plt = raw.get("platelets")
    values = {
        "chemo": parse_therapies(raw.get("chemo"), "chemo"),
        "months_since_diagnosis": None if is_missing(mo)
        else parse_quantity(mo, "months_since_diagnosis"),
        "cvc": parse_flag(raw.get("cvc"), "cvc"),
        "stage": parse_choice(raw.get("stage"), "stage", STAGE_CHOICES),
        "cv_risk_factors": parse_int(raw.get("cv_risk_factors"), "cv_risk_factors", 0, 7),
        "hospitalization": parse_flag(raw.get("hospitalization"), "hospitalization"),
        "prior_vte": parse_flag(raw.get("prior_vte"), "prior_vte"),
        "platelets": None if is_missing(plt) else parse_quantity(plt, "platelets"),
    }
    return values, []
