"""Funnel plot, optionally contour-enhanced (Peters et al. 2008), with trim-and-fill studies.

Effects are drawn on the model scale (log ratio, ...) against their standard error on an
inverted axis (most precise studies at the top), as ``metafor::funnel``; ratio measures get
their tick labels in ratio units (metafor's ``atransf=exp``). Drawn, back to front:

- contour-enhanced significance regions around the null (``contour=True``, comparative
  measures only): for each level ``L`` the region ``|y - null| < z_{(1+L)/2} sqrt(v)`` where a
  study would *not* reach two-sided significance at ``1 - L``. Shades from white (p >= 0.10
  with the default levels) to dark grey (p < 0.01), exactly metafor's
  ``funnel(res, level = c(90, 95, 99), refline = 0, shade = ...)`` polygons;
- the pseudo confidence triangle ``estimate ± z_{(1+level)/2} · se`` around the pooled
  estimate (dotted) and the pooled-estimate line;
- the studies (filled circles), and the studies imputed by trim-and-fill (open circles)
  with the adjusted estimate (dashed) when ``filled`` is given.

SVG ids: ``funnel-study-<i>``, ``funnel-filled-<i>``, ``funnel-contour-<level>`` (e.g.
``funnel-contour-95``), ``funnel-contour-outside``, ``funnel-triangle``, ``funnel-estimate``,
``funnel-adjusted-estimate``.

References
----------
Peters JL, Sutton AJ, Jones DR, Abrams KR, Rushton L (2008). Contour-enhanced meta-analysis
funnel plots help distinguish publication bias from other causes of asymmetry. *Journal of
Clinical Epidemiology* 61(10):991-996.
Duval S, Tweedie R (2000). Trim and fill. *Biometrics* 56(2):455-463.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Rectangle
from matplotlib.ticker import FixedLocator, MaxNLocator
from scipy import stats

from drivervte.errors import InputError
from drivervte.plots._format import level_fraction
from drivervte.plots._io import finish
from drivervte.plots._scale import (
    DIFFERENCE_MEASURES,
    RATIO_MEASURES,
    format_tick,
    make_scale,
    ratio_ticks,
)
from drivervte.plots._style import INK, MARK, new_figure, style

YAXES = {"sei": "Standard error", "vi": "Sampling variance",
         "seinv": "Inverse standard error", "vinv": "Inverse sampling variance"}
_SHADES = ["#ffffff", "#ececec", "#d6d6d6", "#c0c0c0", "#aaaaaa", "#949494"]
LEGEND_IN = 1.75  # width kept right of the axes for the legend


def funnel_bounds(y: np.ndarray, yaxis: str, centre: float, level: float,
                  tau2: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Left and right edge of the ``level`` region around ``centre`` at y-axis values ``y``.

    ``centre ∓ z_{(1+level)/2} sqrt(v + tau2)`` with ``v`` the sampling variance that the
    y value stands for (``se²``, ``v``, ``1/y²``, ``1/y``), as ``metafor::funnel``.
    """
    y = np.asarray(y, float)
    with np.errstate(divide="ignore"):
        v = {"sei": y**2, "vi": y, "seinv": 1.0 / y**2, "vinv": 1.0 / y}[yaxis]
    half = stats.norm.ppf(0.5 + level_fraction(level) / 2.0) * np.sqrt(v + tau2)
    return centre - half, centre + half


def _y_values(vi: np.ndarray, yaxis: str) -> np.ndarray:
    se = np.sqrt(vi)
    with np.errstate(divide="ignore"):
        return {"sei": se, "vi": vi, "seinv": 1.0 / se, "vinv": 1.0 / vi}[yaxis]


