"""The CONKO score: the Khorana score with BMI replaced by performance status >= 2.

Pelzer U et al., 2013: a retrospective analysis of the CONKO-004 trial cohort (advanced
pancreatic cancer on chemotherapy), published as an abstract (Ann Oncol 2013); the full
reference could not be verified here.

=============================================================  ======
item                                                            points
=============================================================  ======
site: very high risk (stomach, pancreas) 2, high risk 1         0-2
platelet count >= 350 x 10^9/L                                  1
haemoglobin < 10 g/dL or erythropoiesis-stimulating agents      1
leukocyte count > 11 x 10^9/L                                   1
WHO (ECOG) performance status >= 2                              1
=============================================================  ======

Sources checked (the paper could not be read): BMJ Open Respiratory Research, Table 1
("Khorana score with BMI >= 35 kg/m2 being replaced with ECOG PS >= 2", 1 point) and Cancers
2020;12:1958, Table 1 (the Khorana items with "WHO performance status >= 2" instead of BMI).
The two scales are the same 0-5 scale.

Risk groups: not shipped. The BMJ table gives high risk as >= 3, while a 2024 lung-cancer
validation abstract speaks of "the original 2-point threshold"; the conflict could not be
resolved. Published risk: none verified, none shipped.
"""

from __future__ import annotations

from drivervte.scores.khorana import KHORANA
from drivervte.scores.spec import Item, ScoreSpec

__all__ = ["CONKO", "RAW_ITEMS"]

RAW_ITEMS = ("site", "platelets", "hb", "esa", "leukocytes", "ecog")

CONKO = ScoreSpec(
    name="conko",
    title="CONKO score (Khorana with performance status instead of BMI)",
    citation="Pelzer U et al. 2013 (CONKO-004 cohort; Ann Oncol 2013 abstract)",
    items=(*(it for it in KHORANA.items if it.name != "bmi"),
           Item("ecog", "WHO/ECOG performance status >= 2: 1", None, lambda e: int(e >= 2),
                (0, 1))),
    groups=(),
    risks=(),
    guidance=("CONKO was derived in advanced pancreatic cancer (CONKO-004). ASCO and ISTH "
              "guidance is based on the Khorana score. Information, not advice."),
    notes=("CONKO: sources disagree on the high-risk cut-off (>= 3 or >= 2); no group and no "
           "published risk are given.",),
)
