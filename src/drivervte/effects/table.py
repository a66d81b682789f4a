"""Effect sizes from a table of studies: recognise the input kind, validate, compute.

:func:`from_table` looks at the column names (case-insensitive) and picks the kind:

===========  ========================================  =========================  =========
kind         columns                                   measures                   default
===========  ========================================  =========================  =========
2x2          ``ai, bi, ci, di`` or ``ai, n1i, ci, n2i``  OR, RR, RD, PETO           OR
proportion   ``xi, ni`` or ``events, total``           PR, PLO, PLN, PAS, PFT     PLO
generic      ``yi, vi`` or ``yi, sei``                 any known but PFT          GEN
ratio_ci     ``estimate, lower, upper``                OR, RR, HR, SHR, IRR       required
pvalue       ``estimate, pvalue`` (or ``p``)           OR, RR, HR, SHR, IRR       required
===========  ========================================  =========================  =========

For generic input ``yi`` must already be on the model scale (log OR, log HR, logit, ...);
``measure`` only names it (and so chooses the back-transformation).

The first kind whose columns are all present wins, in the order of the table (so a table
with both a CI and a p-value uses the CI). An optional ``study`` column labels the rows
(default ``"Study 1"``, ``"Study 2"``, ...).

Validation (``InputError`` naming the column and the 1-based rows): missing columns,
non-numeric cells, negative or non-integer counts, events above the total, ``vi <= 0`` or
``sei <= 0``, ``lower > upper``, an estimate outside its CI, ratios ``<= 0``, p-values
outside (0, 1], and a measure that does not fit the input kind. A row with an empty cell in
a needed column is *excluded* and recorded in ``EffectSizes.excluded`` (never dropped
silently); if no row is left, ``InputError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from drivervte.effects.binary import BINARY_MEASURES, TO_OPTIONS, double_zero, escalc_2x2
from drivervte.effects.generic import (
    ASYMMETRY_THRESHOLD,
    RATIO_MEASURES,
    ci_asymmetry,
    from_pvalue,
    from_ratio_ci,
    parse_pvalue,
)
from drivervte.effects.proportions import PROPORTION_MEASURES, default_add, escalc_prop
from drivervte.effects.sizes import EffectSizes
from drivervte.effects.transforms import IDENTITY_MEASURES, LOG_MEASURES
from drivervte.errors import InputError

#: Recognised column sets, in order of preference.
KIND_COLUMNS: list[tuple[str, tuple[str, ...]]] = [
    ("2x2", ("ai", "bi", "ci", "di")),
    ("2x2", ("ai", "n1i", "ci", "n2i")),
    ("proportion", ("xi", "ni")),
    ("proportion", ("events", "total")),
    ("generic", ("yi", "vi")),
    ("generic", ("yi", "sei")),
    ("ratio_ci", ("estimate", "lower", "upper")),
    ("pvalue", ("estimate", "pvalue")),
    ("pvalue", ("estimate", "p")),
]

KIND_MEASURES: dict[str, tuple[str, ...] | None] = {
    "2x2": BINARY_MEASURES,
    "proportion": PROPORTION_MEASURES,
    # yi already on the model scale; the measure names it (and its back-transformation).
    # PFT is left out: its back-transformation needs the sample sizes.
    "generic": tuple(sorted((LOG_MEASURES | IDENTITY_MEASURES | {"PLO", "PAS"}) - {"PFT"})),
    "ratio_ci": RATIO_MEASURES,
    "pvalue": RATIO_MEASURES,
}
DEFAULT_MEASURE = {"2x2": "OR", "proportion": "PLO", "generic": "GEN"}


def _recognised() -> str:
    return "; ".join(", ".join(cols) for _, cols in KIND_COLUMNS)


def detect_kind(columns: list[str]) -> tuple[str, tuple[str, ...]]:
    """Return ``(kind, columns)`` for the first recognised column set in ``columns``.

    Column names are compared case-insensitively after stripping spaces.
    """
    have = {str(c).strip().lower() for c in columns}
    for kind, cols in KIND_COLUMNS:
        if all(c in have for c in cols):
            return kind, cols
    raise InputError(
        "cannot tell what the table holds from its columns "
        f"({', '.join(map(str, columns)) or 'none'}); recognised column sets: {_recognised()}",
    )


def _numeric(df: pd.DataFrame, name: str) -> np.ndarray:
    """Column as floats; empty cells become NaN, text that is not a number is an error."""
    col = df[name]
    num = pd.to_numeric(col, errors="coerce")
    blank = col.isna() | col.astype(str).str.strip().isin(["", "NA", "NaN", "nan", "None"])
    bad = num.isna() & ~blank
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy()).tolist()
        examples = ", ".join(repr(str(v)) for v in col[bad].head(3))
        raise InputError(f"cells are not numbers ({examples}); give plain numbers",
                         column=name, rows=rows)
    out = num.to_numpy(dtype=float)
    inf = ~np.isfinite(out) & ~np.isnan(out)
    if inf.any():
        raise InputError("infinite values; give finite numbers", column=name,
                         rows=np.flatnonzero(inf).tolist())
    return out


def _check(mask: np.ndarray, message: str, column: str) -> None:
    if np.any(mask):
        raise InputError(message, column=column, rows=np.flatnonzero(mask).tolist())


def _check_counts(vals: dict[str, np.ndarray], names: tuple[str, ...], ok: np.ndarray,
                  cmap: dict[str, str]) -> None:
    for n in names:
        v = vals[n]
        with np.errstate(invalid="ignore"):
            _check(ok & (v < 0), "negative counts; counts must be >= 0", cmap[n])
            _check(ok & (np.abs(v - np.round(v)) > 1e-9),
                   "counts must be whole numbers (events and totals, not percentages)", cmap[n])


def study_labels(values: Any | None, k: int) -> list[str]:
    """Study labels: the given values as stripped text, ``"Study i"`` where empty or absent."""
    if values is None:
        return [f"Study {i + 1}" for i in range(k)]
    out = []
    for i, v in enumerate(values):
        s = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
        out.append(s if s else f"Study {i + 1}")
    return out


def from_table(
    data: pd.DataFrame | Mapping[str, Any],
    measure: str | None = None,
    *,
    level: float = 95,
    add: float | None = None,
    to: str = "only0",
    drop00: bool = False,
) -> EffectSizes:
    """Compute effect sizes from a table whose columns say what it holds.

    Parameters
    ----------
    data:
        A DataFrame (or a mapping of column name -> values). See the module docstring for
        the recognised columns.
    measure:
        Effect measure; defaults per kind (OR for 2x2, PLO for proportions, GEN for yi/vi).
        Required for ``estimate`` tables (OR, RR, HR, SHR or IRR: it labels the ratio).
    level:
        Confidence level (percent) of reported intervals (ratio_ci input); a value below 1
        is read as a fraction (0.95 = 95%), as metafor does.
    add, to, drop00:
        metafor's zero-cell options (2x2 and proportions): ``add`` defaults to 1/2 (0 for
        PAS/PFT), ``to`` in ``"only0"`` (default), ``"all"``, ``"if0all"``, ``"none"``.
        ``drop00=False`` (default, as ``escalc``) keeps double-zero studies.

    Returns
    -------
    EffectSizes

    Raises
    ------
    InputError
        Naming the column and rows, for every problem listed in the module docstring.
    """
    df = pd.DataFrame(data) if not isinstance(data, pd.DataFrame) else data
    df = df.reset_index(drop=True)
    cmap: dict[str, str] = {}
    for c in df.columns:
        key = str(c).strip().lower()
        if key in cmap:
            raise InputError(f"two columns are both named '{key}' (ignoring case); rename one",
                             column=str(c))
        cmap[key] = c
    if len(df) == 0:
        raise InputError("the table has no rows")
    kind, cols = detect_kind(list(df.columns))
    m = _resolve_measure(kind, measure)
    if to not in TO_OPTIONS:
        raise InputError(f"to must be one of {', '.join(TO_OPTIONS)}", column="to")
    if add is not None and (isinstance(add, bool) or not isinstance(add, (int, float))
                            or not np.isfinite(add) or add < 0):
        raise InputError(f"add must be a number >= 0 (e.g. 0.5), got {add!r}", column="add")
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not (0 < level < 100):
        raise InputError("level must be a percentage between 0 and 100, e.g. 95",
                         column="level")
    if level < 1:  # metafor's .level(): 0.95 means 95%
        level = 100 * level
    study = study_labels(df[cmap["study"]] if "study" in cmap else None, len(df))

    vals: dict[str, np.ndarray] = {}
    ptype: np.ndarray | None = None
    for c in cols:
        if kind == "pvalue" and c in ("pvalue", "p"):
            vals[c], ptype = _pvalues(df[cmap[c]], c)
        else:
            vals[c] = _numeric(df, cmap[c])

    if cols == ("ai", "bi", "ci", "di"):
        for extra in ("n1i", "n2i"):
            if extra in cmap:
                vals[extra] = _numeric(df, cmap[extra])

    missing = np.zeros(len(df), dtype=bool)
    excluded: list[dict[str, Any]] = []
    for i in range(len(df)):
        gone = [c for c in cols if np.isnan(vals[c][i])]
        if gone:
            missing[i] = True
            excluded.append({"row": i, "study": study[i],
                             "reason": "missing value in " + ", ".join(cmap[c] for c in gone)})
    ok = ~missing
    if not ok.any():
        raise InputError("every row has a missing value in a needed column "
                         f"({', '.join(cmap[c] for c in cols)}); nothing to analyse")

    builder = {"2x2": _build_2x2, "proportion": _build_prop, "generic": _build_generic,
               "ratio_ci": _build_ratio_ci, "pvalue": _build_pvalue}[kind]
    res = builder(vals=vals, ok=ok, cmap=cmap, measure=m, level=level, add=add, to=to,
                  drop00=drop00, study=study, ptype=ptype)
    yi, vi = res["yi"], res["vi"]
    notes: list[str] = res.get("notes", [])

    # Rows whose effect size is undefined after computation (e.g. a zero cell with
    # to="none", a double-zero study with drop00=True): excluded with the reason.
    for i in np.flatnonzero(ok):
        reason = None
        if res.get("dropped00") is not None and res["dropped00"][i]:
            reason = "double-zero study (no events or no non-events in both groups), drop00=True"
        elif not (np.isfinite(yi[i]) and np.isfinite(vi[i])):
            reason = ("effect size undefined (zero cell without correction, to='none'); "
                      "use to='only0' or exclude the study")
        elif vi[i] <= 0:
            reason = ("sampling variance is 0 (proportion of 0 or 1 without correction); "
                      "use another measure or a zero-cell correction")
        if reason:
            ok[i] = False
            excluded.append({"row": int(i), "study": study[i], "reason": reason})
    if not ok.any():
        raise InputError("no study has a usable effect size: "
                         + "; ".join(f"row {e['row'] + 1}: {e['reason']}" for e in excluded))
    excluded.sort(key=lambda e: e["row"])
    keep = np.flatnonzero(ok)
    notes = notes + _duplicate_label_notes([study[i] for i in keep], keep)
    counts = res.get("counts")
    return EffectSizes(
        measure=m,
        yi=yi[keep],
        vi=vi[keep],
        study=[study[i] for i in keep],
        input_kind=kind,
        ni=None if res.get("ni") is None else res["ni"][keep],
        approximate=None if res.get("approximate") is None else res["approximate"][keep],
        counts=None if counts is None else {n: v[keep] for n, v in counts.items()},
        excluded=excluded,
        notes=notes,
        rows=keep,
    )


def _duplicate_label_notes(labels: list[str], rows: np.ndarray) -> list[str]:
    """A note for every study label used by more than one analysed row (1-based rows)."""
    seen: dict[str, list[int]] = {}
    for lab, r in zip(labels, rows, strict=True):
        seen.setdefault(lab, []).append(int(r) + 1)
    return [f"study label '{lab}' is used by rows {', '.join(map(str, rs))}; give each row "
            "its own label to tell them apart in the output"
            for lab, rs in seen.items() if len(rs) > 1]


def _resolve_measure(kind: str, measure: str | None) -> str:
    allowed = KIND_MEASURES[kind]
    if measure is None:
        if kind in DEFAULT_MEASURE:
            return DEFAULT_MEASURE[kind]
        raise InputError(
            f"say which ratio the estimates are with measure= (one of {', '.join(allowed)})",
            column="measure")
    if not isinstance(measure, str) or not measure.strip():
        raise InputError("measure must be a name such as 'OR'", column="measure")
    m = measure.strip().upper()
    if allowed is not None and m not in allowed:
        raise InputError(
            f"measure '{measure}' does not fit {kind} input; use one of {', '.join(allowed)}",
            column="measure")
    return m


def _pvalues(col: pd.Series, name: str) -> tuple[np.ndarray, np.ndarray]:
    p = np.full(len(col), np.nan)
    kinds = np.empty(len(col), dtype=object)
    bad = []
    for i, cell in enumerate(col):
        try:
            p[i], kinds[i] = parse_pvalue(cell)
        except ValueError:
            bad.append(i)
    if bad:
        raise InputError("p-values must be numbers such as 0.03 or bounds such as '<0.001'",
                         column=name, rows=bad)
    lower = np.array([k == "lower_bound" for k in kinds])
    _check(lower, "a p-value given as a lower bound ('>0.05') does not bound the standard "
           "error; give the exact p-value or the confidence interval", name)
    return p, kinds


def _zero_note(hit: np.ndarray, study: list[str], add: float, to: str) -> list[str]:
    if not hit.any() or add == 0:
        return []
    names = ", ".join(study[i] for i in np.flatnonzero(hit))
    return [f"zero-cell correction: added {add:g} to every cell of {int(hit.sum())} "
            f"table(s) (to='{to}'): {names}"]


def _build_2x2(*, vals, ok, cmap, measure, add, to, drop00, study, **_):
    a = vals["ai"]
    c = vals["ci"]
    if "bi" in vals:
        b, d = vals["bi"], vals["di"]
        _check_counts(vals, ("ai", "bi", "ci", "di"), ok, cmap)
        for n_name, ev, ne in (("n1i", a, b), ("n2i", c, d)):
            n_val = vals.get(n_name)  # both forms given: they must agree (as metafor checks)
            if n_val is not None:
                with np.errstate(invalid="ignore"):
                    _check(ok & (n_val != ev + ne), f"{n_name} differs from the sum of events "
                           "and non-events; fix the counts", cmap[n_name])
    else:
        _check_counts(vals, ("ai", "n1i", "ci", "n2i"), ok, cmap)
        _check(ok & (a > vals["n1i"]), "events (ai) exceed the group size n1i", cmap["ai"])
        _check(ok & (c > vals["n2i"]), "events (ci) exceed the group size n2i", cmap["ci"])
        b, d = vals["n1i"] - a, vals["n2i"] - c
    _check(ok & (a + b + c + d == 0), "table with no participants", cmap["ai"])
    add = 0.5 if add is None else float(add)
    aa, bb, cc, dd = (np.where(ok, x, np.nan) for x in (a, b, c, d))
    yi, vi, ni = escalc_2x2(aa, bb, cc, dd, measure, add=add, to=to, drop00=drop00)
    dz = double_zero(aa, bb, cc, dd)
    from drivervte.effects.binary import zero_cell_correct

    cells = [aa, bb, cc, dd]
    if drop00:
        cells = [np.where(dz, np.nan, x) for x in cells]
    _, hit = zero_cell_correct(cells, add, to)
    notes = _zero_note(hit & ok, study, add, to)
    if dz[ok].any() and not drop00:
        notes.append("double-zero studies kept with the zero-cell correction (drop00=False, as "
                     "metafor's escalc): " + ", ".join(study[i] for i in np.flatnonzero(dz)))
    return {"yi": yi, "vi": vi, "ni": ni, "notes": notes,
            "counts": {"ai": a, "bi": b, "ci": c, "di": d},
            "dropped00": dz if drop00 else None}


def _build_prop(*, vals, ok, cmap, measure, add, to, study, **_):
    xname, nname = ("xi", "ni") if "xi" in vals else ("events", "total")
    x, n = vals[xname], vals[nname]
    _check_counts(vals, (xname, nname), ok, cmap)
    _check(ok & (n <= 0), "group size must be > 0", cmap[nname])
    _check(ok & (x > n), "events exceed the total", cmap[xname])
    add = default_add(measure) if add is None else float(add)
    xx, nn = np.where(ok, x, np.nan), np.where(ok, n, np.nan)
    yi, vi, ni = escalc_prop(xx, nn, measure, add=add, to=to)
    from drivervte.effects.binary import zero_cell_correct

    _, hit = zero_cell_correct([xx, nn - xx], add, to)
    return {"yi": yi, "vi": vi, "ni": ni, "notes": _zero_note(hit & ok, study, add, to),
            "counts": {"xi": x, "ni": n}}


def _build_generic(*, vals, ok, cmap, **_):
    yi = vals["yi"]
    if "vi" in vals:
        _check(ok & (vals["vi"] <= 0), "sampling variances must be > 0", cmap["vi"])
        vi = vals["vi"]
    else:
        _check(ok & (vals["sei"] <= 0), "standard errors must be > 0", cmap["sei"])
        vi = vals["sei"] ** 2
    return {"yi": yi.copy(), "vi": vi.copy()}


def _build_ratio_ci(*, vals, ok, cmap, level, study, **_):
    est, lo, hi = vals["estimate"], vals["lower"], vals["upper"]
    for n in ("estimate", "lower", "upper"):
        _check(ok & (vals[n] <= 0), "ratios and their CI bounds must be > 0 (give the ratio, "
               "not its logarithm)", cmap[n])
    _check(ok & (lo > hi), "lower bound above the upper bound", cmap["lower"])
    _check(ok & (lo == hi), "the CI has zero width: its standard error would be 0",
           cmap["lower"])
    _check(ok & ((est < lo) | (est > hi)), "estimate lies outside its CI", cmap["estimate"])
    yi, vi = from_ratio_ci(est, lo, hi, level)
    asym = ci_asymmetry(est, lo, hi)
    notes = []
    for i in np.flatnonzero(ok & (asym > ASYMMETRY_THRESHOLD)):
        notes.append(
            f"row {i + 1} ({study[i]}): CI is asymmetric about the estimate on the log scale "
            f"(offset {asym[i]:.0%} of the half-width); the SE is taken from the CI width. "
            "Check the numbers, or the CI is not a Wald interval.")
    return {"yi": yi, "vi": vi, "notes": notes}


def _build_pvalue(*, vals, ok, cmap, study, ptype, **_):
    est = vals["estimate"]
    pname = "pvalue" if "pvalue" in vals else "p"
    p = vals[pname]
    _check(ok & (est <= 0), "ratios must be > 0 (give the ratio, not its logarithm)",
           cmap["estimate"])
    _check(ok & ((p <= 0) | (p > 1)), "p-values must lie in (0, 1]", cmap[pname])
    _check(ok & (p == 1), "p = 1 gives an infinite standard error; give the CI instead",
           cmap[pname])
    _check(ok & (est == 1), "an estimate of exactly 1 carries no standard error through its "
           "p-value; give the CI instead", cmap["estimate"])
    yi, vi = from_pvalue(est, p)
    notes = ["standard errors derived from two-sided p-values (z = qnorm(1 - p/2)) are "
             "approximate; these rows are flagged approximate=True"]
    bounds = [i for i in np.flatnonzero(ok) if ptype[i] == "upper_bound"]
    if bounds:
        notes.append("p-values given as upper bounds ('<p') used at the bound (conservative: "
                     "the largest SE the report allows): "
                     + ", ".join(f"row {i + 1} ({study[i]})" for i in bounds))
    return {"yi": yi, "vi": vi, "notes": notes, "approximate": np.ones(len(est), dtype=bool)}
