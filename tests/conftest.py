"""Shared test fixtures: the committed R reference files."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

import pytest
from hypothesis import settings

# CI explores a fixed set of examples (derandomized), so a run fails only for a change in
# the code; developers' runs stay random and keep finding new counterexamples, which are
# then fixed and pinned as explicit tests.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")

REFERENCE_DIR = Path(__file__).parent / "reference" / "fixtures"


@cache
def load_reference(name: str) -> dict:
    """Load ``tests/reference/fixtures/<name>.json`` (written by ``tests/reference/R/<name>.R``)."""
    path = REFERENCE_DIR / f"{name}.json"
    with path.open(encoding="utf-8") as fh:
        data = json.load(fh)
    meta = data.get("meta", {})
    for key in ("script", "R_version", "packages"):
        if key not in meta:
            raise AssertionError(f"{path}: fixture meta lacks '{key}' (provenance is required)")
    return data


@pytest.fixture
def reference():
    """The loader, as a fixture: ``reference("metafor_rma")``."""
    return load_reference
