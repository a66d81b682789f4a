"""Figures of the review report as inline SVG text.

Each function takes a result of :mod:`drivervte.evidence` and returns the SVG markup of a
figure drawn by :mod:`drivervte.plots` (deterministic: the same data give the same bytes), or
``None`` when the figure does not apply (a single study; fewer than
:data:`FUNNEL_MIN_K` studies for a funnel plot).
"""

from __future__ import annotations

from typing import Any

from drivervte.plots import figure_to_svg, forest_plot, funnel_plot
from drivervte.plots._io import close_figure

#: Funnel plots (and the tests that read them) need at least this many studies
#: (Cochrane Handbook 13.3.5.4).
FUNNEL_MIN_K = 10

_OUTCOME_WORDS = {
    "VTE": "venous thromboembolism",
    "TE": "thromboembolism (venous or arterial)",
    "PE": "pulmonary embolism",
    "DVT": "deep vein thrombosis",
    "ATE": "arterial thromboembolism",
    "recurrent_VTE": "recurrent VTE",
}


def outcome_words(outcome: str) -> str:
    """A readable name for an outcome code ('TE' -> 'thromboembolism (venous or arterial)')."""
    return _OUTCOME_WORDS.get(outcome, outcome)


def _svg(fig) -> str:
    try:
        return figure_to_svg(fig)  # no XML prolog: ready to sit inside HTML
    finally:
        close_figure(fig)


def pool_forest_svg(pool: Any) -> str | None:
    """Forest plot of a comparative pool (``PoolResult``) on the ratio scale."""
    if pool.main is None or pool.k < 2:
        return None
    gene = pool.gene
    title = (f"{gene}+ vs {pool.comparator_family.replace('vs_', '')}: "
             f"{outcome_words(pool.outcome)} ({pool.measure})")
    fig = forest_plot(pool.main, title=title, favours=(f"lower risk with {gene}+",
                                                       f"higher risk with {gene}+"))
    return _svg(fig)


def incidence_forest_svg(inc: Any) -> str | None:
    """Forest plot of the event proportion in gene-positive cohorts (``IncidenceResult``)."""
    if inc.main is None or inc.k < 2:
        return None
    title = f"{inc.gene}+ cohorts: proportion with {outcome_words(inc.outcome)}"
    return _svg(forest_plot(inc.main, title=title))


def pool_funnel_svg(pool: Any) -> str | None:
    """Contour-enhanced funnel plot of a pool with at least :data:`FUNNEL_MIN_K` studies."""
    if pool.main is None or pool.k < FUNNEL_MIN_K:
        return None
    return _svg(funnel_plot(pool.main))
