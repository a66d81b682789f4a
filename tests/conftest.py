"""Shared test fixtures: the committed R reference files."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

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
