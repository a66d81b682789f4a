"""drivervte.survival: cohort tables, Kaplan-Meier, cumulative incidence, Gray's test, simulation.

- :mod:`.cohort`       :func:`read_table`, :func:`prepare_cohort`, :func:`prepare_cohort_from_dates`
- :mod:`.design`       :func:`design_matrix` (covariates -> numeric matrix, treatment dummies)
"""

from drivervte.survival.cohort import (
    Cohort,
    prepare_cohort,
    prepare_cohort_from_dates,
    read_table,
)
from drivervte.survival.design import design_matrix

__all__ = [
    "Cohort",
    "design_matrix",
    "prepare_cohort",
    "prepare_cohort_from_dates",
    "read_table",
]
