# Reference fixture for drivervte.evidence.synthesis / tables: the pools of the shipped
# evidence base (src/drivervte/data/evidence.yaml) refitted with metafor.
#
# Run from the repository root:  Rscript tests/reference/R/evidence_pools.R
# Writes tests/reference/fixtures/evidence_pools.json.
#
# The inputs below are the numbers of the included records of each pool, copied from
# evidence.yaml; tests/evidence/test_reference_pools.py checks that the Python pools are
# built from exactly these inputs (so a change to the data makes that test fail until this
# script is rerun) and that the results agree. A ratio printed comparator-vs-gene (Dou 2018)
# is inverted here as in the analysis.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

out_path <- file.path("tests", "reference", "fixtures", "evidence_pools.json")
ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 1000)  # REML to full precision
z975 <- qnorm(0.975)

log_ci <- function(est, lo, hi) {
  list(yi = log(est), vi = ((log(hi) - log(lo)) / (2 * z975))^2)
}

fit_out <- function(res, transf = exp) {
  pr <- predict(res)
  ci <- tryCatch(confint(res, control = list(tau2.min = 0, tau2.max = 100, tol = 1e-10)),
                 error = function(e) NULL)
  out <- list(
    k = res$k, method = res$method, test = res$test, estimate = as.numeric(res$b),
    se = res$se, ci_lower = res$ci.lb, ci_upper = res$ci.ub,
    pi_lower = if (is.null(pr$pi.lb)) pr$cr.lb else pr$pi.lb,
    pi_upper = if (is.null(pr$pi.ub)) pr$cr.ub else pr$pi.ub,
    tau2 = res$tau2, I2 = res$I2, H2 = res$H2, Q = res$QE, Q_pvalue = res$QEp,
    pvalue = res$pval
  )
  if (!is.null(ci) && res$method != "EE") {
    out$tau2_ci_lower <- ci$random["tau^2", "ci.lb"]
    out$tau2_ci_upper <- ci$random["tau^2", "ci.ub"]
    out$I2_ci_lower <- ci$random["I^2(%)", "ci.lb"]
    out$I2_ci_upper <- ci$random["I^2(%)", "ci.ub"]
  }
  out
}

cases <- list()
add_case <- function(name, call, inputs, fits) {
  cases[[length(cases) + 1]] <<- list(name = name, call = call, inputs = inputs, fits = fits)
}

three <- function(yi, vi, measure) {
  list(
    REML_knha = fit_out(rma(yi, vi, method = "REML", test = "knha", control = ctrl)),
    DL_z = fit_out(rma(yi, vi, method = "DL", test = "z")),
    EE_z = fit_out(rma(yi, vi, method = "EE", test = "z"))
  )
}

# ---- ALK+ vs ALK- (VTE), hazard ratios: Al-Samkari HR, Icht HR, Dou (ALK) SHR
hr <- data.frame(id = c("al_samkari_2020_alk_vte_hr", "icht_2023_alk_vte_hr", "dou_alk_vte_shr"),
                 est = c(3.70, 1.87, 2.47), lo = c(2.51, 1.31, 1.04), hi = c(5.44, 2.68, 5.90))
e <- log_ci(hr$est, hr$lo, hr$hi)
add_case("ALK|negative|VTE|HR",
         "rma(yi = log(est), vi = ((log(hi) - log(lo)) / (2 * qnorm(0.975)))^2, method = 'REML', test = 'knha', control = list(threshold = 1e-12)); also DL and EE with test = 'z'",
         list(record_ids = hr$id, yi = e$yi, vi = e$vi), three(e$yi, e$vi))

