"""One house style for every drivervte figure, applied through :func:`style`.

The style is a ``matplotlib.rc_context``: nothing leaks into the user's own rcParams. Text is
DejaVu Sans (shipped with matplotlib, so layouts measured here are the same on every machine
and the Greek/superscript glyphs in "τ²" and "I²" exist), 8 pt as journals ask for in figures,
thin black axes, no top/right spines. ``svg.hashsalt`` is fixed so SVG ids (clip paths,
markers) are the same on every render.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import matplotlib

matplotlib.use("Agg", force=False)  # never an interactive backend; plots are files

import matplotlib as mpl

FONT_SIZE = 8.0
FONT_FAMILY = "DejaVu Sans"

#: Okabe-Ito palette: distinguishable by readers with colour-vision deficiency.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#F0E442"]
#: Line styles cycled with the palette so curves stay distinct when printed in grey.
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1))]

INK = "#1a1a1a"       # text, diamonds, axes
MARK = "#2b4c7e"      # study squares and CI lines
GREY = "#7f7f7f"

RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT_FAMILY],
    "font.size": FONT_SIZE,
    "axes.titlesize": FONT_SIZE + 1,
    "axes.labelsize": FONT_SIZE,
    "xtick.labelsize": FONT_SIZE,
    "ytick.labelsize": FONT_SIZE,
    "legend.fontsize": FONT_SIZE - 0.5,
    "axes.linewidth": 0.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 3.0,
    "ytick.major.size": 3.0,
    "xtick.minor.size": 1.5,
    "lines.linewidth": 1.0,
    "axes.edgecolor": INK,
    "text.color": INK,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "mathtext.default": "regular",
    "svg.hashsalt": "drivervte",
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
    "savefig.dpi": 300,
    "figure.dpi": 100,
}


@contextmanager
def style(**overrides: Any):
    """Apply the drivervte figure style (plus ``overrides``) for the duration of a block."""
    rc = dict(RC)
    rc.update(overrides)
    with mpl.rc_context(rc):
        yield


def new_figure(width: float, height: float):
    """A figure of ``width`` x ``height`` inches on an Agg canvas, never registered with pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig
