"""Helpers to inspect rendered SVG text in the plot tests."""

from __future__ import annotations

import re

from drivervte.plots import figure_to_svg


def svg_of(fig) -> str:
    """Inline SVG with <text> elements (labels searchable as plain text)."""
    return figure_to_svg(fig, text_as_paths=False)


def gids(svg: str, prefix: str) -> list[str]:
    """Element ids starting with ``prefix`` (exact ids, in document order)."""
    return re.findall(r'id="(' + re.escape(prefix) + r'[^"]*)"', svg)
