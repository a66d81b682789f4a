"""Figures of a score validation: calibration (observed vs expected per group) and CIF by group.

Built with :mod:`drivervte.plots` (house style, deterministic SVG with a fixed
``svg.hashsalt`` and no date metadata; PNG and PDF without dates either).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from drivervte.plots._io import save_figure
from drivervte.plots._style import PALETTE, style
from drivervte.scores.validation import ValidationResult
from drivervte.survival.cuminc import cumulative_incidence

__all__ = ["calibration_plot", "cif_by_group_plot", "write_validation_plots"]


def calibration_plot(result: ValidationResult, path: str | Path | None = None) -> Figure:
    """Observed cumulative incidence (dots, log-log CI bars) and expected risk (crosses) per
    risk group, one panel per time that has an expected value (else every time)."""
    rows = result.calibration
    times = [t for t in result.times if any(r["time"] == t and r["expected"] is not None
                                            for r in rows)] or list(result.times)
    groups = list(dict.fromkeys(r["group"] for r in rows))
    with style():
        fig = Figure(figsize=(2.4 * len(times) + 0.6, 2.8))
        axes = fig.subplots(1, len(times), squeeze=False)[0]
        x = np.arange(len(groups))
        for ax, t in zip(axes, times, strict=True):
            sel = {r["group"]: r for r in rows if r["time"] == t}
            obs = np.array([_num(sel.get(g, {}).get("observed")) for g in groups])
            lo = np.array([_num(sel.get(g, {}).get("lower")) for g in groups])
            hi = np.array([_num(sel.get(g, {}).get("upper")) for g in groups])
            exp = np.array([_num(sel.get(g, {}).get("expected")) for g in groups])
            yerr = np.vstack([np.clip(obs - lo, 0, None), np.clip(hi - obs, 0, None)])
            ax.errorbar(x, 100 * obs, yerr=100 * np.nan_to_num(yerr), fmt="o",
                        color=PALETTE[0], capsize=2, label="observed")
            ax.plot(x, 100 * exp, "x", color=PALETTE[1], markersize=6, label="expected")
            ax.set_xticks(x, [g.split(" (")[0] for g in groups])
            ax.set_ylim(bottom=0)
            ax.set_title(f"{t:g} months")
            ax.set_xlabel(f"{result.score} points" if result.marker == "points"
                          else f"{result.marker} (quantile groups)")
        axes[0].set_ylabel("Cumulative incidence (%)")
        axes[0].legend(frameon=False)
        fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig


def _num(v: object) -> float:
    return float("nan") if v is None else float(v)  # type: ignore[arg-type]


def cif_by_group_plot(result: ValidationResult, path: str | Path | None = None) -> Figure:
    """Aalen-Johansen curves of the cause of interest by risk group (log-log bands)."""
    from drivervte.plots.cuminc import cumulative_incidence_plot

    d = result._data
    res = cumulative_incidence(d["time"], d["status"], group=d["group"], times=result.times)
    cause = str(result.cause)
    if cause not in res.causes:
        cause = res.causes[0]
    return cumulative_incidence_plot(res, path, at_risk=True, times=result.times, cause=cause)


def write_validation_plots(result: ValidationResult, path: str | Path) -> list[Path]:
    """Write the calibration plot to ``path`` and the CIF plot beside it (``<stem>_cif``)."""
    path = Path(path)
    cif_path = path.with_name(f"{path.stem}_cif{path.suffix}")
    calibration_plot(result, path)
    written = [path]
    if np.any(result._data["status"] != 0):
        cif_by_group_plot(result, cif_path)
        written.append(cif_path)
    return written
