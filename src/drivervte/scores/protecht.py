"""The PROTECHT score: the Khorana score plus gemcitabine and platinum-based chemotherapy.

Verso M, Agnelli G, Barni S, Gasparini G, LaBianca R. A modified Khorana risk assessment
score for venous thromboembolism in cancer patients receiving chemotherapy: the Protecht
score. Intern Emerg Med 2012;7:291. Built on the PROTECHT trial (nadroparin vs placebo in
ambulatory patients on chemotherapy; 769 nadroparin, 381 placebo).

=========================================================  ======
item                                                        points
=========================================================  ======
the five Khorana items (:mod:`drivervte.scores.khorana`)    0-6
gemcitabine chemotherapy                                    1
platinum-based chemotherapy                                 1
=========================================================  ======

Total 0-8. Sources checked (the letter itself could not be read): BMJ Open Respiratory
Research, Table 1 "Comparison of performance among authoritative cancer-associated VTE RAMs"
(Khorana score; gemcitabine chemotherapy 1; platinum-based chemotherapy 1; high risk score
>= 3) and Cancers 2020;12:1958, Table 1 (KS plus use of platinum-based therapy and use of
gemcitabine). A review table (PMC8318782) names the platinum agents cisplatin and
carboplatin. Whether oxaliplatin counts is not stated in what could be checked, so
``oxaliplatin`` alone leaves the platinum item undetermined (its 0-1 range is reported).

Risk groups: only ``high`` (>= 3) is verified; totals 0-2 get no group (Khorana's low 0 /
intermediate 1-2 convention is not assumed). Published risk: none verified, none shipped.
"""

from __future__ import annotations

from typing import Any

from drivervte.scores.khorana import KHORANA
from drivervte.scores.spec import Item, RiskGroup, ScoreSpec
from drivervte.scores.units import parse_therapies

__all__ = ["PROTECHT", "RAW_ITEMS", "read_items"]

RAW_ITEMS = ("site", "platelets", "hb", "esa", "leukocytes", "bmi", "chemo")

PROTECHT = ScoreSpec(
    name="protecht",
    title="PROTECHT score (Khorana + gemcitabine + platinum)",
    citation="Verso M et al. Intern Emerg Med 2012;7:291",
    items=(*KHORANA.items,
           Item("gemcitabine", "Gemcitabine chemotherapy: 1", None, lambda b: int(b), (0, 1)),
           Item("platinum", "Platinum-based chemotherapy (cisplatin, carboplatin): 1", None,
                lambda b: int(b), (0, 1))),
    groups=(RiskGroup("high", 3, 8),),
    risks=(),
    guidance=("PROTECHT adds the chemotherapy regimen to the Khorana score; a score >= 3 marks "
              "high risk. ASCO and ISTH guidance is based on the Khorana score. Information, "
              "not advice."),
    notes=("PROTECHT: only the high-risk group (>= 3) could be verified; no group is given "
           "for 0-2 and no published risk is shipped.",),
)


def read_items(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The gemcitabine and platinum items from ``chemo`` (the Khorana items come separately)."""
    chemo = parse_therapies(raw.get("chemo"), "chemo")
    if chemo is None:
        return {"gemcitabine": None, "platinum": None}, []
    notes: list[str] = []
    platinum: bool | None = bool({"cisplatin", "carboplatin", "platinum"} & set(chemo))
    if not platinum and "oxaliplatin" in chemo:
        platinum = None
        notes.append("oxaliplatin: whether PROTECHT counts it as platinum-based could not be "
                     "verified; the platinum item is left undetermined")
    return {"gemcitabine": "gemcitabine" in chemo, "platinum": platinum}, notes
