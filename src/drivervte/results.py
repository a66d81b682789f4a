"""The shared base of every result object.

A result is a frozen-or-not ``@dataclass`` that inherits :class:`Result`. It gets:

- ``to_dict()``: JSON-safe values (NumPy scalars and arrays become Python numbers and
  lists; NaN and infinities become ``None``); keys are the dataclass field names unless
  the subclass overrides ``to_dict``. Keys are a stable, documented interface.
- ``to_json()``: ``json.dumps(to_dict())`` with sorted keys, so the same numbers give
  byte-identical output.
- ``summary()``: a readable plain-text table; subclasses implement it, usually with
  :func:`format_table`.
- ``__str__`` is ``summary()``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def jsonable(value: Any) -> Any:
    """Convert ``value`` to plain JSON types: NaN/inf -> None, NumPy -> Python."""
    if isinstance(value, Result):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    return value


class Result:
    """Mixin for result dataclasses: ``summary()``, ``to_dict()``, ``to_json()``."""

    def to_dict(self) -> dict[str, Any]:
        if not dataclasses.is_dataclass(self):
            raise TypeError(f"{type(self).__name__} must be a dataclass")
        return {
            f.name: jsonable(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if not f.name.startswith("_") and f.repr
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True, allow_nan=False)

    def summary(self) -> str:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def __str__(self) -> str:
        return self.summary()


def fmt_num(x: Any, digits: int = 4) -> str:
    """Format a number for a summary table: fixed digits, 'NA' for missing/NaN."""
    if x is None:
        return "NA"
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(f):
        return "NA" if math.isnan(f) else ("Inf" if f > 0 else "-Inf")
    if f != 0 and (abs(f) < 10 ** (-digits) or abs(f) >= 1e7):
        return f"{f:.{digits}e}"
    return f"{f:.{digits}f}"


def fmt_p(p: Any) -> str:
    """Format a p-value as metafor does: '<.0001' below 1e-4."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "NA"
    p = float(p)
    return "<.0001" if p < 1e-4 else f"{p:.4f}"


def format_table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str | None = None
) -> str:
    """Render a plain-text table: first column left-aligned, others right-aligned."""
    cells = [[str(h) for h in headers]] + [
        [c if isinstance(c, str) else fmt_num(c) for c in row] for row in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r: Sequence[str]) -> str:
        return "  ".join(
            (c.ljust(w) if i == 0 else c.rjust(w)) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()

    out = []
    if title:
        out.append(title)
    out.append(line(cells[0]))
    out.append("  ".join("-" * w for w in widths))
    out.extend(line(r) for r in cells[1:])
    return "\n".join(out)
