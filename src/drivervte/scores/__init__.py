"""drivervte.scores: VTE risk scores with explicit units, and genotype-aware risk.

Research software, not a medical device.

- :func:`assess` -- one patient: points, group, published risk, gene-adjusted risk.
- :func:`score_table` -- the same for every row of a table (rows kept, in order).
- :data:`SCORES` -- the available scores (:data:`KHORANA`, :data:`VIENNA_CATS`).
- :func:`parse_quantity` -- values with units, converted exactly or refused.
"""

from drivervte.scores.assess import SCORES, RiskAssessment, assess, get_score
from drivervte.scores.khorana import KHORANA, VIENNA_CATS
from drivervte.scores.table import score_table
from drivervte.scores.units import parse_quantity

__all__ = ["KHORANA", "SCORES", "VIENNA_CATS", "RiskAssessment", "assess", "get_score",
           "parse_quantity", "score_table"]
