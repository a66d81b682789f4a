"""How a points-based risk score is described and evaluated, missing items included.

A :class:`ScoreSpec` is a list of :class:`Item` (each maps a value to points, with the
points it can take when the value is missing), named :class:`RiskGroup` ranges of the total,
and :class:`PublishedRisk` rows (the observed VTE risk reported for a range of the total in a
derivation or validation cohort, with its horizon and source). :func:`evaluate` adds the
points and, when items are missing, reports the range of totals the missing items allow,
never imputing them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from drivervte.errors import InputError


@dataclass(frozen=True)
class Item:
    """One score item.

    ``points(value)`` gives the points of a present value (already in ``unit``);
    ``possible`` lists every number of points the item can contribute (for the range when
    the value is missing).
    """

    name: str
    label: str
    unit: str | None
    points: Callable[[Any], int]
    possible: tuple[int, ...]


@dataclass(frozen=True)
class RiskGroup:
    """A named range of the total (inclusive)."""

    label: str
    low: int
    high: int


@dataclass(frozen=True)
class PublishedRisk:
    """An observed VTE risk reported for totals in [low, high] (``high=None``: and above)."""

    low: int
    high: int | None
    risk: float
    horizon_months: float
    n: int | None
    source: str

    def covers(self, points: int) -> bool:
        return points >= self.low and (self.high is None or points <= self.high)


@dataclass(frozen=True)
class ScoreSpec:
    """A points-based VTE risk score as published."""

    name: str
    title: str
    citation: str
    items: tuple[Item, ...]
    groups: tuple[RiskGroup, ...]
    risks: tuple[PublishedRisk, ...]
    guidance: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def group_of(self, points: int) -> str | None:
        for g in self.groups:
            if g.low <= points <= g.high:
                return g.label
        return None

    def risk_of(self, points: int) -> PublishedRisk | None:
        for r in self.risks:
            if r.covers(points):
                return r
        return None


@dataclass
class Evaluation:
    """Points per item (None when missing), the total or its range, the group(s)."""

    items: dict[str, dict[str, Any]]
    missing: list[str]
    points: int | None
    points_range: tuple[int, int]
    group: str | None
    groups_possible: list[str]


def evaluate(spec: ScoreSpec, values: Mapping[str, Any]) -> Evaluation:
    """Score ``values`` (item name -> value in the item's unit, or None when missing)."""
    unknown = sorted(set(values) - {it.name for it in spec.items})
    if unknown:
        raise InputError(f"{spec.name} has no item(s) {', '.join(unknown)}; its items are "
                         + ", ".join(it.name for it in spec.items), column=unknown[0])
    items: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    lo = hi = 0
    for it in spec.items:
        v = values.get(it.name)
        if v is None:
            missing.append(it.name)
            items[it.name] = {"value": None, "unit": it.unit, "points": None}
            lo += min(it.possible)
            hi += max(it.possible)
            continue
        pts = int(it.points(v))
        items[it.name] = {"value": v, "unit": it.unit, "points": pts}
        lo += pts
        hi += pts
    points = lo if not missing else None
    groups = []
    for total in range(lo, hi + 1):
        g = spec.group_of(total)
        if g is not None and g not in groups:
            groups.append(g)
    group = spec.group_of(lo) if points is not None else (groups[0] if len(groups) == 1
                                                           else None)
    return Evaluation(items=items, missing=missing, points=points, points_range=(lo, hi),
                      group=group, groups_possible=groups)
