"""How a measure is drawn: axis scale, null line, axis label, back-transformation, ticks.

Ratio measures are drawn on a logarithmic axis in ratio units (RevMan/metafor ``atransf=exp``
style); differences on a linear axis with the null at 0; proportions and rates on their
natural linear scale, with no null line. With ``transform=False`` everything stays on the
model scale (log ratio, logit, ...), linear axis, null at 0 for comparative measures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from drivervte.effects.transforms import back_transform

RATIO_MEASURES = frozenset({"OR", "RR", "HR", "SHR", "IRR", "ROM", "PETO"})
DIFFERENCE_MEASURES = frozenset({"RD", "MD", "SMD", "GEN", "IRD", "ZCOR", "COR"})

_NAMES = {
    "OR": "Odds ratio", "PETO": "Peto odds ratio", "RR": "Risk ratio", "HR": "Hazard ratio",
    "SHR": "Subdistribution hazard ratio", "IRR": "Incidence rate ratio",
    "ROM": "Ratio of means", "RD": "Risk difference", "MD": "Mean difference",
    "SMD": "Standardised mean difference", "IRD": "Incidence rate difference",
    "ZCOR": "Fisher's z", "COR": "Correlation", "GEN": "Effect", "PR": "Proportion",
    "PLO": "Proportion", "PFT": "Proportion", "PAS": "Proportion", "PLN": "Proportion",
    "IR": "Incidence rate", "IRLN": "Incidence rate",
}
_MODEL_NAMES = {
    "PLO": "Logit proportion", "PFT": "Double-arcsine proportion",
    "PAS": "Arcsine proportion", "PLN": "Log proportion", "IRLN": "Log incidence rate",
}

RATIO_TICKS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0,
               20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
_NICE_RATIO_LIMITS = (1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)


@dataclass(frozen=True)
class Scale:
    """Drawing scale of one plot."""

    measure: str
    transform: bool
    log: bool            # logarithmic x axis (ratio units)
    null: float | None   # position of the null line in plotted units
    label: str           # axis label

    def values(self, model_values, ni=None) -> np.ndarray:
        """Model-scale values -> plotted units."""
        x = np.asarray(model_values, dtype=float)
        if not self.transform:
            return x.copy()
        return back_transform(self.measure, x, ni=ni)


def make_scale(measure: str, transform: bool = True) -> Scale:
    m = str(measure).strip().upper()
    comparative = m in RATIO_MEASURES or m in DIFFERENCE_MEASURES
    if transform:
        log = m in RATIO_MEASURES
        null = 1.0 if log else (0.0 if comparative else None)
        label = _NAMES.get(m, m) + (" (log scale)" if log else "")
        if m in ("PLN", "IRLN"):
            log = False
    else:
        log = False
        null = 0.0 if comparative else None
        if m in RATIO_MEASURES:
            label = "Log " + _NAMES[m][0].lower() + _NAMES[m][1:]
        else:
            label = _MODEL_NAMES.get(m, _NAMES.get(m, m))
    return Scale(measure=m, transform=transform, log=log, null=null, label=label)


def auto_limits(scale: Scale, core: np.ndarray, full: np.ndarray) -> tuple[float, float]:
    """Axis limits that show every ``core`` value and as much of ``full`` as is sensible.

    ``core`` holds what must be visible (point estimates, summary CIs, the null), ``full``
    also the study CIs and prediction intervals. Intervals running far beyond the core
    range (more than one core width past it) are clipped and drawn with arrows rather than
    squeezing every study into a sliver. Ratio axes are symmetric around 1 with a "nice"
    limit (2, 5, 10, 100, ...).
    """
    core = np.asarray(core, float)
    full = np.asarray(full, float)
    if scale.log:
        core = np.log10(core[np.isfinite(core) & (core > 0)])
        full = np.log10(full[np.isfinite(full) & (full > 0)])
    else:
        core = core[np.isfinite(core)]
        full = full[np.isfinite(full)]
    if core.size == 0:
        core = np.array([0.0]) if scale.log or scale.null is None else np.array([scale.null])
    if full.size == 0:
        full = core
    clo, chi = float(core.min()), float(core.max())
    width = max(chi - clo, 1e-9 if not scale.log else math.log10(1.5))
    lo = max(float(full.min()), clo - width)
    hi = min(float(full.max()), chi + width)
    lo, hi = min(lo, clo), max(hi, chi)
    if scale.log:
        ext = max(abs(lo), abs(hi), math.log10(1.5))
        limit = next((v for v in _NICE_RATIO_LIMITS if math.log10(v) >= ext - 1e-12),
                     10 ** math.ceil(ext))
        return 1.0 / limit, limit
    pad = 0.04 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.1
    return lo - pad, hi + pad


def ratio_ticks(lo: float, hi: float) -> list[float]:
    """Tick values in ratio units inside [lo, hi]: 1-2-5 steps, thinned to decades if crowded."""
    ticks = [t for t in RATIO_TICKS if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]
    if len(ticks) > 7:
        decades = [t for t in ticks if abs(math.log10(t) - round(math.log10(t))) < 1e-9]
        if len(decades) >= 4 or 1.0 not in ticks:
            ticks = decades
        else:  # every other 1-2-5 step outward from 1: 0.05, 0.2, 1, 5, 20
            one = ticks.index(1.0)
            ticks = [t for i, t in enumerate(ticks) if (i - one) % 2 == 0]
    if len(ticks) < 3:
        ticks = sorted({*ticks, round(lo, 2), round(hi, 2)} - {0.0})
    return ticks


def format_tick(v: float) -> str:
    """Tick label without trailing zeros: 0.5, 1, 2, 10, 0.01."""
    if v == 0:
        return "0"
    return f"{v:.6g}"
