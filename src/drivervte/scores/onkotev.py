"""The ONKOTEV score (VTE in ambulatory patients with solid tumours on active treatment).

Cella CA et al. (the ONKOTEV study). Oncologist 2017;22:601-608. Validated prospectively in
ONKOTEV-2: Cella CA, Knoedler M, Hall M, et al. JAMA Netw Open 2023;6(2):e230010,
doi:10.1001/jamanetworkopen.2023.0010.

=================================================================  ======
item                                                                points
=================================================================  ======
Khorana score > 2 (i.e. >= 3)                                       1
metastatic disease                                                  1
compression of vascular or lymphatic structures by the tumour       1
previous VTE                                                        1
=================================================================  ======

Total 0-4 (the papers report the levels 0, 1, 2 and > 2). Both abstracts (derivation and
ONKOTEV-2) list these four variables; ONKOTEV-2 assigns 1 point to each. The Khorana item
is computed from the Khorana inputs (site, platelets, haemoglobin/ESA, leukocytes, BMI, see
:mod:`drivervte.scores.khorana`); when some are missing but the possible Khorana totals all
lie on one side of 2, the item is still determined.

Risk groups: the abstracts name none, so none are assigned (``group`` is null).

Published risk: ONKOTEV-2 (n = 425, follow-up up to 24 months), the number of patients with
VTE among those with each score, as reported in a summary of the paper (inquisitiveonc.com
newsreel "ONKOTEV Risk Prediction Score for VTE in Cancer Patients"): 4/116 (3.4%) score 0,
26/234 (11.1%) score 1, 21/64 (32.8%) score 2, 3/11 (27.3%) score > 2. These are crude
proportions over the whole follow-up (median follow-up not used), not cumulative incidences
at a fixed time; ``horizon_months`` is 24, the follow-up limit. The 6-month cumulative
incidences of the JAMA Netw Open abstract could not be read and are not shipped.
"""

from __future__ import annotations

from typing import Any

from drivervte.scores.spec import Evaluation, Item, PublishedRisk, ScoreSpec
from drivervte.scores.units import STAGE_CHOICES, parse_choice, parse_flag

__all__ = ["ONKOTEV", "RAW_ITEMS", "read_items"]

#: Raw inputs: the Khorana ones plus stage, vascular compression and prior VTE.
RAW_ITEMS = ("site", "platelets", "hb", "esa", "leukocytes", "bmi", "stage",
             "vascular_compression", "prior_vte")

_SRC = ("Cella et al., JAMA Netw Open 2023;6:e230010 (ONKOTEV-2, n = 425), patients with VTE "
        "during follow-up up to 24 months (crude proportion, as summarised by inquisitiveonc.com)")

ONKOTEV = ScoreSpec(
    name="onkotev",
    title="ONKOTEV score",
    citation="Cella CA et al. Oncologist 2017;22:601-608; validation: Cella CA et al. JAMA Netw "
             "Open 2023;6(2):e230010. doi:10.1001/jamanetworkopen.2023.0010",
    items=(
        Item("khorana_gt2", "Khorana score > 2: 1", None,
             lambda v: int(v["range"][0] > 2), (0, 1)),
        Item("metastatic", "Metastatic disease: 1", None,
             lambda s: int(s == "metastatic"), (0, 1)),
        Item("vascular_compression", "Vascular/lymphatic compression by tumour: 1", None,
             lambda b: int(b), (0, 1)),
        Item("prior_vte", "Previous VTE: 1", None, lambda b: int(b), (0, 1)),
    ),
    groups=(),
    risks=(
        PublishedRisk(0, 0, 4 / 116, 24.0, 116, f"{_SRC}, score 0: 4/116"),
        PublishedRisk(1, 1, 26 / 234, 24.0, 234, f"{_SRC}, score 1: 26/234"),
        PublishedRisk(2, 2, 21 / 64, 24.0, 64, f"{_SRC}, score 2: 21/64"),
        PublishedRisk(3, None, 3 / 11, 24.0, 11, f"{_SRC}, score > 2: 3/11"),
    ),
    guidance=("ONKOTEV was derived and validated in ambulatory patients with solid tumours on "
              "active treatment; guideline recommendations on primary thromboprophylaxis use "
              "the Khorana score, not ONKOTEV. Information, not advice."),
    notes=("ONKOTEV names no risk groups; the risks are crude proportions of patients with "
           "VTE over up to 24 months of follow-up in ONKOTEV-2, not fixed-horizon "
           "cumulative incidences.",),
)


def read_items(raw: dict[str, Any], khorana: Evaluation) -> tuple[dict[str, Any], list[str]]:
    """Item values from raw inputs and the patient's Khorana evaluation."""
    lo, hi = khorana.points_range
    notes: list[str] = []
    if lo > 2 or hi <= 2:
        kh: dict[str, Any] | None = {"khorana_points": khorana.points, "range": [lo, hi]}
        if khorana.points is None:
            notes.append(f"Khorana items missing ({', '.join(khorana.missing)}), but every "
                         f"possible Khorana total ({lo}-{hi}) is {'> 2' if lo > 2 else '<= 2'}")
    else:
        kh = None
    stage = parse_choice(raw.get("stage"), "stage", STAGE_CHOICES)
    values = {
        "khorana_gt2": kh,
        "metastatic": stage,
        "vascular_compression": parse_flag(raw.get("vascular_compression"),
                                           "vascular_compression"),
        "prior_vte": parse_flag(raw.get("prior_vte"), "prior_vte"),
    }
    return values, notes
