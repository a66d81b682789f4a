"""drivervte.survival: cohort tables, Kaplan-Meier, cumulative incidence, Gray's test, simulation.

- :mod:`.cohort`       :func:`read_table`, :func:`prepare_cohort`, :func:`prepare_cohort_from_dates`
- :mod:`.design`       :func:`design_matrix` (covariates -> numeric matrix, treatment dummies)
- :mod:`.kaplan_meier` :func:`kaplan_meier` (``survival::survfit``, log-log CIs)
- :mod:`.cuminc`       :func:`cumulative_incidence` (``cmprsk::cuminc`` / ``timepoints``)
- :mod:`.gray`         :func:`gray_test` (``cmprsk::cuminc`` ``$Tests``)
- :mod:`.simulate`     :func:`simulate_cohort` (synthetic NSCLC cohorts)

Imported from their own modules (they load SciPy/statsmodels, kept out of this package's
import): :class:`.finegray.FineGray` (``cmprsk::crr``; delayed entry as ``survival::finegray``;
:meth:`~.finegray.FineGray.predict`, see :mod:`.finegray_predict`), :class:`.cox.CoxPH`
(``survival::coxph``), :class:`.logistic.Logistic` (``glm``, Firth). Reading files:
:mod:`.tables`; declared cause codes: :mod:`.causes`.
"""

from drivervte.survival.cohort import (
    Cohort,
    prepare_cohort,
    prepare_cohort_from_dates,
    read_table,
)
from drivervte.survival.cuminc import CumIncResult, cumulative_incidence
from drivervte.survival.design import design_matrix
from drivervte.survival.gray import GrayTestResult, gray_test
from drivervte.survival.kaplan_meier import KaplanMeierResult, kaplan_meier
from drivervte.survival.simulate import simulate_cohort

__all__ = [
    "Cohort",
    "CumIncResult",
    "GrayTestResult",
    "KaplanMeierResult",
    "cumulative_incidence",
    "design_matrix",
    "gray_test",
    "kaplan_meier",
    "prepare_cohort",
    "prepare_cohort_from_dates",
    "read_table",
    "simulate_cohort",
]
