"""A table of refitted models, one row per refit: the shared shape of leave-one-out and
cumulative results (metafor's ``list.rma`` from ``leave1out`` / ``cumul``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from drivervte.meta._refit import RefitOutcome
from drivervte.meta.result import MetaResult
from drivervte.results import Result, fmt_p, format_table, jsonable

__all__ = ["ROW_KEYS", "FitSeries", "series_from_fits"]

#: Keys of each row of ``to_dict()``.
ROW_KEYS = ("study", "estimate", "se", "statistic", "df", "pvalue", "ci_lower", "ci_upper",
            "Q", "Q_pvalue", "tau2", "I2", "H2", "converged", "note")

_NUM = ("estimate", "se", "statistic", "df", "pvalue", "ci_lower", "ci_upper", "Q",
        "Q_pvalue", "tau2", "I2", "H2")


@dataclass
class FitSeries(Result):
    """Rows of refitted models on the model scale (see subclasses for what a row is).

    Attributes are arrays of length k (``df`` is NaN for z-tests); ``notes[i]`` says why
    row ``i`` is NaN or what its refit warned about (``None`` if nothing).
    """

    study: list[str]
    estimate: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    df: np.ndarray
    pvalue: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    Q: np.ndarray
    Q_pvalue: np.ndarray
    tau2: np.ndarray
    I2: np.ndarray
    H2: np.ndarray
    converged: np.ndarray
    notes: list[str | None]
    method: str
    test: str
    level: float
    measure: str
    warnings: list[str] = field(default_factory=list)

    title: ClassVar[str] = "Refitted models"

    def rows(self) -> list[dict[str, Any]]:
        """One dict per row with the keys :data:`ROW_KEYS`."""
        out = []
        for i, s in enumerate(self.study):
            row: dict[str, Any] = {"study": s}
            for key in _NUM:
                row[key] = getattr(self, key)[i]
            row["converged"] = bool(self.converged[i])
            row["note"] = self.notes[i]
            out.append(row)
        return jsonable(out)

    def to_dict(self) -> list[dict[str, Any]]:  # type: ignore[override]
        """The rows (a list, see :meth:`rows`); the CLI prints it under its own key."""
        return self.rows()

    def to_frame(self):
        """The rows as a pandas DataFrame (NaN kept)."""
        import pandas as pd

        data = {"study": self.study}
        for key in _NUM:
            data[key] = np.asarray(getattr(self, key), float)
        data["converged"] = np.asarray(self.converged, bool)
        data["note"] = self.notes
        return pd.DataFrame(data)

    def summary(self) -> str:
        stat = "t" if self.test == "knha" else "z"
        rows = [[s, self.estimate[i], self.se[i], self.statistic[i], fmt_p(self.pvalue[i]),
                 self.ci_lower[i], self.ci_upper[i], self.Q[i], fmt_p(self.Q_pvalue[i]),
                 self.tau2[i], self.I2[i], self.H2[i]]
                for i, s in enumerate(self.study)]
        head = (f"{self.title}: {self.method}, test = {self.test}, level = "
                f"{self.level:g}%, measure {self.measure} (model scale)")
        table = format_table(["study", "estimate", "se", stat, "pval", "ci.lb", "ci.ub", "Q",
                              "Qp", "tau2", "I2", "H2"], rows, title=head)
        extra = [f"note (row {i + 1}): {n}" for i, n in enumerate(self.notes) if n]
        return "\n".join([table, *extra, *(f"warning: {w}" for w in self.warnings)])


def _num(x: Any) -> float:
    return math.nan if x is None else float(x)


def series_from_fits(cls, res: MetaResult, fits: list[RefitOutcome], labels: list[str],
                     **extra: Any):
    """Build a :class:`FitSeries` subclass from refit outcomes (NaN rows for failures)."""
    k = len(fits)
    cols = {key: np.full(k, np.nan) for key in _NUM}
    conv = np.zeros(k, bool)
    notes: list[str | None] = [None] * k
    for i, out in enumerate(fits):
        msgs = list(out.notes)
        if out.ok:
            f = out.fit
            vals = {"estimate": f.estimate, "se": f.se, "statistic": f.statistic,
                    "df": f.df, "pvalue": f.pvalue, "ci_lower": f.ci_lower,
                    "ci_upper": f.ci_upper, "Q": f.Q, "Q_pvalue": f.Q_pvalue, "tau2": f.tau2,
                    "I2": f.I2, "H2": f.H2}
            for key, v in vals.items():
                cols[key][i] = _num(v)
            conv[i] = True
        else:
            msgs.insert(0, out.problem or "refit failed")
        notes[i] = "; ".join(dict.fromkeys(msgs)) if msgs else None
    warn = []
    if not conv.all():
        warn.append(f"{int((~conv).sum())} refit(s) failed or did not converge; see notes")
    return cls(study=list(labels), **cols, converged=conv, notes=notes, method=res.method,
               test=res.test, level=res.level, measure=res.measure, warnings=warn, **extra)
