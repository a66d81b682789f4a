"""The Khorana score and the Vienna CATS score, exactly as published.

Khorana score (Khorana AA, Kuderer NM, Culakova E, Lyman GH, Francis CW. Development and
validation of a predictive model for chemotherapy-associated thrombosis. Blood
2008;111(10):4902-4907, doi:10.1182/blood-2007-10-116327):

=============================================================  ======
item                                                            points
=============================================================  ======
site: very high risk (stomach, pancreas)                        2
site: high risk (lung, lymphoma, gynaecologic, bladder,         1
testicular)
pre-chemotherapy platelet count >= 350 x 10^9/L                 1
haemoglobin < 10 g/dL (100 g/L) or use of erythropoiesis-       1
stimulating agents
pre-chemotherapy leukocyte count > 11 x 10^9/L                  1
body mass index >= 35 kg/m²                                     1
=============================================================  ======

Risk groups: low 0, intermediate 1-2, high >= 3. Observed VTE rates over a median of 2.5
months: derivation 0.8% / 1.8% / 7.1%, validation 0.3% / 2% / 6.7%.

Vienna CATS score (Ay C, Dunkler D, Marosi C, et al. Prediction of venous thromboembolism in
cancer patients. Blood 2010;116(24):5377-5382, doi:10.1182/blood-2010-02-270116): the Khorana
items plus D-dimer >= 1.44 µg/mL (1 point) and soluble P-selectin >= 53.1 ng/mL (1 point);
primary brain tumours count as a very high risk site. 6-month cumulative VTE probability in
the Vienna cohort by the original Khorana score: 1.5% (0, n = 276), 3.8% (1, n = 229), 9.6%
(2, n = 221), 17.7% (>= 3, n = 93); by the expanded score: 1.0% (0, n = 200), 10.3% (3,
n = 130), 35.0% (>= 5, n = 30). The abstract gives no figures for expanded scores 1, 2 and
4, and Ay 2010 names no risk groups for the expanded score: drivervte reports no risk and no
group there rather than inventing them.

Guidance (information, not advice): ASCO 2019 (reaffirmed 2023) and ISTH 2019 suggest that
thromboprophylaxis (apixaban, rivaroxaban or LMWH) may be offered to ambulatory patients
starting systemic therapy with a Khorana score >= 2, in the absence of contraindications and
after discussing bleeding risk. In lung cancer the Khorana score discriminates poorly
(AUCs around 0.5-0.6 in several NSCLC cohorts).
"""

from __future__ import annotations

from typing import Any

from drivervte.errors import InputError
from drivervte.scores.spec import Item, PublishedRisk, RiskGroup, ScoreSpec

__all__ = ["KHORANA", "SITE_CATEGORIES", "VIENNA_CATS", "site_category"]

#: Khorana 2008 site categories (points); synonyms map to the same category.
SITE_CATEGORIES: dict[str, str] = {
    "stomach": "very_high", "gastric": "very_high", "pancreas": "very_high",
    "pancreatic": "very_high",
    "lung": "high", "nsclc": "high", "sclc": "high", "lymphoma": "high",
    "gynaecologic": "high", "gynecologic": "high", "ovary": "high", "ovarian": "high",
    "uterus": "high", "endometrial": "high", "cervix": "high", "cervical": "high",
    "bladder": "high", "testicular": "high", "testis": "high",
    "breast": "other", "colorectal": "other", "colon": "other", "rectum": "other",
    "prostate": "other", "head_and_neck": "other", "kidney": "other", "renal": "other",
    "oesophagus": "other", "esophagus": "other", "liver": "other", "melanoma": "other",
    "sarcoma": "other", "other": "other",
}
_SITE_POINTS = {"very_high": 2, "high": 1, "other": 0}
#: Ay 2010 counts primary brain tumours as very high risk in the Vienna CATS score.
_VIENNA_EXTRA = {"brain": "very_high", "glioma": "very_high"}


def site_category(site: str, *, vienna: bool = False) -> str:
    """The Khorana site category of ``site`` (``very_high``, ``high`` or ``other``)."""
    key = str(site).strip().lower().replace(" ", "_").replace("-", "_")
    table = {**SITE_CATEGORIES, **(_VIENNA_EXTRA if vienna else {})}
    if key not in table:
        raise InputError(f"unknown site '{site}'; accepted: {', '.join(sorted(table))}",
                         column="site")
    return table[key]


