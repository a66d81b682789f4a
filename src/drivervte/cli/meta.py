"""``drivervte meta``: meta-analysis of a CSV of studies (wired in once the engine lands)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Nothing registered yet: the engine is being built (issue 2)."""
