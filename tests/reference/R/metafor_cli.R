# Reference values for the end-to-end test of `drivervte meta` (tests/cli/test_meta_cli.py).
# Writes tests/cli/data/bcg.csv (metadat's dat.bcg as a 2x2 table, the input a user would
# have) and tests/reference/fixtures/metafor_cli.json with metafor's results on it.
# Run from the repository root: Rscript tests/reference/R/metafor_cli.R
suppressPackageStartupMessages({library(metafor); library(jsonlite)})

bcg <- metadat::dat.bcg
bcg$region <- ifelse(bcg$ablat >= 30, "high_latitude", "low_latitude")
tab <- data.frame(study = paste(bcg$author, bcg$year), ai = bcg$tpos, bi = bcg$tneg,
                  ci = bcg$cpos, di = bcg$cneg, ablat = bcg$ablat, region = bcg$region)
write.csv(tab, "tests/cli/data/bcg.csv", row.names = FALSE)

ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 1000)
dat <- escalc(measure = "RR", ai = ai, bi = bi, ci = ci, di = di, data = tab)
res <- rma(yi, vi, data = dat, method = "REML", test = "knha", control = ctrl)
ci <- confint(res, control = list(tol = 1e-12))
pr <- predict(res)
eg <- regtest(res, model = "lm")
rk <- ranktest(res)
tf <- trimfill(res, control = ctrl)  # trimfill refits without x$control: pass it
l1 <- leave1out(res)
mr <- rma(yi, vi, mods = ~ ablat, data = dat, method = "REML", test = "knha", control = ctrl)
sub <- lapply(split(seq_len(nrow(dat)), dat$region), function(i)
  rma(yi, vi, data = dat[i, ], method = "REML", test = "knha", control = ctrl))
qb <- rma(yi = sapply(sub, function(r) c(r$beta)), sei = sapply(sub, function(r) r$se),
          method = "EE")
mh <- rma.mh(ai = ai, bi = bi, ci = ci, di = di, data = tab, measure = "RR")

out <- list(
  meta = list(script = "tests/reference/R/metafor_cli.R", R_version = R.version.string,
              packages = list(metafor = as.character(packageVersion("metafor")),
                              metadat = as.character(packageVersion("metadat")),
                              jsonlite = as.character(packageVersion("jsonlite"))),
              generated = as.character(Sys.Date()), input = "tests/cli/data/bcg.csv"),
  cases = list(
    reml_knha = list(
      call = "rma(yi, vi, data = escalc('RR', ai, bi, ci, di), method = 'REML', test = 'knha')",
      estimate = c(res$beta), se = res$se, pvalue = res$pval, ci_lower = res$ci.lb,
      ci_upper = res$ci.ub, pi_lower = pr$pi.lb, pi_upper = pr$pi.ub, tau2 = res$tau2,
      tau2_ci_lower = ci$random["tau^2", "ci.lb"], tau2_ci_upper = ci$random["tau^2", "ci.ub"],
      I2 = res$I2, I2_ci_lower = ci$random["I^2(%)", "ci.lb"],
      I2_ci_upper = ci$random["I^2(%)", "ci.ub"], H2 = res$H2, Q = res$QE, Q_pvalue = res$QEp,
      yi = c(dat$yi), vi = c(dat$vi), weights = unname(weights(res)),
      egger_t = eg$zval, egger_p = eg$pval, begg_tau = unname(rk$tau), begg_p = rk$pval,
      trimfill_k0 = tf$k0, trimfill_side = tf$side, trimfill_estimate = c(tf$beta),
      trimfill_tau2 = tf$tau2, loo_estimate = l1$estimate, loo_tau2 = l1$tau2, loo_I2 = l1$I2,
      loo_Q = l1$Q),
    mods_ablat = list(
      call = "rma(yi, vi, mods = ~ ablat, data = dat, method = 'REML', test = 'knha')",
      coef = c(mr$beta), se = mr$se, QM = mr$QM, QM_pvalue = mr$QMp, R2 = mr$R2,
      tau2 = mr$tau2),
    subgroup_region = list(
      call = "per-region rma(REML, knha); rma(yi = estimates, sei = se, method = 'EE')",
      groups = lapply(sub, function(r) list(k = r$k, estimate = c(r$beta), ci_lower = r$ci.lb,
                                            ci_upper = r$ci.ub, tau2 = r$tau2, I2 = r$I2)),
      Q_between = qb$QE, Q_between_df = qb$k - 1, Q_between_pvalue = qb$QEp),
    mh_rr = list(
      call = "rma.mh(ai, bi, ci, di, measure = 'RR')",
      estimate = c(mh$beta), se = mh$se, ci_lower = mh$ci.lb, ci_upper = mh$ci.ub,
      Q = mh$QE, I2 = mh$I2)
  )
)
write_json(out, "tests/reference/fixtures/metafor_cli.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
