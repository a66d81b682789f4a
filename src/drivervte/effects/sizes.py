"""The :class:`EffectSizes` result: one effect size and its sampling variance per study."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from drivervte.results import Result, format_table, jsonable

INPUT_KINDS = ("2x2", "proportion", "generic", "ratio_ci", "pvalue")


@dataclass
class EffectSizes(Result):
    """Study effect sizes on the model scale, ready for a meta-analysis.

    ``to_dict()`` keys (stable): ``measure, input_kind, k, studies [{study, row, yi, vi, sei,
    ni, approximate}], counts ({name: list} or null), excluded [{row, study, reason}],
    notes [str]``. ``row`` is the 0-based position of the study in the input table;
    ``yi``/``vi`` are on the model scale (log ratio, logit, double arcsine, ...).

    Attributes
    ----------
    measure:
        metafor's measure name (``"OR"``, ``"RR"``, ``"RD"``, ``"PLO"``, ``"PFT"``, ``"HR"``, ...).
    yi, vi:
        Effect sizes and sampling variances (model scale), one per kept study.
    study:
        Study labels, aligned with ``yi``.
    ni:
        Total sample size per study (unadjusted counts, as metafor's ``attr(yi, "ni")``), or
        ``None`` when the input carries no counts.
    approximate:
        ``True`` where the standard error was derived from a p-value (approximate).
    counts:
        The (unadjusted) counts used: ``ai, bi, ci, di`` for 2x2 input, ``xi, ni`` for
        proportions; ``None`` for other kinds.
    input_kind:
        One of ``"2x2"``, ``"proportion"``, ``"generic"``, ``"ratio_ci"``, ``"pvalue"``.
    excluded:
        Rows left out, each ``{"row", "study", "reason"}``.
    notes:
        Things the reader should know (zero-cell corrections, asymmetric CIs, ...).
    rows:
        0-based positions in the input table of the kept studies.
    """

    measure: str
    yi: np.ndarray
    vi: np.ndarray
    study: list[str]
    input_kind: str
    ni: np.ndarray | None = None
    approximate: np.ndarray | None = None
    counts: dict[str, np.ndarray] | None = None
    excluded: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.yi = np.asarray(self.yi, dtype=float)
        self.vi = np.asarray(self.vi, dtype=float)
        k = self.yi.shape[0]
        if self.approximate is None:
            self.approximate = np.zeros(k, dtype=bool)
        else:
            self.approximate = np.asarray(self.approximate, dtype=bool)
        if self.rows is None:
            self.rows = np.arange(k)
        if self.ni is not None:
            self.ni = np.asarray(self.ni, dtype=float)

    @property
    def k(self) -> int:
        """Number of studies kept."""
        return int(self.yi.shape[0])

    @property
    def sei(self) -> np.ndarray:
        """Standard errors, ``sqrt(vi)``."""
        return np.sqrt(self.vi)

    def rma(self, method: str = "REML", **kwargs: Any):
        """Fit a random- or equal-effects model to these effect sizes.

        Calls :func:`drivervte.meta.rma.fit_rma` (metafor ``rma.uni``) with ``yi``, ``vi``,
        the study labels, the measure and ``ni``; ``kwargs`` pass through (``test``,
        ``level``, ...). Excluded rows and notes are carried into the result's
        ``excluded`` and ``warnings``.
        """
        from drivervte.meta.rma import fit_rma

        res = fit_rma(self.yi, self.vi, method=method, study=list(self.study),
                      measure=self.measure, ni=self.ni, **kwargs)
        res.excluded = list(self.excluded) + list(res.excluded)
        res.warnings = list(self.notes) + list(res.warnings)
        return res

    def to_dict(self) -> dict[str, Any]:
        studies = []
        for j in range(self.k):
            studies.append({
                "study": self.study[j],
                "row": int(self.rows[j]),
                "yi": jsonable(self.yi[j]),
                "vi": jsonable(self.vi[j]),
                "sei": jsonable(np.sqrt(self.vi[j])),
                "ni": None if self.ni is None else jsonable(self.ni[j]),
                "approximate": bool(self.approximate[j]),
            })
        return {
            "measure": self.measure,
            "input_kind": self.input_kind,
            "k": self.k,
            "studies": studies,
            "counts": None if self.counts is None else jsonable(self.counts),
            "excluded": jsonable(self.excluded),
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        rows = []
        for j in range(self.k):
            rows.append([
                self.study[j], self.yi[j], self.vi[j], float(np.sqrt(self.vi[j])),
                "" if self.ni is None else (int(self.ni[j]) if float(self.ni[j]).is_integer()
                                            else self.ni[j]),
                "approx" if self.approximate[j] else "",
            ])
        out = [format_table(
            ["study", "yi", "vi", "sei", "ni", ""], rows,
            title=f"Effect sizes: measure {self.measure}, input {self.input_kind}, k = {self.k}",
        )]
        for e in self.excluded:
            out.append(f"excluded: row {e['row'] + 1} ({e['study']}): {e['reason']}")
        for n in self.notes:
            out.append(f"note: {n}")
        return "\n".join(out)
