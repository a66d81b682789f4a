"""Refitting Mantel-Haenszel and Peto models on a subset of their 2x2 tables (metafor
``leave1out.rma.mh`` / ``leave1out.rma.peto``, ``cumul.rma.mh`` / ``cumul.rma.peto``)."""

from __future__ import annotations

import warnings

import numpy as np

from drivervte.errors import InputError
from drivervte.meta._refit import RefitOutcome
from drivervte.meta.result import MetaResult

__all__ = ["count_labels", "refit_counts"]


def _counts(res: MetaResult) -> dict[str, np.ndarray]:
    c = res.counts
    if not c or any(key not in c for key in ("ai", "bi", "ci", "di")):
        raise InputError(f"this {res.method} result has no 2x2 counts to refit; fit it with "
                         "rma_mh / rma_peto", column="counts")
    s = res.settings or {}
    add, to = s.get("add", [0.5, 0.0]), s.get("to", ["only0", "none"])
    if float(add[1]) != 0 and to[1] != "none":
        raise InputError("the model was fitted with a continuity correction of the pooled "
                         "counts (second element of add/to); its stored counts are already "
                         "corrected and cannot be refitted exactly. Refit from the raw counts",
                         column="add")
    return {key: np.asarray(c[key], float) for key in ("ai", "bi", "ci", "di")}


def count_labels(res: MetaResult) -> list[str]:
    """Labels of the pooled 2x2 tables (the model's study labels when they match)."""
    n = len(_counts(res)["ai"])
    if len(res.study) == n:
        return list(res.study)
    return [f"row {i + 1}" for i in range(n)]


def refit_counts(res: MetaResult, sel) -> RefitOutcome:
    """Refit an MH/Peto model on the tables ``sel`` (boolean mask or positions)."""
    c = _counts(res)
    labels = count_labels(res)
    idx = np.flatnonzero(sel) if np.asarray(sel).dtype == bool else np.asarray(sel, int)
    s = res.settings or {}
    kw = {"level": res.level, "add": tuple(s.get("add", (0.5, 0.0))),
          "to": tuple(s.get("to", ("only0", "none"))),
          "drop00": tuple(s.get("drop00", (True, False))), "study": [labels[i] for i in idx]}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if str(res.method).upper() == "MH":
                from drivervte.meta.mantel_haenszel import rma_mh

                fit = rma_mh(c["ai"][idx], c["bi"][idx], c["ci"][idx], c["di"][idx],
                             measure=res.measure, correct=s.get("correct", True), **kw)
            else:
                from drivervte.meta.peto import rma_peto

                fit = rma_peto(c["ai"][idx], c["bi"][idx], c["ci"][idx], c["di"][idx], **kw)
        except InputError as exc:
            return RefitOutcome(None, problem=str(exc))
    notes = [str(w.message) for w in caught]
    notes += [w for w in fit.warnings if w not in notes]
    return RefitOutcome(fit, notes=notes)
