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
  # rma.uni's Fisher scoring fails on these draws (slow: 558 steps; a 2-cycle); recorded as
  # errors, with the stepadj = 0.5 fit (tight threshold) as the converged value
  list(name = "fisher_slow", yi = c(0.14372548496781251, 0.55243689208562197, 0.29309460692569894, 0.45955342955709155, 0.39591946337100464, 0.11994301994914569, -0.016743382359815706, 0.71844767451597091, 0.49409010261371944, 0.32353182668852765, 0.39261125399373192, 0.76601162867120398, 0.66217179023352413, 0.20863033743107984, 0.13371253879650186, 0.42826934471169109, 0.2508553033012732, 0.38509602619728395, 0.31608397412472111, 0.24328886737305477),
       vi = c(0.17262895249998361, 0.054717425763715605, 0.038266151217784053, 0.053039070378015196, 0.038703435767481878, 0.0057114802614716851, 0.096134874192623662, 0.057385615256273781, 0.010351305094173086, 0.042745451782706494, 0.049487345972799669, 0.087112891938266115, 0.084517285051820157, 0.11472279589974878, 0.02200228120279234, 0.10133482585441196, 0.029709824719848711, 0.023845789404337913, 0.022556314408871521, 0.042689246326212522)),
  list(name = "fisher_2cycle", yi = c(-1.3890515782841493, -0.83547922918330431, -0.61666656016436339, -0.99049884964094026, -0.99384305168705867, -0.08715697619510783, -0.45271432018169327),
       vi = c(0.44464458127736267, 0.41963047756017308, 0.38357220833612282, 0.49369834794240974, 0.18552419439912704, 0.014988913175833705, 0.41844553246391686)),
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
  if (!is.null(out$REML$error)) {
    r <- rma.uni(yi = d$yi, vi = d$vi, method = "REML",
                 control = list(stepadj = 0.5, threshold = 1e-12, maxiter = 10000))
    out$REML_stepadj <- c(list(call = "rma.uni(yi, vi, method='REML', control=list(stepadj=0.5, threshold=1e-12, maxiter=10000))"), grab(r))
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
