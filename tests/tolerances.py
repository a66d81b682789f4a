"""Named tolerances for reference tests, each with its reason.

The brief's bar is agreement with R to about 1e-6 (relative). Fixtures store R's doubles
with 15+ significant digits (jsonlite ``digits = NA``), so representation is not a limit.
"""

# Closed-form estimators (EE, DL, HE, SJ, MH, Peto, escalc, Kaplan-Meier, cuminc): only
# floating-point summation order differs from R.
RTOL_EXACT = 1e-10

# Iterative estimators (REML, ML, PM, EB, Newton fits of Cox / Fine-Gray): metafor and
# survival stop at a convergence threshold of ~1e-5..1e-9 on their own scale; we iterate
# to tighter tolerance, so differences are bounded by R's stopping rule, not ours.
RTOL_ITER = 1e-6

# Standard errors from iterative fits inherit the estimate's tolerance, amplified by the
# curvature of the likelihood near the optimum.
RTOL_SE = 1e-5

# Q-profile confidence bounds for tau^2 / I^2: metafor finds the root with uniroot
# (tol = .Machine$double.eps^0.25 by default; the fixture script tightens it to 1e-10),
# so agreement is limited by root-finding, not by the statistic.
RTOL_QPROFILE = 1e-5

# Absolute tolerance for quantities that can be exactly 0 (tau^2 at the boundary, I^2).
ATOL_ZERO = 1e-8
