"""drivervte: driver genes and venous thromboembolism (VTE) in non-small-cell lung cancer.

Research software, not a medical device. Sub-packages by domain:

- :mod:`drivervte.effects`  effect sizes from the inputs studies report (metafor ``escalc``)
- :mod:`drivervte.meta`     meta-analysis models (metafor ``rma``, ``rma.mh``, ``rma.peto``)
- :mod:`drivervte.survival` cumulative incidence, Gray's test, Fine-Gray, Cox, Kaplan-Meier
- :mod:`drivervte.scores`   VTE risk scores (Khorana and successors)
- :mod:`drivervte.evidence` the curated evidence base and its DuckDB store
- :mod:`drivervte.plots`    forest, funnel and cumulative-incidence plots
- :mod:`drivervte.report`   the review report (HTML + JSON)
- :mod:`drivervte.cli`      the ``drivervte`` command line (a thin layer over the API)
"""

__version__ = "0.1.0"

DISCLAIMER = (
    "drivervte is research software, not a medical device. Its numbers support research and "
    "must not be used on their own to make decisions about an individual patient's care."
)
