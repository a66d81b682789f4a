# Writes tests/reference/fixtures/metafor_batch.json: single rma.uni fits (REML, DL, EE) of
# 200 simulated meta-analyses (k = 5..30, seeded) and a few hard draws, for the batch fitter.
# Run from the repository root: Rscript tests/reference/R/metafor_batch.R
suppressPackageStartupMessages({ library(metafor); library(jsonlite) })

set.seed(20261126)
sims <- list()
for (b in 1:200) {
  k <- sample(5:30, 1)
  tau2 <- sample(c(0, 0, 0.01, 0.05, 0.2, 1), 1)
  vi <- rchisq(k, df = 3) / 60 + 0.005
  yi <- rnorm(k, mean = 0.3, sd = sqrt(vi + tau2))
  sims[[b]] <- list(name = sprintf("sim%03d", b), yi = yi, vi = vi)
}
hard <- list(
  list(name = "all_equal_yi", yi = rep(0.25, 6), vi = c(0.1, 0.2, 0.05, 0.3, 0.1, 0.07)),
  list(name = "extreme_vi_ratio", yi = c(0.1, 0.5, -0.3, 0.9, 0.2, 1.4),
       vi = c(1e-4, 10, 0.5, 50, 1e-3, 100)),
  list(name = "k2", yi = c(0.1, 0.9), vi = c(0.04, 0.05)),
  list(name = "k2_homogeneous", yi = c(0.1, 0.12), vi = c(0.04, 0.05)),
  list(name = "k1", yi = 0.4, vi = 0.02),
  list(name = "large_tau2", yi = c(-3, 2.5, 0.1, 4, -2, 1), vi = c(0.01, 0.02, 0.01, 0.03, 0.02, 0.01)),
  list(name = "tiny_vi", yi = c(0.0101, 0.0102, 0.0099, 0.0100, 0.0103),
       vi = c(1e-8, 2e-8, 1e-8, 3e-8, 2e-8))
)
grab <- function(r) {
  list(tau2 = r$tau2, se_tau2 = if (is.null(r$se.tau2)) NA else r$se.tau2,
       beta = c(r$beta), se = r$se, zval = r$zval, pval = r$pval, ci_lb = r$ci.lb,
       ci_ub = r$ci.ub, QE = r$QE, QEp = r$QEp, I2 = r$I2, H2 = r$H2)
}
cases <- list()
for (d in c(sims, hard)) {
  out <- list()
  for (m in c("REML", "DL", "EE")) {
    r <- tryCatch(rma.uni(yi = d$yi, vi = d$vi, method = m), error = function(e) e)
    out[[m]] <- if (inherits(r, "error")) list(error = conditionMessage(r)) else grab(r)
  }
  cases[[length(cases) + 1]] <- list(name = d$name,
    call = "rma.uni(yi=yi, vi=vi, method=m) for m in REML, DL, EE (default control)",
    yi = d$yi, vi = d$vi, output = out)
}
out <- list(
  meta = list(script = "tests/reference/R/metafor_batch.R", R_version = R.version.string,
              packages = list(metafor = as.character(packageVersion("metafor"))),
              generated = as.character(Sys.Date()), seed = 20261126),
  cases = cases)
write_json(out, "tests/reference/fixtures/metafor_batch.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
cat("wrote", length(cases), "cases\n")
