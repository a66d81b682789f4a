"""drivervte.scores: VTE risk scores with explicit units, and genotype-aware risk.

Research software, not a medical device.

- :func:`assess` -- one patient: points, group, published risk, gene-adjusted risk.
- :func:`score_table` -- the same for every row of a table (rows kept, in order).
- :data:`SCORES` -- the available scores: Khorana, Vienna CATS (:mod:`~drivervte.scores.khorana`),
  COMPASS-CAT, ONKOTEV, PROTECHT, CONKO and the Li 2021 NSCLC driver-gene score (one module
  each; what could not be verified against the papers is left out and said so there).
- :func:`parse_quantity` -- values with units, converted exactly or refused.
- :func:`validate_score` -- discrimination (IPCW AUC with competing risks, Wolbers' C),
  calibration and reclassification of a score on a cohort.
"""

from drivervte.scores.assess import SCORES, RiskAssessment, assess, get_score
from drivervte.scores.khorana import KHORANA, VIENNA_CATS
from drivervte.scores.table import score_table
from drivervte.scores.units import parse_quantity
from drivervte.scores.validation import validate_score

__all__ = ["KHORANA", "SCORES", "VIENNA_CATS", "RiskAssessment", "assess", "get_score",
           "parse_quantity", "score_table", "validate_score"]