def _hb_or_esa(v: dict[str, Any]) -> int:
    hb, esa = v.get("hb"), v.get("esa")
    return int(bool(esa) or (hb is not None and hb < 10.0))


def _items(vienna: bool) -> tuple[Item, ...]:
    base = (
        Item("site", "Site of cancer: very high risk 2, high risk 1", None,
             lambda s: _SITE_POINTS[site_category(s, vienna=vienna)], (0, 1, 2)),
        Item("platelets", "Pre-chemotherapy platelet count >= 350 x10^9/L", "10^9/L",
             lambda x: int(x >= 350.0), (0, 1)),
        Item("hb_or_esa", "Haemoglobin < 10 g/dL or use of erythropoiesis-stimulating agents",
             "g/dL", _hb_or_esa, (0, 1)),
        Item("leukocytes", "Pre-chemotherapy leukocyte count > 11 x10^9/L", "10^9/L",
             lambda x: int(x > 11.0), (0, 1)),
        Item("bmi", "Body mass index >= 35 kg/m2", "kg/m2", lambda x: int(x >= 35.0), (0, 1)),
    )
    if not vienna:
        return base
    return (*base,
            Item("ddimer", "D-dimer >= 1.44 ug/mL", "ug/mL FEU", lambda x: int(x >= 1.44),
                 (0, 1)),
            Item("sp_selectin", "Soluble P-selectin >= 53.1 ng/mL", "ng/mL",
                 lambda x: int(x >= 53.1), (0, 1)))


_GUIDANCE = ("ASCO 2019 (reaffirmed 2023) and ISTH 2019: thromboprophylaxis (apixaban, "
             "rivaroxaban or LMWH) may be offered to ambulatory patients starting systemic "
             "therapy with a Khorana score >= 2 and no contraindication, after discussing "
             "bleeding risk. In lung cancer the Khorana score discriminates poorly (AUC about "
             "0.5-0.6 in NSCLC cohorts). Information, not advice.")

_AY = "Ay et al., Blood 2010;116:5377 (Vienna CATS), 6-month cumulative VTE probability"

KHORANA = ScoreSpec(
    name="khorana",
    title="Khorana score",
    citation="Khorana AA et al. Blood 2008;111(10):4902-4907. doi:10.1182/blood-2007-10-116327",
    items=_items(vienna=False),
    groups=(RiskGroup("low", 0, 0), RiskGroup("intermediate", 1, 2), RiskGroup("high", 3, 6)),
    risks=(
        PublishedRisk(0, 0, 0.015, 6.0, 276, f"{_AY}, Khorana score 0 (n = 276)"),
        PublishedRisk(1, 1, 0.038, 6.0, 229, f"{_AY}, Khorana score 1 (n = 229)"),
        PublishedRisk(2, 2, 0.096, 6.0, 221, f"{_AY}, Khorana score 2 (n = 221)"),
        PublishedRisk(3, None, 0.177, 6.0, 93, f"{_AY}, Khorana score >= 3 (n = 93)"),
    ),
    guidance=_GUIDANCE,
    notes=("Khorana 2008 reported VTE rates over a median of 2.5 months: derivation 0.8% / "
           "1.8% / 7.1%, validation 0.3% / 2% / 6.7% (low / intermediate / high); the 6-month "
           "risks shown are the Vienna CATS cohort's by Khorana score.",),
)

VIENNA_CATS = ScoreSpec(
    name="vienna_cats",
    title="Vienna CATS score (Khorana + D-dimer + soluble P-selectin)",
    citation="Ay C et al. Blood 2010;116(24):5377-5382. doi:10.1182/blood-2010-02-270116",
    items=_items(vienna=True),
    groups=(),
    risks=(
        PublishedRisk(0, 0, 0.010, 6.0, 200, f"{_AY}, expanded score 0 (n = 200)"),
        PublishedRisk(3, 3, 0.103, 6.0, 130, f"{_AY}, expanded score 3 (n = 130)"),
        PublishedRisk(5, None, 0.350, 6.0, 30, f"{_AY}, expanded score >= 5 (n = 30)"),
    ),
    guidance=_GUIDANCE,
    notes=("Ay 2010 names no risk groups for the expanded score and its abstract gives no "
           "6-month risk for scores 1, 2 and 4: none are reported here.",),
)