# ---- EGFR+ vs EGFR- (VTE), odds ratios: Corrales-Rodriguez OR + CI; Wang, Sen Yang counts
cnt <- escalc("OR", ai = c(20, 11), bi = c(97, 207), ci = c(13, 13), di = c(193, 253))
cr <- log_ci(0.99, 0.27, 3.48)
yi <- c(cr$yi, as.numeric(cnt$yi)); vi <- c(cr$vi, as.numeric(cnt$vi))
add_case("EGFR|negative|VTE|OR",
         "escalc('OR', ai = c(20, 11), bi = c(97, 207), ci = c(13, 13), di = c(193, 253)) with Corrales log(0.99), CI 0.27-3.48; rma(yi, vi, method = 'REML', test = 'knha', control = list(threshold = 1e-12)); DL, EE (z)",
         list(record_ids = c("corrales_rodriguez_egfr_vte_or", "wang_jing_2019_egfr_vte_counts",
                             "yang_sen_2020_egfr_vte_counts"), yi = yi, vi = vi),
         three(yi, vi))

# ---- EGFR+ vs EGFR- (VTE), hazard ratios: Davidsson HR; Dou 2018 SHR printed wild-type vs mutant
d <- log_ci(c(0.46, 1 / 1.81), c(0.23, 1 / 3.07), c(0.94, 1 / 1.07))
add_case("EGFR|negative|VTE|HR",
         "rma(yi = log(c(0.46, 1/1.81)), vi from the CIs (0.23-0.94; 1/3.07-1/1.07), method = 'REML', test = 'knha', control = list(threshold = 1e-12)); DL, EE (z)",
         list(record_ids = c("davidsson_2017_egfr_vte_hr", "dou_2018_egfr_vte_shr"),
              yi = d$yi, vi = d$vi), three(d$yi, d$vi))

# ---- ALK+ vs EGFR+ (TE), counts: Ng 2019, Taiwan 2022
t <- escalc("OR", ai = c(43, 36), bi = c(150, 62), ci = c(41, 38), di = c(259, 130))
add_case("ALK|vs_EGFR+|TE|OR",
         "escalc('OR', ai = c(43, 36), bi = c(150, 62), ci = c(41, 38), di = c(259, 130)); rma(yi, vi, method = 'REML', test = 'knha', control = list(threshold = 1e-12)); DL, EE (z)",
         list(record_ids = c("ng_2019_alk_vs_egfr_te_counts", "taiwan_2022_alk_vs_egfr_te_counts"),
              yi = as.numeric(t$yi), vi = as.numeric(t$vi)),
         three(as.numeric(t$yi), as.numeric(t$vi)))

# ---- ROS1 TE incidence: Ng 2019, Alexander 2020, Taiwan 2022, Yi 2022
xi <- c(33, 20, 11, 11); ni <- c(95, 42, 44, 47)
plo <- escalc("PLO", xi = xi, ni = ni)
pft <- escalc("PFT", xi = xi, ni = ni)
r_plo <- rma(yi, vi, data = plo, method = "REML", test = "knha", control = ctrl)
r_pft <- rma(yi, vi, data = pft, method = "REML", test = "knha", control = ctrl)
pp <- predict(r_plo, transf = transf.ilogit)
pf <- predict(r_pft, transf = transf.ipft.hm, targs = list(ni = ni))
add_case("incidence|ROS1|TE",
         "rma(escalc('PLO' / 'PFT', xi = c(33, 20, 11, 11), ni = c(95, 42, 44, 47)), method = 'REML', test = 'knha', control = list(threshold = 1e-12)); predict(transf = transf.ilogit) and predict(transf = transf.ipft.hm, targs = list(ni = ni))",
         list(xi = xi, ni = ni),
         list(PLO = c(fit_out(r_plo), list(prop = pp$pred, prop_ci_lower = pp$ci.lb,
                                           prop_ci_upper = pp$ci.ub)),
              PFT = c(fit_out(r_pft), list(prop = pf$pred, prop_ci_lower = pf$ci.lb,
                                           prop_ci_upper = pf$ci.ub))))

fixture <- list(
  meta = list(
    script = "tests/reference/R/evidence_pools.R",
    R_version = R.version.string,
    packages = list(metafor = as.character(packageVersion("metafor")),
                    jsonlite = as.character(packageVersion("jsonlite"))),
    generated = as.character(Sys.Date())
  ),
  cases = cases
)
write_json(fixture, out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote", out_path, "\n")
