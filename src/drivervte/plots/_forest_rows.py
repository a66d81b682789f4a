"""The table behind a forest plot: one :class:`Row` per line, built from meta-analysis results.

Building the rows (what is shown) is kept apart from drawing them (:mod:`.forest`), so the
numbers a reader sees can be tested without rendering.

Study intervals are ``yi ± z_{1-α/2} sqrt(vi)`` with the normal quantile whatever the model's
test, as ``metafor::forest.rma`` draws them; they and the summary values are back-transformed
point by point (the transform is monotone), so an interval's ends stay its ends.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from drivervte.errors import InputError
from drivervte.plots._format import (
    fmt_ci,
    heterogeneity_text,
    is_random_effects,
    level_fraction,
    model_description,
    overall_test_text,
    subgroup_test_text,
)
from drivervte.plots._scale import DIFFERENCE_MEASURES, RATIO_MEASURES, Scale


@dataclass
class Row:
    """One line (or a few wrapped lines) of the forest table.

    ``kind``: ``"group"`` (subgroup heading), ``"study"``, ``"summary"`` (diamond), ``"pi"``
    (prediction interval bar), ``"text"`` (heterogeneity/test line), ``"blank"``.
    ``est/lo/hi`` are in plotted units; ``weight`` in percent.
    """

    kind: str
    label: str = ""
    est: float = float("nan")
    lo: float = float("nan")
    hi: float = float("nan")
    annotation: str = ""
    weight: float | None = None
    size: float | None = None  # marker area scale, comparable across subgroups
    gid: str = ""
    lines: int = 1
    bold: bool = False
    y: float = 0.0  # centre, in line units from the top (set by layout)


@dataclass
class ForestTable:
    rows: list[Row]
    footer: list[tuple[str, str]] = field(default_factory=list)  # (gid, text)
    n_studies: int = 0
    n_diamonds: int = 0


def study_intervals(yi, vi, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Normal-theory study CIs on the model scale: ``yi ∓ z sqrt(vi)`` (metafor ``forest``)."""
    yi = np.asarray(yi, float)
    vi = np.asarray(vi, float)
    z = stats.norm.ppf(0.5 + level_fraction(level) / 2.0)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(vi)
    return yi - z * se, yi + z * se


def _check_result(res: Any, what: str) -> None:
    if hasattr(res, "fits") and hasattr(res, "Q_between"):
        raise InputError(
            f"{what} is a subgroup analysis: pass the overall model as res and the subgroup "
            "result as subgroups=...", column="res")
    for attr in ("k", "measure", "method", "estimate", "ci_lower", "ci_upper", "yi", "vi",
                 "study", "level"):
        if not hasattr(res, attr):
            raise InputError(
                f"{what} is not a meta-analysis result (no '{attr}'); pass the MetaResult "
                "returned by fit_rma / mantel_haenszel / peto", column="res")
    if getattr(res, "moderators", None) is not None:
        raise InputError(
            "a forest plot needs a model without moderators: a meta-regression has no single "
            "summary estimate; plot subgroups with subgroups=... instead", column="res")


def _wrap(label: str, width: int) -> list[str]:
    label = str(label)
    if len(label) <= width:
        return [label]
    return textwrap.wrap(label, width=width, break_long_words=True) or [label]


