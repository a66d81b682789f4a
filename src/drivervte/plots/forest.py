"""Forest plot of a meta-analysis, in the RevMan / metafor style.

Layout, left to right: study labels; the plot (squares sized by weight, CI lines, summary
diamonds, prediction-interval bar, null line); effect and CI as text on the back-transformed
scale; percent weight. Under the axis: heterogeneity, the test of the overall effect and,
with subgroups, the test for subgroup differences. The figure grows with the number of rows
and with the width of the text, so nothing is clipped or overlaps.

Every drawn element carries an SVG id (``gid``) so tests and reports can find it:
``forest-study-<i>`` (square of the i-th study, 1-based, in plot order), ``forest-ci-<i>``,
``forest-label-<i>``, ``forest-diamond-overall``, ``forest-diamond-group-<j>``,
``forest-pi-overall``, ``forest-heterogeneity-overall``, ``forest-heterogeneity-group-<j>``,
``forest-overall-test``, ``forest-subgroup-test``, ``forest-null-line``,
``forest-arrow-<i>-left|right`` (a CI clipped by the axis limits).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Polygon, Rectangle
from matplotlib.textpath import text_to_path
from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator
from matplotlib.transforms import blended_transform_factory

from drivervte.errors import InputError
from drivervte.plots._forest_rows import ForestTable, Row, build_table
from drivervte.plots._format import level_percent
from drivervte.plots._io import finish
from drivervte.plots._scale import Scale, auto_limits, format_tick, make_scale, ratio_ticks
from drivervte.plots._style import FONT_FAMILY, FONT_SIZE, GREY, INK, MARK, new_figure, style

ROW_IN = 0.2          # height of one text line, inches
MARGIN_IN = 0.15
GAP_IN = 0.15
FOOTER_LINE_IN = 0.17
MAX_SQUARE_PT = 10.0
MIN_SQUARE_PT = 3.0

_SHORT = {"OR": "OR", "PETO": "OR", "RR": "RR", "HR": "HR", "SHR": "SHR", "IRR": "IRR",
          "ROM": "ROM", "RD": "RD", "MD": "MD", "SMD": "SMD", "IRD": "IRD"}


def _text_width_in(text: str, *, bold: bool = False, size: float = FONT_SIZE) -> float:
    """Width of ``text`` (longest line) in inches, measured with the figure font."""
    if not text:
        return 0.0
    return max(_line_width_in(line, bold, size) for line in text.split("\n"))


@lru_cache(maxsize=4096)
def _line_width_in(line: str, bold: bool, size: float) -> float:
    fp = FontProperties(family=FONT_FAMILY, size=size, weight="bold" if bold else "normal")
    return text_to_path.get_text_width_height_descent(line, fp, ismath=False)[0] / 72.0


def forest_plot(
    res: Any,
    path: str | Path | None = None,
    *,
    subgroups: Any = None,
    transform: bool = True,
    show_weights: bool = True,
    show_pi: bool = True,
    xlim: tuple[float, float] | None = None,
    ref_line: float | None = None,
    title: str | None = None,
    labels: list[str] | None = None,
    favours: tuple[str, str] | None = None,
    xlabel: str | None = None,
    digits: int = 2,
    plot_width: float = 2.8,
    fmt: str | None = None,
) -> Figure:
    """Draw a forest plot of a meta-analysis.

    Parameters
    ----------
    res:
        The fitted model (:class:`drivervte.meta.result.MetaResult`) for all studies; its
        estimate is the overall diamond.
    path:
        Write the figure here (``.svg``, ``.png`` or ``.pdf``); the figure is returned either
        way. SVG output is byte-identical for identical input.
    subgroups:
        A subgroup analysis (``drivervte.meta.subgroup.subgroup_analysis`` result, or a
        mapping ``{group name: MetaResult}``): studies are listed group by group, each group
        with its own diamond, heterogeneity and test lines (weights within the group), then
        the overall diamond and the test for subgroup differences.
    transform:
        Draw and print on the back-transformed scale (odds ratio, proportion, ...; default)
        rather than the model scale (log odds ratio, logit, ...). Ratio measures get a
        logarithmic axis labelled in ratio units.
    show_weights:
        Show the percent-weight column.
    show_pi:
        Draw the prediction interval under the overall diamond (random-effects models,
        k >= 2, when the fit has a finite one).
    xlim:
        Axis limits in plotted units (ratio units for ratio measures). Intervals beyond them
        end in an arrow. Default: chosen so every point estimate and summary interval is
        visible and very wide study intervals are clipped (symmetric around 1 on a log axis).
    ref_line:
        Position of the null line in plotted units; default 1 for ratios, 0 for differences,
        none for proportions and rates.
    title:
        Title above the plot.
    labels:
        Study labels replacing the model's study names (same order and number).
    favours:
        ``("Favours mutation-negative", "Favours mutation-positive")``: printed under the
        axis, left and right of the null line.
    xlabel:
        Axis label; default the measure's name, e.g. "Odds ratio (log scale)".
    digits:
        Decimals of the printed effects.
    plot_width:
        Width of the plot column in inches.
    fmt:
        Force the file format of ``path`` (``"svg"``, ``"png"``, ``"pdf"``).

    Returns
    -------
    matplotlib.figure.Figure
        Not registered with pyplot: nothing stays open.

    Notes
    -----
    Study CIs use the normal quantile (as ``metafor::forest.rma``); the summary CI and the
    prediction interval are the model's own (t-based under Knapp-Hartung). Square areas are
    proportional to the study's weight (with subgroups: to its precision
    ``1/(v_i + tau²_group)``, so squares compare across groups). Studies with a non-finite
    estimate are listed as "not estimable" without a marker.

    Examples
    --------
    >>> import numpy as np
    >>> from drivervte.meta import fit_rma, subgroup_analysis
    >>> yi, vi = np.log([2.67, 3.06, 0.62, 1.86]), np.array([0.195, 0.14, 0.09, 0.022])
    >>> res = fit_rma(yi, vi, method="REML", measure="OR", study=["A", "B", "C", "D"])
    >>> fig = forest_plot(res, favours=("Lower VTE risk", "Higher VTE risk"))
    >>> sub = subgroup_analysis(yi, vi, ["EGFR", "EGFR", "ALK", "ALK"], measure="OR")
    >>> fig = forest_plot(res, subgroups=sub)  # or res.forest("forest.svg", subgroups=sub)
    """
    if plot_width <= 0.5:
        raise InputError("plot_width must be more than 0.5 inch", column="plot_width")
    scale = make_scale(getattr(res, "measure", "GEN"), transform)
    table = build_table(res, scale, subgroups=subgroups, labels=labels, digits=digits,
                        show_pi=show_pi)
    null = scale.null if ref_line is None else float(ref_line)
    if xlim is not None:
        xlim = _check_xlim(xlim, scale)
    with style():
        fig = _draw(table, res, scale, null=null, xlim=xlim, title=title, favours=favours,
                    xlabel=xlabel, show_weights=show_weights, plot_width=plot_width)
    return finish(fig, path, fmt)


def _check_xlim(xlim, scale: Scale) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in xlim)
    except (TypeError, ValueError) as exc:
        raise InputError("xlim must be two numbers (lower, upper)", column="xlim") from exc
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise InputError("xlim must be finite with lower < upper", column="xlim")
    if scale.log and lo <= 0:
        raise InputError("xlim must be positive on a ratio (log) axis, e.g. (0.1, 10)",
                         column="xlim")
    return lo, hi


def _layout_rows(rows: list[Row]) -> float:
    """Assign each row its centre (line units from the top, header = 0); returns the total."""
    y = 1.0  # line 0 is the column header
    for r in rows:
        r.y = y + (r.lines - 1) / 2.0
        y += r.lines if r.kind != "blank" else 0.6
    return y


def _draw(table: ForestTable, res: Any, scale: Scale, *, null, xlim, title, favours, xlabel,
          show_weights, plot_width) -> Figure:
    rows = table.rows
    n_lines = _layout_rows(rows)
    lvl = level_percent(res.level)
    short = _SHORT.get(scale.measure, "Proportion" if "Proportion" in scale.label
                       else scale.measure) if scale.transform else scale.label
    head_label, head_annot, head_weight = "Study", f"{short} [{lvl} CI]", "Weight"

    # ---- column widths from the text they hold
    label_w = max([_text_width_in(r.label, bold=r.bold) for r in rows
                   if r.kind in ("study", "group", "summary", "pi")]
                  + [_text_width_in(head_label, bold=True)]) + GAP_IN
    annot_w = max([_text_width_in(r.annotation, bold=r.bold) for r in rows]
                  + [_text_width_in(head_annot, bold=True)])
    weight_w = (max([_text_width_in(_fmt_weight(r.weight), bold=r.bold) for r in rows]
                    + [_text_width_in(head_weight, bold=True)]) if show_weights else 0.0)
    body_text_w = max([_text_width_in(r.label) for r in rows if r.kind == "text"] + [0.0])
    footer_w = max([_text_width_in(t) for _, t in table.footer] + [0.0])
    x_label = MARGIN_IN
    x_plot = x_label + label_w
    x_annot_right = x_plot + plot_width + GAP_IN + annot_w
    x_weight_right = x_annot_right + (GAP_IN + weight_w if show_weights else 0.0)
    fig_w = max(x_weight_right + MARGIN_IN, MARGIN_IN * 2 + footer_w,
                x_label + body_text_w + MARGIN_IN, 4.0)

    # ---- heights
    title_h = 0.3 if title else 0.08
    axis_h = 0.28 + 0.18 + (0.18 if favours else 0.0)
    footer_h = FOOTER_LINE_IN * len(table.footer) + 0.08
    body_h = (n_lines + 0.3) * ROW_IN
    fig_h = title_h + body_h + axis_h + footer_h

    fig = new_figure(fig_w, fig_h)
    ax = fig.add_axes((x_plot / fig_w, (axis_h + footer_h) / fig_h, plot_width / fig_w,
                       body_h / fig_h))
    ax.set_ylim(n_lines - 0.2, -0.5)
    ax.yaxis.set_major_locator(NullLocator())
    ax.spines["left"].set_visible(False)
    if scale.log:
        ax.set_xscale("log")

    lim = xlim if xlim is not None else _auto_xlim(rows, scale, null)
    ax.set_xlim(*lim)
    _set_ticks(ax, scale, lim)
    ax.set_xlabel(xlabel if xlabel is not None else scale.label,
                  labelpad=15 if favours else 3)

    fig_x = blended_transform_factory(fig.transFigure, ax.transData)
    fx = 1.0 / fig_w  # inches -> figure fraction

    # ---- header and rules
    hy = 0.0
    ax.text(x_label * fx, hy, head_label, transform=fig_x, ha="left", va="center",
            weight="bold")
    ax.text(x_annot_right * fx, hy, head_annot, transform=fig_x, ha="right", va="center",
            weight="bold")
    if show_weights:
        ax.text(x_weight_right * fx, hy, head_weight, transform=fig_x, ha="right",
                va="center", weight="bold")
    ax.plot([x_label * fx, (fig_w - MARGIN_IN) * fx], [0.55, 0.55], transform=fig_x,
            color=INK, lw=0.6, clip_on=False)

    # ---- null line: through studies and diamonds, not the header
    if null is not None and lim[0] < null < lim[1]:
        ax.vlines(null, 0.6, n_lines - 0.2, color=INK, lw=0.7, zorder=1,
                  gid="forest-null-line")

    wmax = max([r.size for r in rows if r.kind == "study" and r.size] + [0.0])
    for r in rows:
        if r.kind == "blank":
            continue
        if r.kind == "text":
            ax.text(x_label * fx + 0.12 * fx, r.y, r.label, transform=fig_x, ha="left",
                    va="center", fontsize=FONT_SIZE - 0.5, color="#333333", gid=r.gid,
                    zorder=5, bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6})
            continue
        indent = 0.12 if r.kind in ("study", "pi") and any(x.kind == "group" for x in rows) \
            else 0.0
        ax.text((x_label + indent) * fx, r.y, r.label, transform=fig_x, ha="left",
                va="center", weight="bold" if r.bold else "normal",
                gid=r.gid.replace("study", "label") if r.kind == "study" else None,
                linespacing=1.1)
        if r.annotation:
            ax.text(x_annot_right * fx, r.y, r.annotation, transform=fig_x, ha="right",
                    va="center", weight="bold" if r.bold else "normal")
        if show_weights and r.weight is not None and r.kind in ("study", "summary"):
            ax.text(x_weight_right * fx, r.y, _fmt_weight(r.weight), transform=fig_x,
                    ha="right", va="center", weight="bold" if r.bold else "normal")
        if r.kind == "study":
            _draw_study(ax, r, lim, wmax)
        elif r.kind == "summary":
            _draw_diamond(ax, r, lim)
        elif r.kind == "pi":
            _draw_pi(ax, r, lim)

    _draw_favours(ax, favours, null, lim)
    if title:
        fig.text(x_label * fx, 1 - 0.06 / fig_h, title, ha="left", va="top",
                 fontsize=FONT_SIZE + 1.5, weight="bold")
    for i, (gid, text) in enumerate(table.footer):
        fig.text(x_label * fx, (footer_h - 0.04 - (i + 0.5) * FOOTER_LINE_IN) / fig_h, text,
                 ha="left", va="center", gid=gid, fontsize=FONT_SIZE - 0.5)
    return fig


def _fmt_weight(w: float | None) -> str:
    return "" if w is None else f"{w:.1f}%"


def _auto_xlim(rows: list[Row], scale: Scale, null: float | None) -> tuple[float, float]:
    core = [r.est for r in rows if r.kind == "study"]
    core += [v for r in rows if r.kind == "summary" for v in (r.lo, r.hi)]
    if null is not None:
        core.append(null)
    full = core + [v for r in rows if r.kind in ("study", "pi") for v in (r.lo, r.hi)]
    return auto_limits(scale, np.asarray(core, float), np.asarray(full, float))


def _set_ticks(ax, scale: Scale, lim) -> None:
    if scale.log:
        ticks = ratio_ticks(*lim)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(_FixedLabels([format_tick(t) for t in ticks]))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))


class _FixedLabels(NullFormatter):
    def __init__(self, labels):
        self._labels = list(labels)

    def __call__(self, x, pos=None):
        return self._labels[pos] if pos is not None and pos < len(self._labels) else ""

    def format_ticks(self, values):
        return list(self._labels[: len(values)])


def _clip(v: float, lim) -> tuple[float, bool]:
    if not np.isfinite(v):
        return (lim[0] if v < 0 else lim[1]), True
    if v < lim[0]:
        return lim[0], True
    if v > lim[1]:
        return lim[1], True
    return v, False


def _arrow(ax, x: float, y: float, left: bool, gid: str, color=MARK) -> None:
    ax.plot([x], [y], marker="<" if left else ">", markersize=4.5, color=color,
            markeredgewidth=0, clip_on=False, gid=gid, zorder=4)


def _draw_study(ax, r: Row, lim, wmax: float) -> None:
    if not np.isfinite(r.est):
        return
    i = r.gid.rsplit("-", 1)[1]
    lo_v = r.lo
    if ax.get_xscale() == "log" and not lo_v > 0:
        lo_v = -np.inf  # exp() underflowed to 0: off the axis to the left
    lo, lo_cut = _clip(lo_v, lim)
    hi, hi_cut = _clip(r.hi, lim)
    ax.plot([lo, hi], [r.y, r.y], color=MARK, lw=0.9, solid_capstyle="butt",
            gid=f"forest-ci-{i}", zorder=2)
    if lo_cut:
        _arrow(ax, lim[0], r.y, True, f"forest-arrow-{i}-left")
    if hi_cut:
        _arrow(ax, lim[1], r.y, False, f"forest-arrow-{i}-right")
    if lim[0] <= r.est <= lim[1]:
        w = r.size if r.size is not None and wmax > 0 else None
        side = MAX_SQUARE_PT * np.sqrt(w / wmax) if w else MIN_SQUARE_PT * 1.5
        ax.plot([r.est], [r.y], marker="s", markersize=max(side, MIN_SQUARE_PT),
                color=MARK, markeredgewidth=0, linestyle="none", gid=r.gid, zorder=3)


def _draw_diamond(ax, r: Row, lim) -> None:
    h = 0.34
    lo, lo_cut = _clip(r.lo, lim)
    hi, hi_cut = _clip(r.hi, lim)
    est = min(max(r.est, lim[0]), lim[1])
    ax.add_patch(Polygon([(lo, r.y), (est, r.y - h), (hi, r.y), (est, r.y + h)], closed=True,
                         facecolor=INK, edgecolor=INK, lw=0.6, gid=r.gid, zorder=3))
    if lo_cut:
        _arrow(ax, lim[0], r.y, True, r.gid + "-arrow-left", color=INK)
    if hi_cut:
        _arrow(ax, lim[1], r.y, False, r.gid + "-arrow-right", color=INK)


def _draw_pi(ax, r: Row, lim) -> None:
    lo, lo_cut = _clip(r.lo, lim)
    hi, hi_cut = _clip(r.hi, lim)
    h = 0.13
    ax.add_patch(Rectangle((lo, r.y - h), hi - lo, 2 * h, facecolor="#c8c8c8",
                           edgecolor=GREY, lw=0.6, gid=r.gid, zorder=3))
    if lo_cut:
        _arrow(ax, lim[0], r.y, True, r.gid + "-arrow-left", color=GREY)
    if hi_cut:
        _arrow(ax, lim[1], r.y, False, r.gid + "-arrow-right", color=GREY)


def _draw_favours(ax, favours, null, lim) -> None:
    if not favours:
        return
    if len(favours) != 2:
        raise InputError("favours must be two labels: (left of the null, right of the null)",
                         column="favours")
    centre = null if null is not None and lim[0] < null < lim[1] else None
    if centre is None:
        centre = np.sqrt(lim[0] * lim[1]) if ax.get_xscale() == "log" else sum(lim) / 2
    kw = {"xycoords": ("data", "axes fraction"), "textcoords": "offset points", "va": "top",
          "fontsize": FONT_SIZE - 0.5, "style": "italic", "annotation_clip": False}
    ax.annotate(f"← {favours[0]}", xy=(centre, 0), xytext=(-4, -15), ha="right",
                gid="forest-favours-left", **kw)
    ax.annotate(f"{favours[1]} →", xy=(centre, 0), xytext=(4, -15), ha="left",
                gid="forest-favours-right", **kw)
