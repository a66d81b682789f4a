"""Exceptions and warnings shared by every part of drivervte.

Every error raised on bad *input* is an :class:`InputError`: it names the column, the
rows (0-based positions in the table the user gave, reported 1-based in messages as
spreadsheets number them) and how to fix it. The CLI turns it into exit code 2.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class InputError(ValueError):
    """Bad input, found at the boundary.

    Parameters
    ----------
    message:
        What is wrong and how to fix it.
    column:
        The column (or argument) at fault, if any.
    rows:
        0-based row positions at fault, if any. The message shows them 1-based
        (data row 1 is the first row under a CSV header).
    """

    def __init__(
        self, message: str, *, column: str | None = None, rows: Iterable[int] | None = None
    ) -> None:
        self.column = column
        self.rows: list[int] = [int(r) for r in rows] if rows is not None else []
        self.reason = message
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = []
        if self.column is not None:
            # Command-line options are named as such ("option --level"), columns quoted.
            if self.column.startswith("-"):
                where.append(f"option {self.column}")
            elif self.column == "FILE":
                where.append("FILE")
            else:
                where.append(f"column '{self.column}'")
        if self.rows:
            where.append("row" + ("s " if len(self.rows) > 1 else " ") + _fmt_rows(self.rows))
        prefix = (", ".join(where) + ": ") if where else ""
        return prefix + self.reason


def _fmt_rows(rows: Sequence[int], limit: int = 10) -> str:
    shown = ", ".join(str(r + 1) for r in rows[:limit])
    if len(rows) > limit:
        shown += f", ... ({len(rows)} rows in all)"
    return shown


class NotFittedError(RuntimeError):
    """An estimator was used before ``fit`` was called."""


class ConvergenceWarning(UserWarning):
    """An iterative algorithm did not converge; the result says so in its fields."""


class SmallSampleWarning(UserWarning):
    """A method is applied with fewer studies or events than it needs to be reliable."""


class ConvergenceError(RuntimeError):
    """An iterative algorithm failed in a way that leaves no usable estimate."""