def filled_studies(filled: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(yi, vi)`` of the studies imputed by trim-and-fill.

    Accepts a :class:`drivervte.meta.trimfill.TrimFillResult` (``filled_yi``/``filled_vi``),
    a result with a boolean ``fill`` mask over its ``yi``/``vi`` (the metafor convention), a
    mapping with ``yi``/``vi``, or a pair ``(yi, vi)``.
    """
    if isinstance(filled, Mapping):
        yi, vi = filled.get("yi"), filled.get("vi")
    elif hasattr(filled, "filled_yi"):
        yi, vi = filled.filled_yi, filled.filled_vi
    elif hasattr(filled, "fill") and hasattr(filled, "yi"):
        mask = np.asarray(filled.fill, bool)
        yi, vi = np.asarray(filled.yi, float)[mask], np.asarray(filled.vi, float)[mask]
    elif isinstance(filled, Sequence) and len(filled) == 2:
        yi, vi = filled
    else:
        raise InputError("filled must be a trim-and-fill result, a mapping with 'yi' and 'vi', "
                         "or a pair (yi, vi)", column="filled")
    if yi is None or vi is None:
        raise InputError("filled needs both 'yi' and 'vi'", column="filled")
    yi = np.atleast_1d(np.asarray(yi, float))
    vi = np.atleast_1d(np.asarray(vi, float))
    if yi.shape != vi.shape:
        raise InputError(f"filled: yi has {yi.size} values but vi has {vi.size}",
                         column="filled")
    bad = np.flatnonzero(~np.isfinite(yi) | ~np.isfinite(vi) | (vi < 0))
    if bad.size:
        raise InputError("filled studies need finite yi and non-negative vi", column="filled",
                         rows=bad.tolist())
    return yi, vi


def _adjusted_estimate(filled: Any) -> float | None:
    est = filled.get("estimate") if isinstance(filled, Mapping) else getattr(
        filled, "estimate", None)
    try:
        return float(est) if est is not None and np.isfinite(float(est)) else None
    except (TypeError, ValueError):
        return None


def _levels(levels) -> list[float]:
    try:
        lv = sorted({level_fraction(v) for v in levels})
    except (TypeError, ValueError) as exc:
        raise InputError("levels must be numbers such as (0.90, 0.95, 0.99)",
                         column="levels") from exc
    if not lv or any(not 0 < v < 1 for v in lv):
        raise InputError("levels must lie strictly between 0 and 1 (or 0 and 100)",
                         column="levels")
    if len(lv) > len(_SHADES) - 1:
        raise InputError(f"at most {len(_SHADES) - 1} contour levels", column="levels")
    return lv


def funnel_plot(
    res: Any,
    path: str | Path | None = None,
    *,
    contour: bool = True,
    levels: Sequence[float] = (0.90, 0.95, 0.99),
    filled: Any = None,
    yaxis: str = "sei",
    transform: bool = True,
    refline: float | None = None,
    legend: bool = True,
    title: str | None = None,
    xlabel: str | None = None,
    size: tuple[float, float] = (3.4, 3.0),
    fmt: str | None = None,
) -> Figure:
    """Draw a (contour-enhanced) funnel plot of a meta-analysis without moderators.

    Parameters
    ----------
    res:
        The fitted model (:class:`drivervte.meta.result.MetaResult`).
    path:
        Write the figure here (``.svg``, ``.png``, ``.pdf``).
    contour:
        Shade the significance regions around the null (Peters et al. 2008). Only for
        comparative measures (ratios, differences); proportions have no null and get none.
    levels:
        Confidence levels of the contours, as fractions or percents (metafor's
        ``level = c(90, 95, 99)``); the regions are labelled by the p-values they stand for.
    filled:
        Trim-and-fill result (:func:`drivervte.meta.trimfill.trimfill`, or see
        :func:`filled_studies`), or ``True`` to run trim-and-fill on ``res`` with its
        defaults: imputed studies are drawn as open circles, and the adjusted estimate as a
        dashed line.
    yaxis:
        ``"sei"`` (standard error, inverted; default), ``"vi"`` (variance, inverted),
        ``"seinv"`` or ``"vinv"`` (inverse standard error / variance).
    transform:
        Label the x axis of ratio measures in ratio units (positions stay on the log scale).
    refline:
        Centre of the contour regions on the model scale; default the null (0).
    legend, title, xlabel, fmt:
        Legend on/off (right of the plot), title, x-axis label, forced file format.
    size:
        Width and height of the plotting area in inches; the figure adds the margins and
        the legend.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    ::

        fig = funnel_plot(res)                      # contour-enhanced, as metafor's
        fig = funnel_plot(res, filled=True)         # with trim-and-fill studies
        fig = res.funnel("funnel.svg", contour=False)
    """
    if yaxis not in YAXES:
        raise InputError(f"yaxis must be one of {', '.join(YAXES)}", column="yaxis")
    for attr in ("yi", "vi", "estimate", "measure", "level"):
        if not hasattr(res, attr):
            raise InputError(f"res is not a meta-analysis result (no '{attr}')", column="res")
    if getattr(res, "moderators", None) is not None:
        raise InputError("funnel plots of meta-regressions (residuals) are not supported; "
                         "pass a model without moderators", column="res")
    yi = np.asarray(res.yi, float)
    vi = np.asarray(res.vi, float)
    bad = np.flatnonzero(~np.isfinite(yi) | ~np.isfinite(vi) | (vi <= 0))
    if bad.size:
        raise InputError("funnel plot needs finite effects and positive variances",
                         column="vi", rows=bad.tolist())
    lv = _levels(levels)
    if filled is True:
        from drivervte.meta.trimfill import trimfill

        filled = trimfill(res)
    elif filled is False:
        filled = None
    fyi, fvi = filled_studies(filled) if filled is not None else (np.empty(0), np.empty(0))
    scale = make_scale(res.measure, transform=False)
    comparative = scale.measure in RATIO_MEASURES or scale.measure in DIFFERENCE_MEASURES
    draw_contour = bool(contour) and (comparative or refline is not None)
    centre = 0.0 if refline is None else float(refline)

    with style():
        left, bottom, right, top = 0.62, 0.48, 0.12 + (LEGEND_IN if legend else 0.0), \
            0.12 + (0.25 if title else 0.0)
        fig_w, fig_h = left + size[0] + right, bottom + size[1] + top
        fig = new_figure(fig_w, fig_h)
        ax = fig.add_axes((left / fig_w, bottom / fig_h, size[0] / fig_w, size[1] / fig_h))
        _draw(ax, res, yi, vi, fyi, fvi, yaxis=yaxis, lv=lv, draw_contour=draw_contour,
              centre=centre)
        has_adj = _adjusted_line(ax, filled) if filled is not None else False
        if scale.measure in RATIO_MEASURES and transform:
            _ratio_axis(ax)
            ax.set_xlabel(xlabel or make_scale(res.measure, True).label)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
            ax.set_xlabel(xlabel or scale.label)
        ax.set_ylabel(YAXES[yaxis])
        if legend:
            _legend(ax, lv, draw_contour, fyi.size > 0, has_adj, level_fraction(res.level))
        if title:
            fig.text(0.08 / fig_w, 1 - 0.08 / fig_h, title, ha="left", va="top",
                     weight="bold")
    return finish(fig, path, fmt)


def _draw(ax, res, yi, vi, fyi, fvi, *, yaxis, lv, draw_contour, centre) -> None:
    y_obs = _y_values(np.concatenate([vi, fvi]), yaxis)
    inverted = yaxis in ("sei", "vi")
    if inverted:
        top, bottom = 0.0, float(np.max(y_obs))
        bottom += 0.1 * (bottom - top) if bottom > top else 0.1
        grid = np.linspace(top, bottom, 400)
    else:
        lo, hi = float(np.min(y_obs)), float(np.max(y_obs))
        span = (hi - lo) if hi > lo else 0.2 * hi
        lo, hi = max(lo - 0.1 * span, 0.0), hi + 0.1 * span
        grid = np.linspace(lo, hi, 400)
        bottom, top = lo, hi
    level = level_fraction(res.level)
    est = float(res.estimate)
    # x range: the studies and the widest drawn region at the bottom of the plot
    xs = [yi, fyi, np.array(funnel_bounds(np.array([grid[-1] if inverted else grid[0]]),
                                          yaxis, est, level)).ravel()]
    if draw_contour:
        xs.append(np.array(funnel_bounds(np.array([grid[-1] if inverted else grid[0]]),
                                         yaxis, centre, lv[-1])).ravel())
    xs = np.concatenate(xs)
    xs = xs[np.isfinite(xs)]
    pad = 0.05 * (xs.max() - xs.min()) if xs.max() > xs.min() else 0.5
    xlim = (float(xs.min() - pad), float(xs.max() + pad))
    ax.set_xlim(*xlim)
    ax.set_ylim(bottom, top)  # sei/vi: largest at the bottom, 0 at the top

    if draw_contour:
        n = len(lv)
        ax.add_patch(Rectangle((xlim[0], min(bottom, top)), xlim[1] - xlim[0],
                               abs(top - bottom), facecolor=_SHADES[n], edgecolor="none",
                               zorder=0, gid="funnel-contour-outside"))
        for i in range(n - 1, -1, -1):  # widest region first
            left, right = funnel_bounds(grid, yaxis, centre, lv[i])
            ok = np.isfinite(left) & np.isfinite(right)
            pts = np.concatenate([np.column_stack([left[ok], grid[ok]]),
                                  np.column_stack([right[ok], grid[ok]])[::-1]])
            ax.add_patch(Polygon(pts, closed=True, facecolor=_SHADES[i], edgecolor="none",
                                 zorder=0, gid=f"funnel-contour-{_pct_label(lv[i])}"))
    else:
        left, right = funnel_bounds(grid, yaxis, est, level)
        pts = np.concatenate([np.column_stack([left, grid]),
                              np.column_stack([right, grid])[::-1]])
        ax.set_facecolor("#ececec")
        ax.add_patch(Polygon(pts, closed=True, facecolor="white", edgecolor="none", zorder=0))

    left, right = funnel_bounds(grid, yaxis, est, level)
    ax.plot(left, grid, color=INK, lw=0.7, ls=(0, (1.5, 1.5)), zorder=2, gid="funnel-triangle")
    ax.plot(right, grid, color=INK, lw=0.7, ls=(0, (1.5, 1.5)), zorder=2)
    ax.plot([est, est], [top, bottom], color=INK, lw=0.8, zorder=2, gid="funnel-estimate")

    y_studies = _y_values(vi, yaxis)
    for i, (x, y) in enumerate(zip(yi, y_studies, strict=True), start=1):
        ax.plot([x], [y], marker="o", markersize=4.2, color=MARK, markeredgecolor="white",
                markeredgewidth=0.4, linestyle="none", zorder=4, gid=f"funnel-study-{i}")
    if fyi.size:
        y_f = _y_values(fvi, yaxis)
        for i, (x, y) in enumerate(zip(fyi, y_f, strict=True), start=1):
            ax.plot([x], [y], marker="o", markersize=4.2, markerfacecolor="white",
                    markeredgecolor=INK, markeredgewidth=0.8, linestyle="none", zorder=4,
                    gid=f"funnel-filled-{i}")
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)


def _pct_label(level: float) -> str:
    return f"{100 * level:g}".replace(".", "_")


def _adjusted_line(ax, filled) -> bool:
    adj = _adjusted_estimate(filled)
    if adj is None:
        return False
    y0, y1 = ax.get_ylim()
    ax.plot([adj, adj], [y0, y1], color=INK, lw=0.8, ls="--", zorder=2,
            gid="funnel-adjusted-estimate")
    return True


def _ratio_axis(ax) -> None:
    lo, hi = ax.get_xlim()
    ticks = ratio_ticks(float(np.exp(lo)), float(np.exp(hi)))
    pos = [float(np.log(t)) for t in ticks]
    ax.xaxis.set_major_locator(FixedLocator(pos))
    ax.set_xticklabels([format_tick(t) for t in ticks])


def _legend(ax, lv, draw_contour, has_filled, has_adj, level) -> None:
    handles = [Line2D([], [], marker="o", color=MARK, markeredgecolor="white", ls="none",
                      markersize=4.2, label="Studies")]
    if has_filled:
        handles.append(Line2D([], [], marker="o", markerfacecolor="white",
                              markeredgecolor=INK, ls="none", markersize=4.2,
                              label="Imputed (trim and fill)"))
    handles.append(Line2D([], [], color=INK, lw=0.8, label="Pooled estimate"))
    if has_adj:
        handles.append(Line2D([], [], color=INK, lw=0.8, ls="--", label="Adjusted (trim and fill)"))
    handles.append(Line2D([], [], color=INK, lw=0.7, ls=(0, (1.5, 1.5)),
                          label=f"Pseudo {100 * level:g}% CI"))
    if draw_contour:
        alphas = [1 - v for v in lv]  # e.g. 0.10, 0.05, 0.01
        labels = [f"p ≥ {_p(alphas[0])}"]
        labels += [f"{_p(alphas[i + 1])} ≤ p < {_p(alphas[i])}" for i in range(len(alphas) - 1)]
        labels.append(f"p < {_p(alphas[-1])}")
        for i, lab in enumerate(labels):
            handles.append(Patch(facecolor=_SHADES[i], edgecolor="#9a9a9a", lw=0.4, label=lab))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0),
              borderaxespad=0.0, handlelength=1.6)


def _p(a: float) -> str:
    return f"{a:.3f}".rstrip("0").rstrip(".") if a < 0.1 - 1e-12 else f"{a:.2f}"
