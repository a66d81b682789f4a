"""Python warnings in CLI commands: caught, then printed as clean ``warning: ...`` lines.

Without this, a warning raised while a command runs prints as Python's raw
``/path/to/file.py:123: ConvergenceWarning: ...`` line. Commands run their work inside
:func:`capture_warnings` and then call :func:`report_warnings`, which writes each distinct
message once to stderr as ``warning: <message>`` (no wrapping, no markup) and returns the
messages the result does not already carry, for the command to add to its JSON
``warnings``.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

__all__ = ["capture_warnings", "report_warnings"]


@contextmanager
def capture_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Record every warning raised inside the block (none reaches Python's printer)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def report_warnings(
    caught: Iterable[warnings.WarningMessage],
    carried: Iterable[str] = (),
    *,
    echo_carried: bool,
) -> list[str]:
    """Print warnings to stderr as ``warning: ...`` lines; return the ones not in ``carried``.

    Parameters
    ----------
    caught:
        Warnings recorded by :func:`capture_warnings`.
    carried:
        Messages the result already holds in its ``warnings`` field.
    echo_carried:
        Also print the ``carried`` messages (JSON output, where stdout is for the machine);
        in text output they are already in the summary on stdout, so they are not repeated.
    """
    carried = [str(m) for m in carried]
    extra: list[str] = []
    for w in caught:
        msg = str(w.message)
        if msg not in carried and msg not in extra:
            extra.append(msg)
    for msg in (carried if echo_carried else []) + extra:
        sys.stderr.write(f"warning: {msg}\n")
    return extra
