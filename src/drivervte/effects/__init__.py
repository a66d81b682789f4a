"""Effect sizes from what studies report (metafor ``escalc``) and their back-transformations.

Public API
----------
- :func:`escalc` -- effect sizes from arrays (2x2 counts, proportions, yi/vi, ratio + CI,
  ratio + p-value), mirroring ``metafor::escalc``.
- :func:`from_table` -- the same from a table whose column names say what it holds.
- :class:`EffectSizes` -- the result.
- :func:`back_transform`, :func:`forward_transform`, :func:`scale_name` -- model scale to
  natural scale and back.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from drivervte.effects.sizes import EffectSizes
from drivervte.effects.table import detect_kind, from_table
from drivervte.effects.transforms import back_transform, forward_transform, scale_name

__all__ = [
    "EffectSizes",
    "back_transform",
    "detect_kind",
    "escalc",
    "forward_transform",
    "from_table",
    "scale_name",
]

_ARGS = ("ai", "bi", "ci", "di", "n1i", "n2i", "xi", "ni", "yi", "vi", "sei",
         "estimate", "lower", "upper", "pvalue")


def escalc(
    measure: str | None = None,
    *,
    ai: ArrayLike | None = None,
    bi: ArrayLike | None = None,
    ci: ArrayLike | None = None,
    di: ArrayLike | None = None,
    n1i: ArrayLike | None = None,
    n2i: ArrayLike | None = None,
    xi: ArrayLike | None = None,
    ni: ArrayLike | None = None,
    yi: ArrayLike | None = None,
    vi: ArrayLike | None = None,
    sei: ArrayLike | None = None,
    estimate: ArrayLike | None = None,
    lower: ArrayLike | None = None,
    upper: ArrayLike | None = None,
    pvalue: ArrayLike | None = None,
    study: list[str] | None = None,
    add: float | None = None,
    to: str = "only0",
    drop00: bool = False,
    level: float = 95,
) -> EffectSizes:
    """Effect sizes from arrays, as ``metafor::escalc(measure, ai=, bi=, ...)``.

    Give the arrays of one input kind (see :mod:`drivervte.effects.table`); the kind is
    recognised from which arrays are given, and the inputs are validated exactly as
    :func:`from_table` does (positions in errors are 0-based indices into the arrays).

    Examples
    --------
    >>> es = escalc("OR", ai=[4, 0], bi=[96, 50], ci=[2, 3], di=[98, 47])
    >>> round(float(es.yi[0]), 4)
    0.7138
    """
    given: dict[str, Any] = {}
    loc = locals()
    for name in _ARGS:
        if loc[name] is not None:
            val = loc[name]
            given[name] = [val] if np.ndim(val) == 0 and not isinstance(val, list) else val
    if study is not None:
        given["study"] = study
    lengths = {n: len(v) for n, v in given.items()}
    if len(set(lengths.values())) > 1:
        from drivervte.errors import InputError

        raise InputError("arrays differ in length: "
                         + ", ".join(f"{n}={m}" for n, m in lengths.items()))
    return from_table(given, measure, level=level, add=add, to=to, drop00=drop00)
