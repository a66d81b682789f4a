"""Scores for a table of patients: one row in, the same row out with points, group and risk.

Columns are named like the one-patient options (``site, platelets, hb, esa, leukocytes, bmi``
and ``ddimer, sp_selectin`` for Vienna CATS; the other scores' inputs are listed in
:data:`drivervte.scores.assess.RAW_ITEMS`, every one a required column except ``esa``);
``column_map`` maps other names
(``{"hb": "haemoglobin_gL"}``) and ``units`` gives a column's unit (``{"hb": "g/L"}``) when
its cells are plain numbers. Every row is kept, in order, with all its columns; added
columns: ``points`` (nullable), ``points_min``, ``points_max``, ``group``, ``missing``
(comma-separated items), ``risk``, ``risk_lower``, ``risk_upper``, ``risk_horizon_months``.
A row that cannot be read (bad unit, out-of-range value, unknown site) stops the whole table
with an :class:`~drivervte.errors.InputError` naming the column and the row: nothing is
scored half-way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from drivervte.errors import InputError
from drivervte.scores.assess import RAW_ITEMS, assess, get_score
from drivervte.scores.units import ITEM_UNITS

_OPTIONAL = {"esa"}  # a table may omit it (taken as no ESA use)
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


def _flag(v: Any, column: str, row: int) -> bool | None:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise InputError(f"'{v}' is not yes/no (accepted: {', '.join(sorted(_TRUE | _FALSE))})",
                     column=column, rows=[row])


def score_table(df: pd.DataFrame, score: str = "khorana", *,
                column_map: Mapping[str, str] | None = None,
                units: Mapping[str, str] | None = None,
                gene_column: str | None = None, db: Any = None) -> pd.DataFrame:
    """Score every row of ``df``; see the module docstring for columns and rules."""
    spec = get_score(score)
    raw_items = RAW_ITEMS[spec.name]
    cmap = {item: item for item in raw_items}
    cmap.update(column_map or {})
    needed = [i for i in raw_items if i not in _OPTIONAL]
    absent = sorted(i for i in needed if cmap[i] not in df.columns)
    if absent:
        raise InputError("the table has no column for " + ", ".join(absent)
                         + "; name it so or map it with --column ITEM=COL",
                         column=cmap[absent[0]])
    for item in units or {}:
        if item not in ITEM_UNITS:
            raise InputError(f"no unit option for '{item}'; items with units: "
                             + ", ".join(ITEM_UNITS), column="--unit")
    out_rows = []
    effects: dict[str, Any] = {}
    for i, row in enumerate(df.itertuples(index=False)):
        rec = dict(zip(df.columns, row, strict=True))
        raw: dict[str, Any] = {}
        for item in needed:
            v = rec[cmap[item]]
            if units and item in units and v is not None and not pd.isna(v) \
                    and not isinstance(v, str):
                v = f"{v}{units[item]}"
            raw[item] = v
        if "esa" in raw_items:
            raw["esa"] = _flag(rec.get(cmap["esa"]), cmap["esa"], i) \
                if cmap["esa"] in df.columns else False
        gene = None
        if gene_column is not None:
            g = rec.get(gene_column)
            gene = None if g is None or pd.isna(g) or str(g).strip().lower() in (
                "", "none", "negative", "wild-type", "wt") else str(g)
        try:
            kwargs: dict[str, Any] = {}
            if gene is not None:
                key = gene.upper()
                if key not in effects:
                    from drivervte.scores.genotype import pooled_relative_effect

                    effects[key] = pooled_relative_effect(key, db)
                eff, _reason = effects[key]
                kwargs = {"gene": key, "effect": eff} if eff is not None else {"gene": key}
            res = assess(spec.name, db=db, **kwargs, **raw)
        except InputError as exc:
            col = cmap.get(exc.column, exc.column) if exc.column else None
            raise InputError(exc.reason, column=col, rows=[i]) from None
        r = res.risk
        out = {"points": res.points, "points_min": res.points_range[0],
               "points_max": res.points_range[1], "group": res.group,
               "missing": ",".join(res.missing), "risk": r["estimate"],
               "risk_lower": r["lower"], "risk_upper": r["upper"],
               "risk_horizon_months": r["horizon_months"]}
        if gene_column is not None:
            g = res.gene_adjusted or {}
            out.update(gene_risk=g.get("estimate"), gene_risk_lower=g.get("lower"),
                       gene_risk_upper=g.get("upper"))
        out_rows.append(out)
    added = pd.DataFrame(out_rows, index=df.index)
    added["points"] = added["points"].astype("Int64")
    return pd.concat([df, added], axis=1)