def _study_rows(res: Any, scale: Scale, labels: Sequence[str] | None, digits: int,
                wrap: int, start: int) -> list[Row]:
    yi = np.asarray(res.yi, float)
    vi = np.asarray(res.vi, float)
    names = list(labels) if labels is not None else [str(s) for s in res.study]
    if len(names) != yi.size:
        raise InputError(
            f"labels has {len(names)} entries but the model has {yi.size} studies; give one "
            "label per study, in the model's order", column="labels")
    lo, hi = study_intervals(yi, vi, res.level)
    ni = getattr(res, "ni", None)
    est_t, lo_t, hi_t = (scale.values(v, ni=ni) for v in (yi, lo, hi))
    w = np.asarray(getattr(res, "weights", np.full(yi.size, np.nan)), float)
    # Marker areas: the percent weight times the model's total precision sum 1/(v_i + tau²),
    # i.e. 1/(v_i + tau²) itself for inverse-variance models; so squares compare across
    # subgroups (a lone study is not drawn as big as a group's most precise one).
    tau2 = float(getattr(res, "tau2", 0.0) or 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        total_precision = float(np.nansum(1.0 / (vi + (tau2 if np.isfinite(tau2) else 0.0))))
    rows = []
    for i in range(yi.size):
        wrapped = _wrap(names[i], wrap)
        ok = np.isfinite(est_t[i])
        rows.append(Row(
            kind="study", label="\n".join(wrapped), est=est_t[i], lo=lo_t[i], hi=hi_t[i],
            annotation=fmt_ci(est_t[i], lo_t[i], hi_t[i], digits) if ok else "not estimable",
            weight=float(w[i]) if i < w.size and np.isfinite(w[i]) else None,
            size=(float(w[i]) / 100.0 * total_precision
                  if i < w.size and np.isfinite(w[i]) and np.isfinite(total_precision)
                  else None),
            gid=f"forest-study-{start + i}", lines=len(wrapped),
        ))
    return rows


def _summary_rows(res: Any, scale: Scale, label: str, gid: str, digits: int,
                  show_pi: bool, weight_total: float | None) -> list[Row]:
    ni = getattr(res, "ni", None)
    est, lo, hi = scale.values([res.estimate, res.ci_lower, res.ci_upper], ni=ni)
    rows = [Row(kind="summary", label=label, est=est, lo=lo, hi=hi,
                annotation=fmt_ci(est, lo, hi, digits), weight=weight_total, gid=gid,
                bold=True)]
    pil, piu = getattr(res, "pi_lower", np.nan), getattr(res, "pi_upper", np.nan)
    if (show_pi and is_random_effects(res.method) and int(res.k) >= 2
            and pil is not None and piu is not None and np.isfinite([pil, piu]).all()):
        plo, phi = scale.values([pil, piu], ni=ni)
        from drivervte.plots._format import fmt_value

        rows.append(Row(kind="pi", label="Prediction interval", est=est, lo=plo, hi=phi,
                        annotation=f"[{fmt_value(plo, digits)}, {fmt_value(phi, digits)}]",
                        gid=gid.replace("diamond", "pi")))
    return rows


def _total_weight(res: Any) -> float | None:
    w = np.asarray(getattr(res, "weights", []), float)
    return float(np.nansum(w)) if w.size and np.isfinite(w).any() else None


def subgroup_parts(subgroups: Any) -> tuple[list[tuple[str, Any]], tuple[float, float, float] | None]:
    """Normalise a subgroup result to ``[(name, MetaResult), ...]`` and ``(Q, df, p)``.

    Accepts a :class:`drivervte.meta.subgroup.SubgroupResult` (per-group models in ``fits``,
    and ``Q_between``, ``Q_between_df``, ``Q_between_pvalue``) or a plain mapping
    ``{name: MetaResult}`` (then no test for subgroup differences is printed).
    """
    between = None
    if isinstance(subgroups, Mapping):
        groups = subgroups
    else:
        groups = getattr(subgroups, "fits", None)
        if groups is None:
            groups = getattr(subgroups, "groups", None)
        if groups is None:
            raise InputError(
                "subgroups must be a subgroup analysis result or a mapping {name: MetaResult}",
                column="subgroups")
        q = getattr(subgroups, "Q_between", None)
        df = getattr(subgroups, "Q_between_df", None)
        p = getattr(subgroups, "Q_between_pvalue", None)
        if q is not None and df is not None and p is not None:
            between = (float(q), float(df), float(p))
    if isinstance(groups, Mapping):
        items = [(str(k), v) for k, v in groups.items()]
    else:
        items = [(str(k), v) for k, v in groups]
    if not items:
        raise InputError("subgroups has no groups", column="subgroups")
    return items, between


def build_table(res: Any, scale: Scale, *, subgroups: Any = None, labels=None,
                digits: int = 2, show_pi: bool = True, wrap: int = 48) -> ForestTable:
    """Rows of the forest plot for ``res`` (and its ``subgroups``), plus footer lines."""
    _check_result(res, "res")
    rows: list[Row] = []
    footer: list[tuple[str, str]] = []
    # A test of "no effect" means something only for comparative measures; for a pooled
    # proportion it would test logit(p) = 0, i.e. p = 1/2, which nobody asked.
    comparative = scale.measure in RATIO_MEASURES or scale.measure in DIFFERENCE_MEASURES
    n_diamonds = 0
    next_study = 1
    if subgroups is None:
        rows += _study_rows(res, scale, labels, digits, wrap, next_study)
        next_study += len(rows)
    else:
        if labels is not None:
            raise InputError("labels cannot be combined with subgroups: each group's model "
                             "carries its own study names", column="labels")
        items, between = subgroup_parts(subgroups)
        for j, (name, gres) in enumerate(items, start=1):
            _check_result(gres, f"subgroup '{name}'")
            gname = _wrap(name, wrap)
            rows.append(Row(kind="group", label="\n".join(gname), bold=True,
                            gid=f"forest-group-{j}", lines=len(gname)))
            srows = _study_rows(gres, scale, None, digits, wrap, next_study)
            next_study += len(srows)
            rows += srows
            rows += _summary_rows(gres, scale, f"Subtotal ({model_description(gres)})",
                                  f"forest-diamond-group-{j}", digits, False,
                                  _total_weight(gres))
            n_diamonds += 1
            rows.append(Row(kind="text", label=heterogeneity_text(gres),
                            gid=f"forest-heterogeneity-group-{j}"))
            if comparative:
                rows.append(Row(kind="text", label=overall_test_text(gres),
                                gid=f"forest-test-group-{j}"))
            rows.append(Row(kind="blank"))
        if between is not None:
            footer.append(("forest-subgroup-test", subgroup_test_text(*between)))
    rows += _summary_rows(res, scale, f"Total ({model_description(res)})",
                          "forest-diamond-overall", digits, show_pi,
                          _total_weight(res) if subgroups is None else None)
    n_diamonds += 1
    if comparative:
        footer.insert(0, ("forest-overall-test", overall_test_text(res)))
    footer.insert(0, ("forest-heterogeneity-overall", heterogeneity_text(res)))
    for j, ex in enumerate(getattr(res, "excluded", []) or [], start=1):
        who = ex.get("study", ex.get("label")) if isinstance(ex, Mapping) else None
        if who is None and isinstance(ex, Mapping) and "row" in ex:
            who = f"row {int(ex['row']) + 1}"
        reason = ex.get("reason", "") if isinstance(ex, Mapping) else str(ex)
        footer.append((f"forest-excluded-{j}", f"Not included: {who or ''} ({reason})"))
    if getattr(res, "converged", True) is False:
        footer.append(("forest-not-converged",
                       "Warning: the model did not converge; its estimates are not reliable"))
    for w in getattr(res, "warnings", []) or []:
        footer.append(("forest-warning", f"Note: {w}"))
    return ForestTable(rows=rows, footer=footer, n_studies=next_study - 1,
                       n_diamonds=n_diamonds)
