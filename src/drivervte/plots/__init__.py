"""drivervte.plots: forest, funnel and cumulative incidence plots (matplotlib, SVG/PNG/PDF).

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (nothing is
left open) and writes it when given a ``path``. SVG output is byte-identical for identical
input; :func:`figure_to_svg` gives inline SVG text for HTML reports.
"""

from drivervte.plots._io import close_figure, figure_to_png, figure_to_svg, save_figure
from drivervte.plots.cuminc import (
    cif_confidence_band,
    cumulative_incidence_plot,
    curves_from_prediction,
    curves_from_result,
    number_at_risk,
)
from drivervte.plots.forest import forest_plot
from drivervte.plots.funnel import funnel_plot

__all__ = [
    "cif_confidence_band",
    "close_figure",
    "cumulative_incidence_plot",
    "curves_from_prediction",
    "curves_from_result",
    "figure_to_png",
    "figure_to_svg",
    "forest_plot",
    "funnel_plot",
    "number_at_risk",
    "save_figure",
]
