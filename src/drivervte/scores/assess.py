"""One patient's score, risk group, published risk and (optionally) gene-adjusted risk.

:func:`assess` reads the item values with their units (:mod:`drivervte.scores.units`),
scores them (:mod:`drivervte.scores.spec`), looks up the risk the derivation/validation
paper reported for the total, and, with ``gene=``, combines it with the gene's pooled effect
from the evidence base (:mod:`drivervte.scores.genotype`).

The published risk's interval is approximate: :math:`\\mathrm{logit}\\,p \\pm z/\\sqrt{n p
(1-p)}` with the paper's group size ``n`` (a delta-method binomial interval; with censoring
the true interval is wider).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special, stats

from drivervte import DISCLAIMER
from drivervte.errors import InputError
from drivervte.results import Result, format_table
from drivervte.scores import compass_cat, conko, li2021, onkotev, protecht
from drivervte.scores.genotype import gene_adjusted_risk, pooled_relative_effect
from drivervte.scores.khorana import KHORANA, VIENNA_CATS
from drivervte.scores.spec import ScoreSpec, evaluate
from drivervte.scores.units import is_missing, parse_int, parse_quantity

SCORES: dict[str, ScoreSpec] = {"khorana": KHORANA, "vienna_cats": VIENNA_CATS,
                                "compass_cat": compass_cat.COMPASS_CAT,
                                "onkotev": onkotev.ONKOTEV, "li2021": li2021.LI2021,
                                "protecht": protecht.PROTECHT, "conko": conko.CONKO}
_ALIASES = {"cats": "vienna_cats", "vienna": "vienna_cats", "vienna-cats": "vienna_cats",
            "compass-cat": "compass_cat", "compasscat": "compass_cat", "li": "li2021",
            "li_2021": "li2021", "li-2021": "li2021"}
_KHORANA_RAW = ("site", "platelets", "hb", "esa", "leukocytes", "bmi")
#: The raw inputs each score reads (names of ``assess`` keywords, CLI options, table columns).
RAW_ITEMS: dict[str, tuple[str, ...]] = {
    "khorana": _KHORANA_RAW, "vienna_cats": (*_KHORANA_RAW, "ddimer", "sp_selectin"),
    "compass_cat": compass_cat.RAW_ITEMS, "onkotev": onkotev.RAW_ITEMS,
    "li2021": li2021.RAW_ITEMS, "protecht": protecht.RAW_ITEMS, "conko": conko.RAW_ITEMS,
}


def get_score(name: str) -> ScoreSpec:
    key = _ALIASES.get(str(name).strip().lower(), str(name).strip().lower())
    if key not in SCORES:
        raise InputError(f"unknown score '{name}'; available: {', '.join(sorted(SCORES))}",
                         column="score")
    return SCORES[key]


@dataclass
class RiskAssessment(Result):
    """A patient's VTE risk score.

    ``to_dict()`` keys (stable): ``score`` (name), ``title``, ``citation``, ``points`` (int, or
    null when items are missing), ``points_range`` [min, max], ``group`` (the paper's label,
    lower-cased: ``low`` | ``intermediate`` | ``high``, COMPASS-CAT ``low/intermediate``, or null when the score names no group or missing items
    leave it open), ``groups_possible``, ``items`` {item: {value, unit, points}},
    ``missing`` [items], ``risk`` {estimate, lower, upper, horizon_months, n, source} (nulls
    when no published risk applies), ``gene_adjusted`` {gene, relative_effect, estimate,
    lower, upper, lower_without_heterogeneity, upper_without_heterogeneity, assumptions,
    ...} or null, ``guidance``, ``notes``, ``disclaimer``.
    """

    score: str
    title: str
    citation: str
    points: int | None
    points_range: list[int]
    group: str | None
    groups_possible: list[str]
    items: dict[str, dict[str, Any]]
    missing: list[str]
    risk: dict[str, Any]
    gene_adjusted: dict[str, Any] | None
    guidance: str
    notes: list[str] = field(default_factory=list)
    disclaimer: str = DISCLAIMER

    def summary(self) -> str:
        rows = [[name, "missing" if d["value"] is None else str(d["value"]), d["unit"] or "",
                 "?" if d["points"] is None else str(d["points"])]
                for name, d in self.items.items()]
        lines = [format_table(["item", "value", "unit", "points"], rows, title=self.title)]
        pts = (str(self.points) if self.points is not None
               else f"{self.points_range[0]}-{self.points_range[1]} (items missing: "
                    f"{', '.join(self.missing)})")
        lines.append(f"points: {pts}; group: {self.group or 'not determined'}")
        r = self.risk
        if r["estimate"] is not None:
            ci = (f" (approx. 95% CI {100 * r['lower']:.1f}-{100 * r['upper']:.1f}%)"
                  if r["lower"] is not None else " (no interval: group size not published)")
            lines.append(f"published {r['horizon_months']:g}-month VTE risk: "
                         f"{100 * r['estimate']:.1f}%{ci}; {r['source']}")
        else:
            lines.append(f"published risk: none ({r['source']})")
        g = self.gene_adjusted
        if g is not None and g.get("estimate") is not None:
            re_ = g["relative_effect"]
            lines.append(
                f"{g['gene']}+: pooled {re_['measure']} {re_['estimate']:.2f} (PI "
                f"{re_['pi_lower']:.2f}-{re_['pi_upper']:.2f}, k = {re_['k']}) -> risk "
                f"{100 * g['estimate']:.1f}% (95% interval {100 * g['lower']:.1f}-"
                f"{100 * g['upper']:.1f}%)")
            for o in re_.get("other_pools", []):
                opposite = (o["estimate"] - 1) * (re_["estimate"] - 1) < 0
                lines.append(
                    f"  other pooled {o['measure']} for {g['gene']}+ (not used): "
                    f"{o['estimate']:.2f} ({o['ci_lower']:.2f}-{o['ci_upper']:.2f}), k = "
                    f"{o['k']}" + ("; it points the other way: the evidence is inconsistent"
                                   if opposite else ""))
            lines += [f"  assumption: {a}" for a in g["assumptions"]]
        elif g is not None:
            lines.append(f"{g['gene']}: {g['reason']}")
        lines += [f"note: {n}" for n in self.notes]
        lines.append(f"guidance: {self.guidance}")
        lines.append(self.disclaimer)
        return "\n".join(lines)


def _risk(spec: ScoreSpec, points: int | None, rng: tuple[int, int]) -> dict[str, Any]:
    none = {"estimate": None, "lower": None, "upper": None, "horizon_months": None, "n": None}
    if points is None:
        found = {spec.risk_of(p) for p in range(rng[0], rng[1] + 1)}
        vals = sorted(r.risk for r in found if r is not None)
        src = "items are missing: the total is not known"
        if vals:
            src += f"; published risks over the possible totals range {100 * vals[0]:.1f}-" \
                   f"{100 * vals[-1]:.1f}%"
        return {**none, "source": src}
    pub = spec.risk_of(points)
    if pub is None:
        return {**none, "source": f"no published risk for {spec.name} = {points}"}
    z = float(stats.norm.ppf(0.975))
    lo = hi = None
    if pub.n:
        sd = 1 / np.sqrt(pub.n * pub.risk * (1 - pub.risk))
        lo = float(special.expit(special.logit(pub.risk) - z * sd))
        hi = float(special.expit(special.logit(pub.risk) + z * sd))
    return {"estimate": pub.risk, "lower": lo, "upper": hi, "horizon_months": pub.horizon_months,
            "n": pub.n, "source": pub.source}


def read_items(spec: ScoreSpec, raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Convert raw inputs (numbers or text with units, yes/no, categories) to item values.

    Raw inputs given with a value but not read by ``spec`` (:data:`RAW_ITEMS`) are an error;
    missing ones (None, NaN, '') are ignored. Returns the values and notes on defaults.
    """
    accepted = RAW_ITEMS[spec.name]
    unknown = sorted(k for k, v in raw.items() if k not in accepted and not _is_missing(v))
    if unknown:
        raise InputError(f"unknown item(s) {', '.join(unknown)} for {spec.name}; its inputs "
                         f"are {', '.join(accepted)}", column=unknown[0])
    if spec.name == "compass_cat":
        return compass_cat.read_items(raw)
    if spec.name == "li2021":
        return li2021.read_items(raw)
    if spec.name == "onkotev":
        kvals, notes = _read_khorana(KHORANA, {k: raw.get(k) for k in _KHORANA_RAW})
        values, more = onkotev.read_items(raw, evaluate(KHORANA, kvals))
        return values, notes + more
    if spec.name == "conko":
        values, notes = _read_khorana(spec, raw)
        values["ecog"] = parse_int(raw.get("ecog"), "ecog", 0, 4)
        return values, notes
    if spec.name == "protecht":
        values, notes = _read_khorana(KHORANA, raw)
        more_values, more = protecht.read_items(raw)
        return {**values, **more_values}, notes + more
    return _read_khorana(spec, raw)


def _read_khorana(spec: ScoreSpec, raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    notes: list[str] = []
    values: dict[str, Any] = {}
    names = {it.name for it in spec.items}
    for key in ("platelets", "leukocytes", "bmi", "ddimer", "sp_selectin"):
        if key in names:
            v = raw.get(key)
            values[key] = None if _is_missing(v) else parse_quantity(v, key)
    site = raw.get("site")
    values["site"] = None if _is_missing(site) else str(site)
    hb = raw.get("hb")
    esa = raw.get("esa")
    hbv = None if _is_missing(hb) else parse_quantity(hb, "hb")
    if esa is None:
        notes.append("ESA use not given: taken as no ESA use")
        esa = False
    values["hb_or_esa"] = None if (hbv is None and not esa) else {"hb": hbv, "esa": bool(esa)}
    return values, notes


def _is_missing(v: Any) -> bool:
    return is_missing(v)


def _not_adjusted(gene: str, effect: Any, reason: str) -> dict[str, Any]:
    """``gene_adjusted`` when no adjusted risk can be given: every key present, nulls, why."""
    from drivervte.scores.genotype import ASSUMPTIONS

    return {"gene": str(gene).upper(),
            "relative_effect": None if effect is None else effect.to_dict(),
            "estimate": None, "lower": None, "upper": None,
            "lower_without_heterogeneity": None, "upper_without_heterogeneity": None,
            "assumptions": list(ASSUMPTIONS), "reason": reason}


def assess(score: str, *, gene: str | None = None, db: Any = None,
           baseline_risk: float | None = None, baseline_n: int | None = None,
           effect: Any = None, **raw: Any) -> RiskAssessment:
    """Score one patient. ``raw`` items: site, platelets, hb, esa, leukocytes, bmi (and ddimer,
    sp_selectin for Vienna CATS), numbers in the paper's units or text with a unit; the other
    scores' inputs are listed in :data:`RAW_ITEMS` (yes/no items take bool or yes/no text,
    ``stage`` localized | locally_advanced | metastatic, ``chemo`` comma-separated classes).

    ``baseline_risk`` (with ``baseline_n``) replaces the published group risk as the
    baseline for the gene adjustment (e.g. from the user's own cohort model); ``effect`` (a
    :class:`~drivervte.scores.genotype.RelativeEffect`) replaces the evidence base's pooled
    effect.
    """
    spec = get_score(score)
    values, notes = read_items(spec, raw)
    ev = evaluate(spec, values)
    risk = _risk(spec, ev.points, ev.points_range)
    notes = notes + list(spec.notes)
    adjusted = None
    if gene is not None:
        eff, reason = (effect, "") if effect is not None else pooled_relative_effect(gene, db)
        p0, n0 = ((baseline_risk, baseline_n) if baseline_risk is not None
                  else (risk["estimate"], risk["n"]))
        if eff is None:
            adjusted = _not_adjusted(gene, None, reason)
        elif p0 is None:
            adjusted = _not_adjusted(gene, eff, "no baseline risk (no published risk for this "
                                     "total, or items missing); give one with baseline_risk")
        else:
            adjusted = gene_adjusted_risk(float(p0), n0, eff)
            adjusted["baseline"] = {"estimate": p0, "n": n0,
                                    "source": "user" if baseline_risk is not None
                                    else risk["source"]}
    return RiskAssessment(
        score=spec.name, title=spec.title, citation=spec.citation, points=ev.points,
        points_range=list(ev.points_range), group=ev.group, groups_possible=ev.groups_possible,
        items=ev.items, missing=ev.missing, risk=risk, gene_adjusted=adjusted,
        guidance=spec.guidance, notes=notes)
