"""Cumulative incidence curves (competing risks) with a number-at-risk table.

The plot takes plain arrays so it does not depend on the survival engine's classes:
``curves = {"ALK+": {"time": [...], "estimate": [...], "variance": [...]}, ...}`` (or
``"lower"``/``"upper"`` instead of ``"variance"``, or tuples ``(time, estimate[, variance])``).
The engine's results are turned into that form by :func:`curves_from_result`.

Curves are right-continuous steps that start at 0 at time 0 (``F(t)`` holds from one event
time up to the next), as ``plot.cuminc`` in cmprsk draws them.

Pointwise confidence bands, when variances are given, use the log(-log) transformation by
default (Choudhury 2002; Kalbfleisch & Prentice 2002), which keeps the band inside (0, 1):

.. math::

    F(t)^{\\exp(\\pm z_{1-\\alpha/2}\\, \\sqrt{V(t)} / (F(t) \\log F(t)))}

``ci_method="plain"`` gives ``F ± z sqrt(V)`` clipped to [0, 1].

SVG ids: ``cif-curve-<j>``, ``cif-band-<j>``, ``cif-atrisk-<j>`` (row label of group j) and
``cif-atrisk-<j>-<m>`` (count at the m-th time), 1-based.

References
----------
Choudhury JB (2002). Non-parametric confidence interval estimation for competing risks
analysis: application to contraceptive data. *Statistics in Medicine* 21(8):1129-1144.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, PercentFormatter
from matplotlib.transforms import blended_transform_factory
from scipy import stats

from drivervte.errors import InputError
from drivervte.plots._format import fmt_pvalue, level_fraction
from drivervte.plots._io import finish
from drivervte.plots._style import FONT_SIZE, LINESTYLES, PALETTE, new_figure, style
from drivervte.plots.forest import _text_width_in

_KEYS = {
    "time": ("time", "times", "t"),
    "estimate": ("estimate", "est", "cif", "cuminc"),
    "variance": ("variance", "var"),
    "lower": ("lower", "ci_lower", "lo"),
    "upper": ("upper", "ci_upper", "hi"),
    "end": ("end", "max_time", "tmax"),
}


def cif_confidence_band(estimate, variance, *, level: float = 0.95,
                        method: str = "log-log") -> tuple[np.ndarray, np.ndarray]:
    """Pointwise confidence limits of a cumulative incidence ``F`` with variance ``V``.

    ``method="log-log"`` (default): ``F^{exp(± z sqrt(V) / (F log F))}``; where ``F`` is 0
    or 1 the limits equal ``F`` (no information for a band there). ``method="plain"``:
    ``F ± z sqrt(V)`` clipped to [0, 1].
    """
    f = np.asarray(estimate, float)
    v = np.asarray(variance, float)
    if f.shape != v.shape:
        raise InputError("estimate and variance must have the same length", column="variance")
    z = stats.norm.ppf(0.5 + level_fraction(level) / 2.0)
    se = np.sqrt(np.clip(v, 0.0, None))
    if method == "plain":
        return np.clip(f - z * se, 0.0, 1.0), np.clip(f + z * se, 0.0, 1.0)
    if method != "log-log":
        raise InputError("ci_method must be 'log-log' or 'plain'", column="ci_method")
    from drivervte.survival.cuminc import cif_confint  # the engine's own (same formula)

    # exp() may overflow where F is near 1 with a large variance: the limit is then 0 (or 1),
    # which is what F ** inf and F ** 0 give.
    with np.errstate(over="ignore"):
        return cif_confint(f, v, level_fraction(level))


def curves_from_result(result: Any, cause: Any = None) -> dict[str, dict[str, Any]]:
    """Curves of one cause from :func:`drivervte.survival.cuminc.cumulative_incidence`.

    Returns ``{group: {"time", "estimate", "variance", "end"}}`` (``end`` = the group's
    last follow-up time, beyond which the curve is not drawn), ready for
    :func:`cumulative_incidence_plot`. ``cause`` defaults to the result's first cause.
    """
    causes = [str(c) for c in getattr(result, "causes", [])]
    if not hasattr(result, "curves") or not causes:
        raise InputError("not a cumulative incidence result (no curves/causes)",
                         column="curves")
    cause = causes[0] if cause is None else str(cause)
    if cause not in causes:
        raise InputError(f"cause '{cause}' not in the result; causes: {', '.join(causes)}",
                         column="cause")
    out = {}
    for group, by_cause in result.curves.items():
        c = by_cause[cause]
        out[str(group)] = {"time": np.asarray(c.times, float),
                           "estimate": np.asarray(c.estimate, float),
                           "variance": np.asarray(c.variance, float),
                           "end": float(c.max_time)}
    return out


def curves_from_prediction(prediction: Any, labels: Sequence[str] | None = None
                           ) -> dict[str, dict[str, Any]]:
    """Model-based curves from :meth:`drivervte.survival.finegray.FineGray.predict`.

    Returns ``{label: {"time", "estimate", "lower", "upper"}}`` (one curve per covariate
    profile, the prediction's limits as the band), ready for
    :func:`cumulative_incidence_plot`. For step curves predict at the fit's failure times
    (``fg.uftime_``). ``labels`` default to the profiles' values (``egfr=1, age=65``).
    """
    need = ("times", "estimate", "ci_lower", "ci_upper", "values")
    if not all(hasattr(prediction, k) for k in need):
        raise InputError("not a prediction (FineGray.predict result)", column="prediction")
    m = len(prediction.values)
    if labels is None:
        labels = [", ".join(f"{k}={v:g}" for k, v in vals.items()) or f"Profile {j + 1}"
                  for j, vals in enumerate(prediction.values)]
    labels = [str(lb) for lb in labels]
    if len(labels) != m or len(set(labels)) != m:
        raise InputError(f"labels must be {m} distinct names, one per profile",
                         column="labels")
    t = np.asarray(prediction.times, float)
    order = np.argsort(t, kind="stable")
    return {lb: {"time": t[order], "estimate": prediction.estimate[order, j],
                 "lower": prediction.ci_lower[order, j],
                 "upper": prediction.ci_upper[order, j]}
            for j, lb in enumerate(labels)}


def number_at_risk(followup, times) -> np.ndarray:
    """Number of subjects still under observation at each time: ``#{i: T_i >= t}``.

    ``followup`` are the observed times (event, competing event or censoring) of one group.
    """
    t = np.asarray(followup, float)
    if np.any(~np.isfinite(t)):
        raise InputError("follow-up times must be finite", column="time",
                         rows=np.flatnonzero(~np.isfinite(t)).tolist())
    at = np.asarray(times, float)
    return np.array([(t >= x).sum() for x in at], dtype=int)


def _get(curve: Any, key: str):
    for name in _KEYS[key]:
        if isinstance(curve, Mapping) and name in curve:
            return curve[name]
        if not isinstance(curve, Mapping) and hasattr(curve, name):
            return getattr(curve, name)
    return None


def _normalise(curves: Any) -> list[tuple[str, dict[str, np.ndarray | None]]]:
    if isinstance(curves, Mapping):
        items = [(str(k), v) for k, v in curves.items()]
    elif isinstance(curves, Sequence) and not isinstance(curves, str):
        items = [(f"Group {i + 1}", v) for i, v in enumerate(curves)]
    else:
        raise InputError("curves must be a mapping {group: curve} or a list of curves",
                         column="curves")
    if not items:
        raise InputError("curves is empty: give at least one group", column="curves")
    out = []
    for name, c in items:
        if isinstance(c, (tuple, list)):
            if len(c) not in (2, 3):
                raise InputError(f"curve '{name}': a tuple must be (time, estimate[, variance])",
                                 column="curves")
            c = dict(zip(("time", "estimate", "variance"), c, strict=False))
        time, est = _get(c, "time"), _get(c, "estimate")
        if time is None or est is None:
            raise InputError(f"curve '{name}' needs 'time' and 'estimate'", column="curves")
        d = {"time": np.asarray(time, float).ravel(), "estimate": np.asarray(est, float).ravel()}
        for key in ("variance", "lower", "upper"):
            v = _get(c, key)
            d[key] = None if v is None else np.asarray(v, float).ravel()
        end = _get(c, "end")
        d["end"] = None if end is None else float(end)
        _validate(name, d)
        out.append((name, d))
    return out


def _validate(name: str, d: dict) -> None:
    t, f = d["time"], d["estimate"]
    if t.size != f.size:
        raise InputError(f"curve '{name}': {t.size} times but {f.size} estimates",
                         column="estimate")
    for key in ("variance", "lower", "upper"):
        if d[key] is not None and d[key].size != t.size:
            raise InputError(f"curve '{name}': '{key}' must have one value per time",
                             column=key)
    bad = np.flatnonzero(~np.isfinite(t) | (t < 0))
    if bad.size:
        raise InputError(f"curve '{name}': times must be finite and >= 0", column="time",
                         rows=bad.tolist())
    bad = np.flatnonzero(np.diff(t) < 0) + 1
    if bad.size:
        raise InputError(f"curve '{name}': times must be sorted in increasing order",
                         column="time", rows=bad.tolist())
    bad = np.flatnonzero(~np.isfinite(f) | (f < 0) | (f > 1 + 1e-12))
    if bad.size:
        raise InputError(f"curve '{name}': estimates must be probabilities in [0, 1]",
                         column="estimate", rows=bad.tolist())
    bad = np.flatnonzero(np.diff(f) < -1e-10) + 1
    if bad.size:
        raise InputError(f"curve '{name}': a cumulative incidence cannot decrease",
                         column="estimate", rows=bad.tolist())


def _steps(t: np.ndarray, y: np.ndarray, end: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Step vertices from (0, 0), right-continuous, held to ``end``."""
    if t.size == 0 or t[0] > 0:
        t = np.concatenate([[0.0], t])
        y = np.concatenate([[0.0], y])
    if end is not None and end > t[-1]:
        t = np.concatenate([t, [end]])
        y = np.concatenate([y, [y[-1]]])
    return t, y


def cumulative_incidence_plot(
    curves: Any,
    path: str | Path | None = None,
    *,
    at_risk: Mapping[str, Sequence[int]] | bool | None = None,
    times: Sequence[float] | None = None,
    ci: bool = True,
    ci_method: str = "log-log",
    level: float = 0.95,
    xlabel: str = "Months",
    ylabel: str = "Cumulative incidence of VTE",
    percent: bool = True,
    ylim: tuple[float, float] | None = None,
    title: str | None = None,
    size: tuple[float, float] = (4.2, 2.8),
    cause: Any = None,
    gray_test: bool = True,
    fmt: str | None = None,
) -> Figure:
    """Step curves of cumulative incidence by group, with CI bands and a number-at-risk table.

    Parameters
    ----------
    curves:
        ``{group: {"time", "estimate"[, "variance" | "lower", "upper"][, "end"]}}`` or a
        list of such curves; tuples ``(time, estimate[, variance])`` work too. ``time`` are
        the jump times (sorted, >= 0), ``estimate`` the CIF just after each; ``end`` holds
        the last value out to the end of follow-up. A result of
        :func:`drivervte.survival.cuminc.cumulative_incidence` works directly (see ``cause``
        and :func:`curves_from_result`).
    path:
        Write the figure here (``.svg``, ``.png``, ``.pdf``).
    at_risk:
        ``{group: counts}``, one count per entry of ``times`` (see :func:`number_at_risk`),
        drawn as a table under the axis aligned with the x ticks. ``True`` with an engine
        result: counted from its data.
    times:
        x-axis ticks and the columns of the at-risk table (required with ``at_risk``); the
        last one is the right end of the axis (curves are cut there).
    ci:
        Shade pointwise confidence bands for curves that carry variances or limits.
    ci_method, level:
        Band transformation (``"log-log"`` or ``"plain"``, see :func:`cif_confidence_band`)
        and confidence level.
    xlabel, ylabel, percent, ylim, title:
        Axis labels; percent y-axis labels; y limits as fractions; title.
    size:
        Width and height of the plotting area in inches (margins and table are added).
    cause:
        With an engine result: the cause whose curves are drawn (default its first cause).
    gray_test:
        With an engine result that has Gray's test for that cause: print it in the lower
        right corner of the plot.
    fmt:
        Force the file format of ``path``.

    Examples
    --------
    ::

        from drivervte.survival.cuminc import cumulative_incidence
        ci = cumulative_incidence(months, status, group=alk)     # status 1 = VTE
        fig = cumulative_incidence_plot(ci, "cif.svg", at_risk=True, times=[0, 6, 12, 18, 24])
        curves = {"ALK+": {"time": [2, 5], "estimate": [0.05, 0.12]}}   # plain arrays work
        fig = cumulative_incidence_plot(curves)
    """
    note = None
    if hasattr(curves, "curves") and hasattr(curves, "causes"):  # engine result
        result = curves
        curves = curves_from_result(result, cause)
        gray_res = (getattr(result, "gray", {}) or {}).get(
            str(cause) if cause is not None else str(result.causes[0]))
        if gray_test and gray_res is not None and np.isfinite(gray_res.pvalue):
            note = (f"Gray's test: χ² = {gray_res.statistic:.2f} (df = {int(gray_res.df)}), "
                    f"{fmt_pvalue(gray_res.pvalue)}")
        if at_risk is True:
            if times is None:
                raise InputError("at_risk=True needs times", column="times")
            at_risk = {str(g): v for g, v in result.n_at_risk(times).items()}
    if at_risk is True:
        raise InputError("at_risk=True works with a cumulative incidence result only; give "
                         "{group: counts} (see number_at_risk)", column="at_risk")
    groups = _normalise(curves)
    names = [g for g, _ in groups]
    if at_risk is not None:
        if times is None:
            raise InputError("at_risk needs times: the times at which the counts were taken",
                             column="times")
        unknown = [g for g in at_risk if g not in names]
        if unknown:
            raise InputError(f"at_risk has groups not in curves: {', '.join(map(str, unknown))}",
                             column="at_risk")
        for g, counts in at_risk.items():
            if len(counts) != len(times):
                raise InputError(f"at_risk['{g}'] has {len(counts)} counts for {len(times)} "
                                 "times; give one count per time", column="at_risk")
    if times is not None:
        times = np.asarray(times, float)
        if np.any(~np.isfinite(times)) or np.any(np.diff(times) <= 0):
            raise InputError("times must be finite and strictly increasing", column="times")

    n_tab = len(at_risk) if at_risk else 0
    name_w = max([_text_width_in(g) for g in names] + [0.0]) if n_tab else 0.0
    count_w = max([_text_width_in(str(int(n)), size=FONT_SIZE - 0.5)
                   for c in (at_risk or {}).values() for n in c] + [0.0])
    left = max(0.62, name_w + count_w / 2 + 0.25)
    bottom = 0.5 + (_TABLE_GAP_IN + 0.17 * n_tab if n_tab else 0.0)
    top = 0.12 + (0.25 if title else 0.0)
    fig_w, fig_h = left + size[0] + 0.2, bottom + size[1] + top
    with style():
        fig = new_figure(fig_w, fig_h)
        ax = fig.add_axes((left / fig_w, bottom / fig_h, size[0] / fig_w, size[1] / fig_h))
        drawn: list[tuple[np.ndarray, np.ndarray]] = []  # (x, y) of everything plotted
        xmax = 0.0
        for j, (name, d) in enumerate(groups, start=1):
            color = PALETTE[(j - 1) % len(PALETTE)]
            ls = LINESTYLES[(j - 1) % len(LINESTYLES)]
            t, f = _steps(d["time"], d["estimate"], d["end"])
            ax.step(t, f, where="post", color=color, ls=ls, lw=1.3, label=name,
                    gid=f"cif-curve-{j}", zorder=3)
            drawn.append((t, f))
            xmax = max(xmax, float(t[-1]))
            band = _band(d, level, ci_method) if ci else None
            if band is not None:
                lo, hi = band
                tb, lob = _steps(d["time"], lo, d["end"])
                _, hib = _steps(d["time"], hi, d["end"])
                ax.fill_between(tb, lob, hib, step="post", color=color, alpha=0.15, lw=0,
                                gid=f"cif-band-{j}", zorder=2)
                drawn.append((tb, hib))
        if times is not None:  # the last time is the right end of the axis
            xmax = float(times[-1])
            ax.xaxis.set_major_locator(FixedLocator(times))
        ax.set_xlim(0, xmax * 1.02 if xmax > 0 else 1.0)
        # y range from what is visible (up to xmax): the top 13% stays free for the note
        ymax = max([float(np.nanmax(y[x <= xmax], initial=0.0)) for x, y in drawn] + [0.0])
        ax.set_ylim(*(ylim if ylim is not None else (0.0, min(1.0, max(ymax * 1.15, 0.05)))))
        if percent:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.legend(loc="upper left", handlelength=2.2)
        if note:
            ax.text(0.98, 0.98, note, transform=ax.transAxes, ha="right", va="top",
                    fontsize=FONT_SIZE - 0.5, gid="cif-gray-test",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})
        if n_tab:
            _risk_table(fig, ax, at_risk, names, times, bottom, count_w)
        if title:
            fig.text(0.08 / fig_w, 1 - 0.08 / fig_h, title, ha="left", va="top", weight="bold")
    return finish(fig, path, fmt)


