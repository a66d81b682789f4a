"""Validating a VTE risk score (or a user's predicted risk) on a cohort with competing risks.

:func:`validate_score` reads a cohort table (one row per patient: follow-up time, status
0 censored / 1 VTE / 2 death ..., and the score's items or a predicted-risk column) and
reports, at each requested time (in months when compared with published risks):

- **discrimination**: the IPCW time-dependent AUC with competing risks and its SE and Wald
  interval, exactly as ``riskRegression::Score(..., metrics = "auc", cens.model = "km",
  se.fit = TRUE)`` (:mod:`drivervte.scores.validation_auc`), and Wolbers' C-index
  (:mod:`drivervte.scores.validation_cindex`);
- **calibration**: observed Aalen-Johansen cumulative incidence per risk group (cmprsk
  variance) vs the published risk of the group or the mean predicted risk
  (:mod:`drivervte.scores.validation_calibration`);
- **gain from a second model** (the gene-adjusted risk with ``gene_column``, or a second
  predicted-risk column ``compare``): the AUC difference with its paired influence-function
  SE (``Score(list(a, b))``'s contrasts) and the continuous and category NRI
  (:mod:`drivervte.scores.validation_reclass`).

With ``bootstrap=B`` the C-index, the NRI and the AUC also get a nonparametric bootstrap SE
and percentile interval (:mod:`drivervte.scores.validation_bootstrap`: B resamples of the
patients, censoring weights and estimates recomputed in each, failed resamples counted).

Rows are never dropped silently: rows with a missing time or status, missing score items
(``points`` null) or a missing predicted risk are excluded and listed in ``excluded`` with
the reason. The marker of the AUC and C-index is the score's points (or the predicted
risk); a higher marker means a higher predicted risk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from drivervte import DISCLAIMER
from drivervte.errors import InputError
from drivervte.results import Result, fmt_num, format_table, jsonable
from drivervte.scores.assess import get_score
from drivervte.scores.validation_auc import CensoringKM, auc_competing, auc_difference
from drivervte.scores.validation_bootstrap import attach_bootstrap, check_bootstrap_options
from drivervte.scores.validation_calibration import calibration_table
from drivervte.scores.validation_cindex import cindex_competing_times
from drivervte.scores.validation_reclass import nri_competing_times
from drivervte.survival.cohort import read_table
from drivervte.survival.kaplan_meier import z_value

__all__ = ["ValidationResult", "validate_score"]

#: Default category cut-offs for the category NRI (risk at the horizon).
DEFAULT_NRI_CUTOFFS = (0.05, 0.10)


@dataclass
class ValidationResult(Result):
    """Validation of a risk score on a cohort with competing risks.

    ``to_dict()`` keys (stable):

    - ``score`` (name, or null with only ``--predicted``), ``marker`` (``"points"`` or the
      predicted-risk column), ``cause``, ``level``, ``times``;
    - ``n`` (rows used), ``n_input``, ``n_censored``, ``events`` {cause code: count} (the
      cause of interest always listed);
    - ``auc``: list of {time, estimate, se, lower, upper, n_cases, n_controls, reason}
      (riskRegression's Wald interval clipped to [0, 1]; ``reason`` says why a value is
      null);
    - ``cindex``: list of {time, estimate, comparable_pairs, weights, reason};
    - ``calibration``: list of {time, group, n, events, observed, observed_variance, lower,
      upper, expected} (``expected`` null where no published risk applies at that time);
    - ``comparison``: null, or {model, reference, rows, auc: [...]} (the second model's AUC);
    - ``delta_auc``: null, or list of {time, estimate, se, lower, upper, p, reason}
      (second model minus reference);
    - ``nri``: null, or list of {time, type, cutoffs, nri, nri_events, nri_nonevents, p_up,
      p_down, reason};
    - ``excluded``: list of {row, reason} (0-based rows of the input table);
    - ``warnings``: list of text; ``disclaimer``.

    With ``bootstrap = B > 0`` only (the keys are absent otherwise, so the default output is
    unchanged; :mod:`drivervte.scores.validation_bootstrap`):

    - each row of ``auc``, ``cindex`` and ``nri`` also has ``se_boot`` (SD of the defined
      replicates), ``ci_lower``, ``ci_upper`` (percentile interval at ``level``),
      ``bootstrap`` (B) and ``bootstrap_failed`` (replicates where the statistic was
      undefined, left out of the SD and the quantiles); the three numbers are null when the
      estimate itself is (its ``reason`` says why);
    - ``bootstrap``: {replicates, seed (the seed, or the entropy drawn when none was given:
      pass it as ``seed`` to repeat the run), level, interval ("percentile"), resampled}.
    """

    score: str | None
    marker: str
    cause: int
    level: float
    times: list[float]
    n: int
    n_input: int
    n_censored: int
    events: dict[str, int]
    auc: list[dict]
    cindex: list[dict]
    calibration: list[dict]
    comparison: dict | None
    delta_auc: list[dict] | None
    nri: list[dict] | None
    excluded: list[dict]
    warnings: list[str] = field(default_factory=list)
    disclaimer: str = DISCLAIMER
    _data: dict = field(default_factory=dict, repr=False)
    _bootstrap: dict | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        if self._bootstrap is not None:
            d["bootstrap"] = jsonable(self._bootstrap)
        return d

    def summary(self) -> str:
        pct = f"{100 * self.level:g}%"
        head = (f"Validation of {self.score or 'the predicted risk'} (marker: {self.marker}), "
                f"cause {self.cause}: n = {self.n} of {self.n_input} rows; censored "
                f"{self.n_censored}; events "
                + ", ".join(f"cause {k}: {v}" for k, v in self.events.items()))
        parts = [head]
        boot = self._bootstrap is not None
        rows = [[f"{a['time']:g}", a["estimate"], a["se"],
                 f"[{fmt_num(a['lower'])}, {fmt_num(a['upper'])}]", a["n_cases"],
                 a["n_controls"], c["estimate"]]
                + ([_ci(c)] if boot else [])
                for a, c in zip(self.auc, self.cindex, strict=True)]
        parts.append(format_table(["time", "AUC", "SE", f"{pct} CI", "cases", "controls",
                                   "Wolbers C"] + ([f"C {pct} CI*"] if boot else []), rows,
                                  title="Discrimination"))
        rows = [[r["group"], f"{r['time']:g}", r["n"], r["events"], r["observed"],
                 f"[{fmt_num(r['lower'])}, {fmt_num(r['upper'])}]", r["expected"]]
                for r in self.calibration]
        parts.append(format_table(["group", "time", "n", "events", "observed",
                                   f"{pct} CI", "expected"], rows, title="Calibration"))
        if self.delta_auc is not None and self.comparison is not None:
            rows = [[f"{d['time']:g}", a["estimate"], d["estimate"], d["se"],
                     f"[{fmt_num(d['lower'])}, {fmt_num(d['upper'])}]", d["p"]]
                    for d, a in zip(self.delta_auc, self.comparison["auc"], strict=True)]
            parts.append(format_table(
                ["time", "AUC new", "delta", "SE", f"{pct} CI", "p"], rows,
                title=f"AUC of {self.comparison['model']} minus {self.comparison['reference']}"))
        if self.nri:
            rows = [[f"{r['time']:g}", r["type"], r["nri"]] + ([_ci(r)] if boot else [])
                    + [r["nri_events"], r["nri_nonevents"]] for r in self.nri]
            parts.append(format_table(["time", "NRI", "total"]
                                      + ([f"{pct} CI*"] if boot else [])
                                      + ["events", "non-events"], rows,
                                      title="Net reclassification"))
        if self._bootstrap is not None:
            b = self._bootstrap
            parts.append(f"* bootstrap percentile interval: {b['replicates']} resamples of "
                         f"the patients (seed {b['seed']}); se_boot and failed resamples "
                         "per row in --json")
        if self.excluded:
            parts.append(f"excluded rows: {len(self.excluded)} (see excluded in --json)")
        parts.extend(f"warning: {w}" for w in self.warnings)
        parts.append(self.disclaimer)
        return "\n\n".join(parts)


def _ci(row: dict) -> str:
    return f"[{fmt_num(row.get('ci_lower'))}, {fmt_num(row.get('ci_upper'))}]"


# --- input ---------------------------------------------------------------------------------


def _column(df: pd.DataFrame, col: str, role: str) -> pd.Series:
    if col not in df.columns:
        raise InputError(f"no such column (given as {role}); the table has "
                         f"{list(map(str, df.columns))}", column=col)
    return df[col].reset_index(drop=True)


def _numbers(s: pd.Series, col: str, what: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s.dtype):
        raise InputError(f"{what} must be numbers, not yes/no", column=col)
    x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = np.isnan(x) & s.notna().to_numpy() & ~s.astype(str).str.strip().isin(
        ["", "NA", "na", "NaN", "nan"]).to_numpy()
    if bad.any():
        raise InputError(f"{what} must be numbers", column=col, rows=np.flatnonzero(bad))
    return x


def _risk_label(points: int, spec: Any) -> tuple[str, Any]:
    pub = spec.risk_of(points)
    if pub is None:
        return f"{points} (no published risk)", None
    if pub.high is None:
        return f">={pub.low}", pub
    return (f"{pub.low}" if pub.high == pub.low else f"{pub.low}-{pub.high}"), pub


def _sort_key(label: str) -> tuple[int, str]:
    digits = "".join(ch for ch in label.split(" ")[0].split("-")[0] if ch.isdigit())
    return (int(digits) if digits else 10**6, label)


_NO_GENE = {"", "none", "negative", "wild-type", "wildtype", "wt", "nan", "na"}


def _gene_adjusted(df: pd.DataFrame, gene_column: str, base: np.ndarray, rows: np.ndarray,
                   db: Any) -> tuple[np.ndarray, list[str]]:
    """Point estimate of the gene-adjusted risk per row (published risk where no gene).

    The same estimate as :func:`drivervte.scores.score_table`'s ``gene_risk`` (the pooled
    relative effect applied to the published risk: 1 - (1 - p)^HR, or the odds ratio on the
    logit scale), computed once per gene instead of per row (its Monte Carlo interval is not
    needed here).
    """
    from drivervte.scores.genotype import GENES, _apply, pooled_relative_effect

    genes = _column(df, gene_column, "gene_column").iloc[rows]
    key = np.asarray([("" if g is None or (isinstance(g, float) and np.isnan(g))
                       else str(g).strip().upper()) for g in genes], dtype=object)
    neg = np.asarray([k.lower() in _NO_GENE for k in key])
    unknown = np.flatnonzero(~neg & ~np.isin(key, list(GENES)))
    if unknown.size:
        raise InputError(f"unknown gene(s) {', '.join(sorted(set(key[unknown])))}; accepted: "
                         f"{', '.join(GENES)} or none/negative/wild-type", column=gene_column,
                         rows=rows[unknown])
    out = base.copy()
    notes = []
    applied = 0
    for g in sorted(set(key[~neg])):
        sel = (key == g) & ~np.isnan(base)
        eff, reason = pooled_relative_effect(g, db)
        if eff is None:
            notes.append(reason)
            continue
        with np.errstate(over="ignore"):
            out[sel] = _apply(base[sel], np.full(int(sel.sum()), eff.log_estimate), eff.measure)
        applied += int(sel.sum())
    notes.append(f"gene-adjusted risk applied to {applied} of {rows.size} rows (gene-positive "
                 "with a pooled effect); the published risk elsewhere")
    return out, notes


def validate_score(
    data: Any,
    *,
    time: str,
    status: str,
    score: str | None = "khorana",
    cause: int = 1,
    times: Sequence[float] = (3.0, 6.0, 12.0),
    column_map: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    predicted: str | None = None,
    gene_column: str | None = None,
    compare: str | None = None,
    nri_cutoffs: Sequence[float] | None = DEFAULT_NRI_CUTOFFS,
    n_groups: int = 4,
    level: float = 0.95,
    db: Any = None,
    bootstrap: int = 0,
    seed: int | None = None,
) -> ValidationResult:
    """Validate a score (or a predicted risk) at ``times``; see the module docstring.

    Parameters
    ----------
    data: a table (path or DataFrame, see :func:`drivervte.survival.cohort.read_table`).
    time, status: follow-up time (months, >= 0) and status (0 censored, codes >= 1 events).
    score: the score (``khorana``, ``vienna_cats``); its items are read from the table with
        ``column_map`` (item -> column) and ``units`` (item -> unit), as
        :func:`drivervte.scores.score_table`. Not computed when only ``predicted`` is used
        (unless ``gene_column`` needs it).
    cause: the event of interest; every other positive code is a competing event.
    predicted: a column of predicted risks (0..1) to validate instead of the score's points.
    gene_column: the driver-gene column; the second model is then the gene-adjusted risk
        (:func:`drivervte.scores.score_table`'s ``gene_risk``, the published risk where no
        gene effect applies), compared with the published risk.
    compare: a second predicted-risk column (0..1), compared with ``predicted`` (or with the
        published risk).
    nri_cutoffs: risk cut-offs of the category NRI (None: continuous NRI only).
    n_groups: calibration groups by quantiles of ``predicted`` (with ``predicted``).
    bootstrap: number B of nonparametric bootstrap resamples of the patients (0: none; else
        at least 2): adds bootstrap SEs and percentile intervals at ``level`` to the AUC,
        the C-index and the NRI rows (see :class:`ValidationResult`). The censoring weights
        and every estimate are recomputed in each resample; cost B times the estimation.
    seed: seed of ``numpy.random.default_rng`` for the resampling (same seed, same output);
        None draws fresh entropy, reported in the result's ``bootstrap.seed``.

    Raises
    ------
    InputError
        Unknown columns, non-numeric or negative times, non-integer or negative status
        codes, predicted risks outside [0, 1], unknown score, bad times, ``bootstrap``
        negative, 1 or not a whole number, ``seed`` not a whole number >= 0.
    """
    n_boot, seed_seq = check_bootstrap_options(bootstrap, seed)
    df = read_table(data).reset_index(drop=True)
    z_value(level)
    times = [float(t) for t in times]
    if not times:
        raise InputError("give at least one time", column="times")
    if any(not np.isfinite(t) or t <= 0 for t in times):
        raise InputError("times must be positive numbers", column="times")
    times = sorted(set(times))
    n_input = len(df)
    t_arr = _numbers(_column(df, time, "time"), time, "follow-up times")
    s_arr = _numbers(_column(df, status, "status"), status, "status codes")
    bad = np.flatnonzero(t_arr < 0)
    if bad.size:
        raise InputError("negative follow-up times; check the dates", column=time, rows=bad)
    ok_s = ~np.isnan(s_arr)
    bad = np.flatnonzero(ok_s & ((s_arr < 0) | (s_arr != np.round(np.nan_to_num(s_arr)))))
    if bad.size:
        raise InputError("status codes must be integers >= 0 (0 = censored)", column=status,
                         rows=bad)
    if int(cause) < 1:
        raise InputError("the cause must be a positive status code", column="cause")
    reasons: dict[int, str] = {}
    for i in np.flatnonzero(np.isnan(t_arr)):
        reasons[int(i)] = f"missing follow-up time ({time})"
    for i in np.flatnonzero(~ok_s):
        reasons.setdefault(int(i), f"missing status ({status})")
    warnings: list[str] = []

    spec = None
    scored = None
    need_score = score is not None and (predicted is None or gene_column is not None)
    if need_score:
        from drivervte.scores.table import score_table

        spec = get_score(score)
        scored = score_table(df, spec.name, column_map=column_map, units=units, db=db)
        for i in np.flatnonzero(scored["points"].isna().to_numpy()):
            reasons.setdefault(int(i), f"score items missing: {scored['missing'].iloc[i]}")

    def _risk_column(col: str, role: str) -> np.ndarray:
        x = _numbers(_column(df, col, role), col, "predicted risks")
        badr = np.flatnonzero(~np.isnan(x) & ((x < 0) | (x > 1)))
        if badr.size:
            raise InputError("predicted risks must be between 0 and 1 (not percent)",
                             column=col, rows=badr)
        for i in np.flatnonzero(np.isnan(x)):
            reasons.setdefault(int(i), f"missing predicted risk ({col})")
        return x

    pred = _risk_column(predicted, "predicted") if predicted is not None else None
    comp_col = _risk_column(compare, "compare") if compare is not None else None
    if pred is None and scored is None:
        raise InputError("give a score (--score) or a predicted-risk column (--predicted)",
                         column="score")

    keep = np.array([i not in reasons for i in range(n_input)], dtype=bool)
    excluded = [{"row": i, "reason": reasons[i]} for i in sorted(reasons)]
    if excluded:
        warnings.append(f"{len(excluded)} of {n_input} rows excluded (see excluded)")
    rows = np.flatnonzero(keep)
    tt, ss = t_arr[rows], s_arr[rows].astype(np.int64)
    n = int(rows.size)
    if n == 0:
        raise InputError("no row left to validate: every row was excluded ("
                         + "; ".join(sorted({e["reason"] for e in excluded})[:3]) + ")",
                         column=time)
    codes = sorted(set(ss.tolist()) - {0} | {int(cause)})
    events = {str(c): int(np.sum(ss == c)) for c in codes}
    if not np.any(ss == cause):
        warnings.append(f"no event of cause {cause} in the rows used: AUC, C-index and NRI "
                        "are undefined")
    if np.all(ss == 0):
        warnings.append("every row is censored")

    marker_name = predicted if pred is not None else "points"
    if pred is not None:
        marker = pred[rows]
    else:
        assert scored is not None
        marker = scored["points"].to_numpy(dtype=float, na_value=np.nan)[rows]
    if np.unique(marker).size == 1:
        warnings.append("the marker is constant: AUC = 0.5 and C = 0.5 by the 1/2 rule for ties")
    late_times = [t for t in times if t > tt.max()]
    if late_times:
        warnings.append(f"times {', '.join(f'{t:g}' for t in late_times)} are after the last "
                        f"follow-up ({tt.max():g}): the AUC and C there are those at the last "
                        "follow-up time")
    km = CensoringKM.fit(tt, ss)
    aucs = [auc_competing(tt, ss, marker, t, cause, level, km) for t in times]
    cidx = cindex_competing_times(tt, ss, marker, times, cause, "km", km)
    for e in (*aucs, *cidx):
        if e.reason:
            warnings.append(e.reason)

    # calibration groups and expected risks
    if pred is not None:
        if np.unique(marker).size > 1 and n_groups > 1:
            q = pd.qcut(pd.Series(marker), q=n_groups, duplicates="drop")
            labels_all = [f"Q{k + 1} ({max(c.left, 0.0):.3g}, {c.right:.3g}]"
                          for k, c in enumerate(q.cat.categories)]
            group = np.asarray([labels_all[k] for k in q.cat.codes], dtype=object)
        else:  # one group (constant marker or n_groups = 1)
            labels_all = [f"all ({marker.min():.3g}, {marker.max():.3g}]"]
            group = np.full(n, labels_all[0], dtype=object)
        expected = {g: {t: float(np.mean(marker[group == g])) for t in times}
                    for g in labels_all}
        order = labels_all
        warnings.append(f"expected = mean of {predicted} in each group, at every time: the "
                        "predicted risk is taken to be the risk at each time shown")
    else:
        assert spec is not None
        lab = [_risk_label(int(p), spec) for p in marker]
        group = np.asarray([lb for lb, _ in lab], dtype=object)
        pubs = {lb: pub for lb, pub in lab}
        expected = {g: {t: (pub.risk if pub is not None and t == float(pub.horizon_months)
                            else None) for t in times} for g, pub in pubs.items()}
        order = sorted(pubs, key=_sort_key)
        horizons = sorted({float(p.horizon_months) for p in spec.risks})
        if not set(horizons) & set(times):
            warnings.append(f"the published risks of {spec.name} are for "
                            f"{', '.join(f'{h:g}' for h in horizons)} months: add that time "
                            "to --times to compare observed with expected")
    if np.any(ss != 0):
        calibration, cal_warn = calibration_table(tt, ss, group, times, expected, cause,
                                                  level, order)
        warnings.extend(cal_warn)
    else:
        calibration = [{"time": t, "group": g, "n": int(np.sum(group == g)), "events": 0,
                        "observed": 0.0 if tt.max() >= t else float("nan"),
                        "observed_variance": 0.0 if tt.max() >= t else float("nan"),
                        "lower": float("nan"), "upper": float("nan"),
                        "expected": expected.get(g, {}).get(t)}
                       for g in order for t in times]

    # comparison of two models on the same rows
    comparison = delta = nri = None
    old = new = compared = None
    ref_name = new_name = ""
    if comp_col is not None:
        new, new_name = comp_col[rows], str(compare)
        if pred is not None:
            old, ref_name = marker, str(predicted)
    elif gene_column is not None and scored is not None:
        base = scored["risk"].to_numpy(dtype=float, na_value=np.nan)[rows]
        g_risk, gene_notes = _gene_adjusted(df, gene_column, base, rows, db)
        new, new_name = g_risk, f"gene-adjusted risk ({gene_column})"
        warnings.extend(gene_notes)
    if new is not None and old is None and scored is not None:
        old, ref_name = scored["risk"].to_numpy(dtype=float, na_value=np.nan)[rows], \
            "published risk"
    if new is not None and old is not None:
        sub = ~np.isnan(old) & ~np.isnan(new)
        if not sub.all():
            warnings.append(f"model comparison on the {int(sub.sum())} of {n} rows with both "
                            "risks (no published risk for the other rows' points)")
        ts_, ss_, o_, w_ = tt[sub], ss[sub], old[sub], new[sub]
        if ts_.size:
            km2 = CensoringKM.fit(ts_, ss_)
            a_old = [auc_competing(ts_, ss_, o_, t, cause, level, km2) for t in times]
            a_new = [auc_competing(ts_, ss_, w_, t, cause, level, km2) for t in times]
            comparison = {"model": new_name, "reference": ref_name, "rows": int(sub.sum()),
                          "auc": [a.as_dict() for a in a_new],
                          "reference_auc": [a.as_dict() for a in a_old]}
            delta = [auc_difference(b, a, level).as_dict() for a, b in zip(a_old, a_new,
                                                                             strict=True)]
            nri = nri_competing_times(ts_, ss_, o_, w_, times, cause)
            if nri_cutoffs is not None:
                nri += nri_competing_times(ts_, ss_, o_, w_, times, cause, nri_cutoffs)
            compared = sub
    elif compare is not None or gene_column is not None:
        warnings.append("no reference model for the comparison: give --predicted or a score")

    auc_rows = [a.as_dict() for a in aucs]
    c_rows = [c.as_dict() for c in cidx]
    boot_info = None
    if n_boot:
        assert seed_seq is not None
        boot_info = attach_bootstrap(
            {"AUC": auc_rows, "C-index": c_rows, "NRI": nri or []}, tt, ss, marker, times,
            int(cause), n_boot, seed_seq, level, warnings,
            *((old, new, compared, nri_cutoffs) if compared is not None else ()))
    return ValidationResult(
        score=spec.name if spec is not None else None, marker=marker_name, cause=int(cause),
        level=float(level), times=times, n=n, n_input=n_input,
        n_censored=int(np.sum(ss == 0)), events=events,
        auc=auc_rows, cindex=c_rows,
        calibration=calibration, comparison=comparison, delta_auc=delta, nri=nri,
        excluded=excluded, warnings=list(dict.fromkeys(warnings)),
        _data={"time": tt, "status": ss, "group": group, "order": order, "rows": rows},
        _bootstrap=boot_info,
    )

