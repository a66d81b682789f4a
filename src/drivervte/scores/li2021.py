"""The NSCLC VTE score of Li et al. (2021), the only published score with a driver gene.

Li J, Yi J, Hua L, et al. Development and validation of a predictive score for venous
thromboembolism in newly diagnosed non-small cell lung cancer. Thromb Res
2021;208:45-51, doi:10.1016/j.thromres.2021.10.013. Prospective cohort of newly diagnosed
NSCLC (development n = 602, 2013-2017; validation n = 412, 2018-2019); outcome VTE within 6
months of diagnosis.

========================================================  ======
item                                                       points
========================================================  ======
ECOG performance status >= 2                               1
EGFR mutation                                              -1
neutrophil count >= 7.5 x 10^9/L                           2
haemoglobin < 115 g/L                                      1
CEA >= 5.0 ng/mL                                           2
D-dimer >= 1400 ng/mL                                      4
========================================================  ======

Total -1 to 10. Items, thresholds and points are as given in the abstract (checked against
three bibliographic copies of it; two give ECOG ">= 2", one ">2" while writing ">=" for the
other items; ">= 2", the reading of the two agreeing copies, is used). Cross-validated concordance 0.779 (development) and 0.853
(validation); AUC 0.756 and 0.821.

Not shipped, because the abstract does not give them and the full text could not be read:
the cut-off(s) defining the risk groups and the 6-month cumulative VTE incidence per group.
``group`` and ``risk`` are therefore null. The abstract does not say whether D-dimer is in
FEU or DDU; drivervte reads D-dimer in FEU (see :mod:`drivervte.scores.units`) and compares
it with 1400 ng/mL (1.4 ug/mL) as written.
"""

from __future__ import annotations

from typing import Any

from drivervte.scores.spec import Item, ScoreSpec
from drivervte.scores.units import is_missing, parse_flag, parse_int, parse_quantity

__all__ = ["LI2021", "RAW_ITEMS", "read_items"]

RAW_ITEMS = ("ecog", "egfr_mutation", "neutrophils", "hb", "cea", "ddimer")


def _r(x: float) -> float:
    """Round away binary noise from exact unit factors (98 g/L -> 9.8 g/dL) before a cut-off."""
    return round(x, 9)


LI2021 = ScoreSpec(
    name="li2021",
    title="Li 2021 NSCLC VTE score",
    citation="Li J et al. Thromb Res 2021;208:45-51. doi:10.1016/j.thromres.2021.10.013",
    items=(
        Item("ecog", "ECOG performance status >= 2: 1", None, lambda e: int(e >= 2), (0, 1)),
        Item("egfr_mutation", "EGFR mutation: -1", None, lambda b: -int(b), (-1, 0)),
        Item("neutrophils", "Neutrophil count >= 7.5 x10^9/L: 2", "10^9/L",
             lambda x: 2 * int(_r(x) >= 7.5), (0, 2)),
        Item("hb", "Haemoglobin < 115 g/L (11.5 g/dL): 1", "g/dL",
             lambda x: int(_r(x * 10.0) < 115.0), (0, 1)),
        Item("cea", "CEA >= 5.0 ng/mL: 2", "ng/mL", lambda x: 2 * int(_r(x) >= 5.0), (0, 2)),
        Item("ddimer", "D-dimer >= 1400 ng/mL (1.4 ug/mL): 4", "ug/mL FEU",
             lambda x: 4 * int(_r(x * 1000.0) >= 1400.0), (0, 4)),
    ),
    groups=(),
    risks=(),
    guidance=("Derived in Chinese patients with newly diagnosed NSCLC; no external validation "
              "outside the authors' centre is known to drivervte. Information, not advice."),
    notes=("Li 2021's risk-group cut-offs and per-group 6-month VTE incidences could not be "
           "verified: no group and no published risk are given.",
           "EGFR mutation is an item of this score: a further EGFR gene adjustment (gene='EGFR') "
           "would count it twice."),
)


def read_items(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Item values from raw inputs (numbers with optional units, yes/no, ECOG 0-4)."""
    def q(key: str) -> float | None:
        v = raw.get(key)
        return None if is_missing(v) else parse_quantity(v, key)

    values = {
        "ecog": parse_int(raw.get("ecog"), "ecog", 0, 4),
        "egfr_mutation": parse_flag(raw.get("egfr_mutation"), "egfr_mutation"),
        "neutrophils": q("neutrophils"),
        "hb": q("hb"),
        "cea": q("cea"),
        "ddimer": q("ddimer"),
    }
    return values, []