def _band(d: dict, level: float, method: str):
    if d["lower"] is not None and d["upper"] is not None:
        return d["lower"], d["upper"]
    if d["variance"] is not None:
        return cif_confidence_band(d["estimate"], d["variance"], level=level, method=method)
    return None


_TABLE_GAP_IN = 0.32  # from the x-axis label down to the first row of the at-risk table


def _risk_table(fig, ax, at_risk, names, times, axes_bottom_in, count_w) -> None:
    """Counts centred under the x ticks; group names right-aligned left of the first column."""
    fig_w, fig_h = fig.get_figwidth(), fig.get_figheight()
    trans = blended_transform_factory(ax.transData, fig.transFigure)
    title_y = axes_bottom_in - 0.5 - 0.04
    fig.text(0.08 / fig_w, title_y / fig_h, "Number at risk", ha="left", va="top",
             weight="bold", fontsize=FONT_SIZE - 0.5)
    x_axis_left = ax.get_position().x0 * fig_w
    label_x = x_axis_left - count_w / 2 - 0.1
    row = 0
    for j, name in enumerate(names, start=1):
        if name not in at_risk:
            continue
        y = (title_y - 0.2 - row * 0.17) / fig_h
        color = PALETTE[(j - 1) % len(PALETTE)]
        fig.text(label_x / fig_w, y, name, ha="right", va="center", color=color,
                 fontsize=FONT_SIZE - 0.5, gid=f"cif-atrisk-{j}")
        for m, (t, n) in enumerate(zip(times, at_risk[name], strict=True), start=1):
            ax.text(t, y, f"{int(n)}", transform=trans, ha="center", va="center",
                    fontsize=FONT_SIZE - 0.5, gid=f"cif-atrisk-{j}-{m}", clip_on=False)
        row += 1
