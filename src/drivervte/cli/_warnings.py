"""Python warnings in CLI commands: caught, then printed as clean ``warning: ...`` lines.

Without this, a warning raised while a command runs prints as Python's raw
``/path/to/file.py:123: ConvergenceWarning: ...`` line. Commands run their work inside
:func:`capture_warnings` and then call :func:`report_warnings`, which writes each distinct
message once to stderr as ``warning: <message>`` (no wrapping, no markup) and returns the
messages the result does not already carry, for the command to add to its JSON
``warnings``. :func:`emit_result` does both for the model commands (JSON or summary).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from drivervte.cli._common import out_console, print_json

__all__ = ["capture_warnings", "emit_result", "report_warnings"]


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


def emit_result(result: Any, caught: Iterable[warnings.WarningMessage], *, as_json: bool,
                extra: Any = None, key: str = "prediction") -> None:
    """Write a model command's output: with ``as_json`` the result's ``to_dict()`` (plus
    ``extra.to_dict()`` under ``key`` if given) with the caught warnings appended to its
    ``warnings``; otherwise ``summary()`` (and ``extra.summary()``). Warnings go to stderr
    as :func:`report_warnings` prints them."""
    if as_json:
        out = result.to_dict()
        out["warnings"] += report_warnings(caught, result.warnings, echo_carried=True)
        if extra is not None:
            out[key] = extra.to_dict()
        print_json(out)
        return
    out_console.print(result.summary(), markup=False)
    if extra is not None:
        out_console.print("\n" + extra.summary(), markup=False)
    report_warnings(caught, result.warnings, echo_carried=False)
