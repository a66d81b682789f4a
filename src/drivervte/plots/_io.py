"""Saving figures: deterministic SVG, PNG, and inline SVG text for HTML reports.

Figures are built as bare :class:`matplotlib.figure.Figure` objects, never through
``pyplot``, so no global figure manager holds them: nothing is left open, and a figure is
freed as soon as the caller drops it. :func:`close_figure` exists for callers that did
register a figure with pyplot.

Determinism: the same figure gives byte-identical SVG. The SVG writer's ids are hashed with a
fixed ``svg.hashsalt``, the ``Date`` metadata is left out, and text is either glyph paths from
the bundled DejaVu Sans (the default for files: looks the same in every viewer and journal
system) or ``<text>`` elements (the default for inline SVG: smaller, selectable, searchable).
PNG files carry no software/date metadata either.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from matplotlib.figure import Figure

from drivervte.errors import InputError
from drivervte.plots._style import style

FORMATS = ("svg", "png", "pdf")

_SVG_METADATA = {"Date": None, "Creator": "drivervte (matplotlib)"}
_PNG_METADATA = {"Software": None}
_PDF_METADATA = {"CreationDate": None, "ModDate": None, "Creator": "drivervte", "Producer": None}


def _resolve_format(path: str | Path | None, fmt: str | None) -> str | None:
    if fmt is not None:
        fmt = fmt.lower().lstrip(".")
        if fmt not in FORMATS:
            raise InputError(
                f"unknown figure format '{fmt}'; use one of {', '.join(FORMATS)}", column="fmt"
            )
        return fmt
    if path is None:
        return None
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise InputError(
            f"cannot tell the figure format from '{path}': the file name must end in "
            f"{', '.join('.' + f for f in FORMATS)} (or pass fmt=...)",
            column="path",
        )
    return suffix


def _save_kwargs(fmt: str, dpi: float | None) -> dict:
    meta = {"svg": _SVG_METADATA, "png": _PNG_METADATA, "pdf": _PDF_METADATA}[fmt]
    kw: dict = {"format": fmt, "metadata": dict(meta), "facecolor": "white"}
    if fmt == "png":
        kw["dpi"] = dpi or 300
    return kw


def save_figure(
    fig: Figure,
    path: str | Path,
    *,
    fmt: str | None = None,
    dpi: float | None = None,
    text_as_paths: bool = True,
) -> Path:
    """Write ``fig`` to ``path`` as SVG, PNG or PDF; returns the path written.

    Parameters
    ----------
    fig:
        The figure.
    path:
        Target file; its suffix (``.svg``, ``.png``, ``.pdf``) picks the format unless
        ``fmt`` is given. Parent folders are created.
    fmt:
        Force a format.
    dpi:
        PNG resolution (default 300, the usual journal minimum for line art with text).
    text_as_paths:
        SVG only: glyph outlines (default; identical in every viewer) or ``<text>`` elements.
    """
    fmt = _resolve_format(path, fmt)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with style(**{"svg.fonttype": "path" if text_as_paths else "none"}):
        fig.savefig(out, **_save_kwargs(fmt, dpi))
    return out


def figure_to_svg(fig: Figure, *, text_as_paths: bool = False, xml_header: bool = False,
                  id_prefix: str | None = None) -> str:
    """The figure as SVG text, ready to inline in an HTML report.

    ``text_as_paths=False`` (default) keeps labels as ``<text>`` elements: searchable,
    selectable, a fraction of the size; the viewer's font stands in when DejaVu Sans is
    missing (the SVG names Arial/Helvetica fallbacks). ``xml_header=False`` drops the XML
    declaration and DOCTYPE, which are not allowed inside HTML. ``id_prefix`` (e.g.
    ``"fig3-"``) is put in front of every element id and every reference to one, so several
    figures inlined in one HTML page keep unique ids (``fig3-forest-study-1``).
    """
    buf = io.StringIO()
    with style(**{"svg.fonttype": "path" if text_as_paths else "none"}):
        fig.savefig(buf, **_save_kwargs("svg", None))
    text = buf.getvalue()
    if not xml_header:
        start = text.find("<svg")
        text = text[start:] if start >= 0 else text
    if id_prefix:
        text = prefix_svg_ids(text, id_prefix)
    return text


_ID_PREFIX_OK = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]*$")


def prefix_svg_ids(svg: str, prefix: str) -> str:
    """Prefix every ``id="..."`` and every ``#id`` reference (``href``, ``url(#...)``)."""
    if not _ID_PREFIX_OK.match(prefix):
        raise InputError("id_prefix must start with a letter and hold only letters, digits, "
                         "'-', '_', '.', ':'", column="id_prefix")
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r'(href=")#([^"]+)"', lambda m: f'{m.group(1)}#{prefix}{m.group(2)}"', svg)
    return re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)


def figure_to_png(fig: Figure, *, dpi: float | None = None) -> bytes:
    """The figure as PNG bytes (e.g. for a data: URI)."""
    buf = io.BytesIO()
    with style():
        fig.savefig(buf, **_save_kwargs("png", dpi))
    return buf.getvalue()


def close_figure(fig: Figure) -> None:
    """Release a figure that was registered with pyplot (no-op for drivervte's own)."""
    import matplotlib.pyplot as plt

    if plt.fignum_exists(getattr(fig, "number", -1)):
        plt.close(fig)


def finish(fig: Figure, path: str | Path | None, fmt: str | None) -> Figure:
    """Shared tail of every plot function: save when a path is given, return the figure."""
    if path is not None:
        save_figure(fig, path, fmt=fmt)
    elif fmt is not None:
        _resolve_format(None, fmt)  # validate even when nothing is written
    return fig
