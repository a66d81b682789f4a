"""Laboratory and clinical quantities with explicit units, converted exactly or refused.

Each score item has a *canonical unit*: the unit of the derivation paper (Khorana 2008:
platelets and leukocytes in 10^9/L, haemoglobin in g/dL, BMI in kg/m²; Ay 2010: D-dimer in
µg/mL and soluble P-selectin in ng/mL). A plain number is read in the canonical unit; any
other unit must be written after the number (``98g/L``, ``380000/uL``, ``1500ng/mL``) and is
converted by an exact power-of-ten factor. Units whose conversion is not exact or not
defined without more information are refused with the accepted list:

- haemoglobin in mmol/L (the factor depends on whether the lab reports the tetramer or the
  monomer);
- D-dimer in DDU (D-dimer units are not FEU; the usual "FEU ≈ 2 × DDU" is an approximation
  that depends on the assay);
- platelet or leukocyte counts given as large plain numbers (``380000``): read as 10^9/L
  they are outside the physiological range, and the error says to add ``/uL``.

Every value is then checked against a physiological range, so that a unit mix-up (a
haemoglobin of 98 read as g/dL) fails loudly instead of scoring silently.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from drivervte.errors import InputError

__all__ = ["ITEM_UNITS", "STAGE_CHOICES", "THERAPY_CHOICES", "UnitSpec", "is_missing",
           "parse_choice", "parse_flag", "parse_int", "parse_quantity",
           "parse_therapies"]


@dataclass(frozen=True)
class UnitSpec:
    """Canonical unit, accepted units (spelling -> exact factor to canonical), range."""

    canonical: str
    factors: dict[str, float]
    low: float
    high: float
    refused: dict[str, str]


_COUNT = {  # cell counts: canonical 10^9/L
    "10^9/l": 1.0, "x10^9/l": 1.0, "*10^9/l": 1.0, "e9/l": 1.0, "g/l": 1.0, "10e9/l": 1.0,
    "/ul": 1e-3, "/µl": 1e-3, "/μl": 1e-3, "/mm3": 1e-3, "/mm^3": 1e-3, "cells/ul": 1e-3,
    "10^3/ul": 1.0, "x10^3/ul": 1.0, "k/ul": 1.0, "/l": 1e-9,
}

ITEM_UNITS: dict[str, UnitSpec] = {
    "platelets": UnitSpec("10^9/L", _COUNT, 1.0, 2000.0, {}),
    "leukocytes": UnitSpec("10^9/L", _COUNT, 0.1, 500.0, {}),
    "hb": UnitSpec(
        "g/dL", {"g/dl": 1.0, "g/l": 0.1, "mg/dl": 1e-3}, 2.0, 25.0,
        {"mmol/l": "haemoglobin in mmol/L has no single exact factor (monomer vs tetramer); "
                   "convert to g/dL or g/L with your laboratory's factor"}),
    "bmi": UnitSpec("kg/m2", {"kg/m2": 1.0, "kg/m^2": 1.0, "kg/m²": 1.0}, 10.0, 100.0, {}),
    "ddimer": UnitSpec(
        "ug/mL FEU",
        {"ug/ml": 1.0, "µg/ml": 1.0, "μg/ml": 1.0, "mg/l": 1.0, "ng/ml": 1e-3, "ug/l": 1e-3,
         "µg/l": 1e-3, "mg/dl": 10.0, "ug/mlfeu": 1.0, "µg/mlfeu": 1.0, "mg/lfeu": 1.0,
         "ng/mlfeu": 1e-3},
        0.01, 100.0,
        {"ddu": "D-dimer units (DDU) are not FEU and the conversion is assay-specific; give "
                "the value in FEU (ug/mL, mg/L or ng/mL FEU)"}),
    "sp_selectin": UnitSpec("ng/mL", {"ng/ml": 1.0, "ug/l": 1.0, "µg/l": 1.0, "pg/ml": 1e-3},
                            1.0, 1000.0, {}),
    # Li 2021 (NSCLC): neutrophils in 10^9/L, CEA in ng/mL.
    "neutrophils": UnitSpec("10^9/L", _COUNT, 0.0, 500.0, {}),
    "cea": UnitSpec("ng/mL", {"ng/ml": 1.0, "ug/l": 1.0, "µg/l": 1.0, "μg/l": 1.0},
                    0.0, 100000.0, {}),
    # COMPASS-CAT: time since cancer diagnosis in months (years convert exactly).
    "months_since_diagnosis": UnitSpec(
        "months", {"month": 1.0, "mo": 1.0, "years": 12.0, "year": 12.0, "y": 12.0,
                   "yr": 12.0},
        0.0, 1200.0,
        {u: "days or weeks do not convert exactly to months; give the time in months (or "
            "years)" for u in ("d", "day", "days", "w", "wk", "week", "weeks")}),
}

_NUMBER = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


def _normalise_unit(unit: str) -> str:
    u = unit.strip().lower().replace(" ", "").replace("×", "x")
    return u.replace("10**9", "10^9").replace("10⁹", "10^9").replace("mm³", "mm3")


def parse_quantity(value: object, item: str, *, unit: str | None = None) -> float:
    """Read ``value`` for score item ``item`` and return it in the item's canonical unit.

    Parameters
    ----------
    value:
        A number (canonical unit) or text: ``"380"``, ``"380e9/L"``, ``"98 g/L"``.
    item:
        One of :data:`ITEM_UNITS` (``platelets``, ``leukocytes``, ``hb``, ``bmi``,
        ``ddimer``, ``sp_selectin``).
    unit:
        The unit of a plain number, when it is not the canonical one (a table's unit
        option); a unit written after the number wins only if it agrees.

    Raises
    ------
    InputError
        Naming the item, for text that is not a number, an unknown or refused unit, and
        values outside the physiological range.

    Examples
    --------
    >>> parse_quantity("98g/L", "hb")
    9.8
    >>> parse_quantity("380000/uL", "platelets")
    380.0
    """
    spec = ITEM_UNITS[item]
    if isinstance(value, bool):
        raise InputError(f"expected a number, got {value!r}", column=item)
    if isinstance(value, (int, float)):
        number, written = float(value), ""
    else:
        m = _NUMBER.match(str(value))
        if m is None:
            raise InputError(f"'{value}' is not a number with an optional unit "
                             f"(e.g. 12 or 12{spec.canonical})", column=item)
        number, written = float(m.group(1)), m.group(2)
    if not math.isfinite(number):
        raise InputError(f"'{value}' is not a finite number", column=item)
    if unit is not None and written and _normalise_unit(unit) != _normalise_unit(written):
        raise InputError(f"'{value}' carries the unit '{written}' but the unit option says "
                         f"'{unit}'", column=item)
    u = _normalise_unit(written or unit or "")
    if u in ("", _normalise_unit(spec.canonical)):
        factor = 1.0
    elif u in spec.refused:
        raise InputError(spec.refused[u], column=item)
    elif u in spec.factors:
        factor = spec.factors[u]
    else:
        accepted = sorted({k for k in spec.factors})
        raise InputError(f"unknown unit '{written or unit}'; accepted: {', '.join(accepted)} "
                         f"(a plain number is read as {spec.canonical})", column=item)
    out = number * factor
    if not math.isfinite(out) or not (spec.low <= out <= spec.high):
        hint = ""
        if not written and unit is None and out > spec.high and item in (
                "platelets", "leukocytes", "neutrophils"):
            hint = f"; a count per microlitre needs its unit, e.g. {number:g}/uL"
        elif not written and unit is None and item == "hb" and out > spec.high:
            hint = f"; a value in g/L needs its unit, e.g. {number:g}g/L"
        raise InputError(f"{number:g}{(' ' + written) if written else ''} is "
                         f"{out:g} {spec.canonical}, outside the physiological range "
                         f"{spec.low:g}-{spec.high:g} {spec.canonical}{hint}", column=item)
    return out


_TRUE = {"1", "true", "yes", "y", "t", "present"}
_FALSE = {"0", "false", "no", "n", "f", "absent"}


def is_missing(v: object) -> bool:
    """None, NaN, or text such as '', 'NA', 'missing'."""
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    try:
        if not isinstance(v, (str, bytes)) and v != v:  # numpy / pandas NaN
            return True
    except (TypeError, ValueError):
        pass
    return isinstance(v, str) and v.strip().lower() in ("", "na", "nan", "none", "missing")


def parse_flag(value: object, item: str) -> bool | None:
    """A yes/no item: bool, 0/1, or text (yes/no, true/false, present/absent); None if missing.

    Raises :class:`InputError` naming ``item`` for anything else.
    """
    if is_missing(value):
        return None
    if isinstance(value, str):
        s = value.strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
    else:
        try:
            if value in (0, 1):  # bool, int, float, numpy scalars
                return bool(value)
        except (TypeError, ValueError):
            pass
    raise InputError(f"'{value}' is not yes/no (accepted: "
                     f"{', '.join(sorted(_TRUE | _FALSE))})", column=item)


def parse_int(value: object, item: str, low: int, high: int) -> int | None:
    """A whole number in [low, high] (ECOG, a count); None if missing."""
    if is_missing(value):
        return None
    try:
        x = float(str(value).strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        x = math.nan
    if isinstance(value, bool) or not math.isfinite(x) or x != int(x) or not low <= x <= high:
        raise InputError(f"'{value}' is not a whole number from {low} to {high}", column=item)
    return int(x)


def parse_choice(value: object, item: str, choices: dict[str, str]) -> str | None:
    """A category: ``choices`` maps accepted spellings (lower case) to the canonical value."""
    if is_missing(value):
        return None
    key = str(value).strip().lower().replace(" ", "_").replace("-", "_")
    if key not in choices:
        raise InputError(f"unknown value '{value}'; accepted: "
                         f"{', '.join(sorted(choices))}", column=item)
    return choices[key]


#: Cancer stage categories (COMPASS-CAT "advanced stage" = locally advanced or metastatic;
#: ONKOTEV "metastatic disease"). TNM stage IV is metastatic (M1) by definition; stages I-III
#: are not mapped because "locally advanced" is not a TNM stage.
STAGE_CHOICES: dict[str, str] = {
    "localized": "localized", "localised": "localized", "local": "localized",
    "early": "localized",
    "locally_advanced": "locally_advanced",
    "metastatic": "metastatic", "iv": "metastatic", "4": "metastatic", "m1": "metastatic",
}

#: Systemic therapy classes (a patient may have several, comma-separated).
THERAPY_CHOICES: dict[str, str] = {
    "anthracycline": "anthracycline", "doxorubicin": "anthracycline",
    "epirubicin": "anthracycline",
    "antihormonal": "antihormonal", "anti_hormonal": "antihormonal",
    "hormonal": "antihormonal", "endocrine": "antihormonal",
    "platinum": "platinum", "cisplatin": "cisplatin", "carboplatin": "carboplatin",
    "oxaliplatin": "oxaliplatin",
    "gemcitabine": "gemcitabine", "taxane": "taxane", "paclitaxel": "taxane",
    "docetaxel": "taxane", "pemetrexed": "pemetrexed", "immunotherapy": "immunotherapy",
    "tki": "tki", "targeted": "tki", "other": "other", "none": "none",
}


def parse_therapies(value: object, item: str = "chemo") -> list[str] | None:
    """Comma-separated therapy classes (:data:`THERAPY_CHOICES`), sorted; None if missing."""
    if isinstance(value, str) and value.strip().lower() == "none":
        return ["none"]  # 'none' is an answer here, not a missing value
    if is_missing(value):
        return None
    parts = value if isinstance(value, (list, tuple, set, frozenset)) else str(value).split(",")
    out = frozenset(THERAPY_CHOICES["none"] if str(p).strip().lower() == "none"
                    else parse_choice(p, item, THERAPY_CHOICES)
                    for p in parts if str(p).strip())
    if not out:
        return None
    if "none" in out and len(out) > 1:
        raise InputError(f"'{value}' combines 'none' with therapies", column=item)
    return sorted(out)  # type: ignore[arg-type]
