# Reference fixtures for drivervte.meta.influence and drivervte.meta.bias:
# metafor leave1out, cumul, influence (+ rstandard, hatvalues, weights), regtest (model "lm"
# and "rma"), ranktest and trimfill (L0/R0/Q0, automatic and forced side).
#
# Run from the repository root:  Rscript tests/reference/R/metafor_bias.R
# Writes tests/reference/fixtures/metafor_bias.json.
#
# Every rma() fit uses control = list(threshold = 1e-12, maxiter = 10000) so that iterative
# tau^2 estimators (REML) are converged far below the tests' tolerance; metafor's refits in
# leave1out/cumul/influence/regtest inherit x$control. trimfill() does not pass x$control
# (nor x$test / x$level) to its refits, so they are given through its '...' argument; the
# recorded call shows exactly what was run.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

out_path <- file.path("tests", "reference", "fixtures", "metafor_bias.json")
CTRL <- list(threshold = 1e-12, maxiter = 10000)
CTRL_STR <- "list(threshold = 1e-12, maxiter = 10000)"

# ------------------------------------------------------------------ datasets
datasets <- list()

add_dataset <- function(name, es, measure, source, slab, extra = list()) {
  datasets[[name]] <<- c(list(
    source = source, measure = measure, k = nrow(es),
    study = as.character(slab), yi = as.numeric(es$yi), vi = as.numeric(es$vi)
  ), extra)
  invisible(NULL)
}

bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
add_dataset("bcg", bcg, "RR",
  'escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)',
  paste(dat.bcg$author, dat.bcg$year),
  list(year = dat.bcg$year, ablat = dat.bcg$ablat,
       counts = list(ai = dat.bcg$tpos, bi = dat.bcg$tneg, ci = dat.bcg$cpos, di = dat.bcg$cneg)))

hack <- dat.hackshaw1998
add_dataset("hackshaw1998", hack, "OR", "dat.hackshaw1998 (yi, vi as published)",
  paste(hack$author, hack$year), list(year = hack$year))

pritz <- escalc(measure = "PLO", xi = xi, ni = ni, data = dat.pritz1997)
add_dataset("pritz1997", pritz, "PLO",
  'escalc(measure = "PLO", xi = xi, ni = ni, data = dat.pritz1997)',
  paste(dat.pritz1997$authors))

molloy <- escalc(measure = "ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
add_dataset("molloy2014", molloy, "ZCOR",
  'escalc(measure = "ZCOR", ri = ri, ni = ni, data = dat.molloy2014)',
  paste(dat.molloy2014$authors, dat.molloy2014$year))

egger <- escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.egger2001)
add_dataset("egger2001", egger, "OR",
  'escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.egger2001)',
  paste(dat.egger2001$study, dat.egger2001$year),
  list(counts = list(ai = dat.egger2001$ai, bi = dat.egger2001$n1i - dat.egger2001$ai,
                     ci = dat.egger2001$ci, di = dat.egger2001$n2i - dat.egger2001$ci)))

normand <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
                  n2i = n2i, data = dat.normand1999)
add_dataset("normand1999", normand, "MD",
  paste0('escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, ',
         'sd2i = sd2i, n2i = n2i, data = dat.normand1999)'),
  dat.normand1999$source)

pagl <- escalc(measure = "PLO", xi = xi, ni = ni, data = dat.pagliaro1992)
add_dataset("pagliaro1992", pagl, "PLO",
  'escalc(measure = "PLO", xi = xi, ni = ni, data = dat.pagliaro1992)',
  paste(dat.pagliaro1992$study, dat.pagliaro1992$trt))

bcg3 <- bcg[1:3, ]
add_dataset("bcg3", bcg3, "RR", "first 3 rows of the bcg dataset", paste(dat.bcg$author, dat.bcg$year)[1:3])
bcg2 <- bcg[1:2, ]
add_dataset("bcg2", bcg2, "RR", "first 2 rows of the bcg dataset", paste(dat.bcg$author, dat.bcg$year)[1:2])

# 2x2 tables with a double-zero study: rma.mh pools 12 tables, its yi/vi (and so the bias
# tests) have 11 studies.
dz <- data.frame(ai = c(0, 3, 5, 2, 8, 1, 4, 6, 2, 9, 3, 5), bi = c(20, 30, 40, 25, 50, 30, 35, 40, 30, 60, 40, 45),
                 ci = c(0, 6, 9, 4, 10, 3, 8, 7, 5, 12, 6, 9), di = c(20, 28, 38, 24, 48, 29, 33, 39, 28, 58, 38, 44))
dz_es <- escalc(measure = "OR", ai = ai, bi = bi, ci = ci, di = di, data = dz)
add_dataset("doublezero", dz_es, "OR", "synthetic 2x2 tables, study 1 double-zero",
  paste("Study", 1:12), list(counts = as.list(dz)))

# A perfectly symmetric funnel of mirror pairs: metafor's L0 breaks the ties in |yi - b|
# by position and finds k0 = 1; R0 finds k0 = 0.
mirror <- data.frame(yi = c(-1, 1, -2, 2, -3, 3, -0.5, 0.5), vi = c(1, 1, 2, 2, 3, 3, 0.5, 0.5))
add_dataset("mirror", mirror, "GEN", "synthetic mirror pairs (-d, +d) with equal variances",
  paste("S", 1:8))

# ------------------------------------------------------------------ helpers
num <- function(x) as.numeric(unname(x))

fitsum <- function(r) {
  list(estimate = num(r$beta[1]), se = num(r$se[1]), statistic = num(r$zval[1]),
       pvalue = num(r$pval[1]), ci_lower = num(r$ci.lb[1]), ci_upper = num(r$ci.ub[1]),
       tau2 = num(r$tau2), Q = num(r$QE), Q_pvalue = num(r$QEp), I2 = num(r$I2),
       H2 = num(r$H2), k = r$k, df = if (is.null(r$ddf) || is.na(r$ddf[1])) NULL else num(r$ddf[1]))
}

listrma <- function(l) {
  stat <- if (!is.null(l$zval)) l$zval else l$tval
  pv <- if (!is.null(l$pval)) l$pval else l$pvals
  list(study = as.character(l$slab), estimate = num(l$estimate), se = num(l$se),
       statistic = num(stat), pvalue = num(pv), ci_lower = num(l$ci.lb),
       ci_upper = num(l$ci.ub), Q = num(l$Q), Q_pvalue = num(l$Qp),
       tau2 = if (is.null(l$tau2)) NULL else num(l$tau2), I2 = num(l$I2), H2 = num(l$H2))
}

cases <- list()
add_case <- function(case) {
  cases[[length(cases) + 1L]] <<- case
  invisible(NULL)
}

fit_call <- function(ds, method, test, level, mods = NULL) {
  paste0("rma(yi, vi, data = ", ds, ", method = \"", method, "\", test = \"", test,
         "\", level = ", level, if (!is.null(mods)) paste0(", mods = ~ ", mods) else "",
         ", control = ", CTRL_STR, ")")
}

# ------------------------------------------------------------------ rma.uni cases
uni_case <- function(ds, method, test = "z", level = 95, cumul_key = NULL,
                     trimfill_all = TRUE) {
  d <- datasets[[ds]]
  res <- rma(d$yi, d$vi, method = method, test = test, level = level, control = CTRL,
             slab = d$study)
  case <- list(id = paste(ds, method, test, level, sep = "/"), kind = "rma.uni", dataset = ds,
               method = method, test = test, level = level,
               fit_call = fit_call(ds, method, test, level), fit = fitsum(res))
  if (res$k >= 2) {
    case$leave1out <- c(list(call = "leave1out(res)"), listrma(leave1out(res)))
  }
  case$cumul <- c(list(call = "cumul(res)", order = NULL), listrma(cumul(res)))
  if (!is.null(cumul_key)) {
    key <- d[[cumul_key]]
    case$cumul_key <- c(list(call = paste0("cumul(res, order = ", cumul_key, ")"),
                             order = key), listrma(cumul(res, order = key)))
  }
  if (res$k >= 2) {
    inf <- influence(res)
    rs <- rstandard(res)
    case$influence <- list(
      call = "influence(res); rstandard(res)",
      rstudent = num(inf$inf$rstudent), dffits = num(inf$inf$dffits),
      cook_d = num(inf$inf$cook.d), cov_r = num(inf$inf$cov.r),
      tau2_del = num(inf$inf$tau2.del), QE_del = num(inf$inf$QE.del),
      hat = num(inf$inf$hat), weight = num(inf$inf$weight),
      dfbetas = num(inf$dfbs[[1]]), inf = as.logical(inf$is.infl),
      rstandard = num(rs$z), rstandard_resid = num(rs$resid), rstandard_se = num(rs$se))
  }
  if (res$k >= 3) {
    lm_t <- regtest(res, model = "lm")
    rma_t <- regtest(res)
    case$regtest_lm <- list(call = 'regtest(res, model = "lm", predictor = "sei")',
      statistic = num(lm_t$zval), df = num(lm_t$dfs), pvalue = num(lm_t$pval),
      est = num(lm_t$est), ci_lower = num(lm_t$ci.lb), ci_upper = num(lm_t$ci.ub),
      slope = num(coef(lm_t$fit)[2]))
    case$regtest_rma <- list(call = 'regtest(res, model = "rma", predictor = "sei")',
      statistic = num(rma_t$zval), df = if (is.na(rma_t$dfs)) NULL else num(rma_t$dfs),
      pvalue = num(rma_t$pval), est = num(rma_t$est), ci_lower = num(rma_t$ci.lb),
      ci_upper = num(rma_t$ci.ub), slope = num(rma_t$fit$beta[2]),
      slope_se = num(rma_t$fit$se[2]), tau2 = num(rma_t$fit$tau2))
  }
  if (res$k >= 3) {
    rk <- suppressWarnings(ranktest(res))
    ties <- length(unique(d$vi)) < length(d$vi)
    case$ranktest <- list(call = "ranktest(res)", tau = num(rk$tau), pvalue = num(rk$pval),
                          exact = !ties)
  }
  if (res$k >= 3) {
    tf_args <- sprintf(", test = \"%s\", level = %s, control = %s", test, level, CTRL_STR)
    specs <- list(list(side = NULL, estimator = "L0"))
    if (trimfill_all) {
      specs <- c(specs, list(list(side = "left", estimator = "L0"),
                             list(side = "right", estimator = "L0"),
                             list(side = NULL, estimator = "R0"),
                             list(side = "left", estimator = "R0"),
                             list(side = "right", estimator = "R0"),
                             list(side = NULL, estimator = "Q0")))
    }
    case$trimfill <- lapply(specs, function(s) {
      side_arg <- if (is.null(s$side)) "" else paste0(", side = \"", s$side, "\"")
      call <- paste0("trimfill(res", side_arg, ", estimator = \"", s$estimator, "\"", tf_args, ")")
      args <- list(res, estimator = s$estimator, test = test, level = level, control = CTRL)
      if (!is.null(s$side)) args$side <- s$side
      tf <- try(do.call(trimfill, args), silent = TRUE)
      if (inherits(tf, "try-error")) {
        return(list(call = call, side_requested = s$side, estimator = s$estimator,
                    error = as.character(tf)))
      }
      list(call = call, side_requested = s$side, estimator = s$estimator,
           side = tf$side, k0 = tf$k0, se_k0 = num(tf$se.k0),
           p_k0 = if (is.na(tf$p.k0)) NULL else num(tf$p.k0),
           fill_yi = num(tf$yi[tf$fill]), fill_vi = num(tf$vi[tf$fill]),
           fit = fitsum(tf))
    })
  }
  add_case(case)
}

for (m in c("EE", "DL", "REML")) {
  uni_case("bcg", m, cumul_key = "year")
  uni_case("hackshaw1998", m, cumul_key = if (m == "REML") "year" else NULL)
  uni_case("pritz1997", m, trimfill_all = m != "DL")
  uni_case("molloy2014", m, trimfill_all = m != "DL")
  uni_case("egger2001", m)
  uni_case("normand1999", m)
  uni_case("bcg3", m)
}
uni_case("bcg", "REML", test = "knha")
uni_case("bcg", "DL", test = "knha")
uni_case("hackshaw1998", "REML", test = "knha", trimfill_all = FALSE)
uni_case("egger2001", "REML", test = "knha")
uni_case("bcg", "REML", level = 90)
uni_case("pagliaro1992", "REML", trimfill_all = FALSE)
uni_case("mirror", "EE")
uni_case("mirror", "REML")
uni_case("bcg2", "REML")
uni_case("bcg2", "EE")

# Meta-regression influence (metafor influence.rma.uni with moderators).
for (tst in c("z", "knha")) {
  d <- datasets$bcg
  res <- rma(d$yi, d$vi, mods = ~ d$ablat, method = "REML", test = tst, control = CTRL)
  inf <- influence(res)
  rs <- rstandard(res)
  add_case(list(
    id = paste("bcg-ablat", "REML", tst, 95, sep = "/"), kind = "rma.uni.mods", dataset = "bcg",
    method = "REML", test = tst, level = 95, moderators = "ablat",
    fit_call = fit_call("bcg", "REML", tst, 95, mods = "ablat"),
    fit = list(beta = num(res$beta), tau2 = num(res$tau2)),
    influence = list(
      call = "influence(res); rstandard(res)",
      rstudent = num(inf$inf$rstudent), dffits = num(inf$inf$dffits),
      cook_d = num(inf$inf$cook.d), cov_r = num(inf$inf$cov.r),
      tau2_del = num(inf$inf$tau2.del), QE_del = num(inf$inf$QE.del),
      hat = num(inf$inf$hat), weight = num(inf$inf$weight),
      dfbetas = lapply(unclass(inf$dfbs)[seq_len(res$p)], num), inf = as.logical(inf$is.infl),
      rstandard = num(rs$z), rstandard_resid = num(rs$resid), rstandard_se = num(rs$se))
  ))
}

# ------------------------------------------------------------------ MH / Peto cases
for (ds in c("bcg", "egger2001", "doublezero")) {
  d <- datasets[[ds]]
  cn <- d$counts
  for (mm in c("MH", "PETO")) {
    if (mm == "MH") {
      measure <- if (ds == "bcg") "RR" else "OR"
      res <- rma.mh(ai = cn$ai, bi = cn$bi, ci = cn$ci, di = cn$di, measure = measure,
                    slab = d$study)
      call <- paste0("rma.mh(ai, bi, ci, di, data = ", ds, ", measure = \"", measure, "\")")
    } else {
      measure <- "PETO"
      res <- rma.peto(ai = cn$ai, bi = cn$bi, ci = cn$ci, di = cn$di, slab = d$study)
      call <- paste0("rma.peto(ai, bi, ci, di, data = ", ds, ")")
    }
    l1o <- leave1out(res)
    lm_t <- regtest(res, model = "lm")
    rma_t <- regtest(res)
    rk <- suppressWarnings(ranktest(res))
    add_case(list(
      id = paste(ds, mm, "z", 95, sep = "/"), kind = tolower(paste0("rma.", mm)), dataset = ds,
      method = mm, measure = measure, test = "z", level = 95, fit_call = call,
      fit = list(estimate = num(res$beta), se = num(res$se), Q = num(res$QE),
                 yi = num(res$yi), vi = num(res$vi)),
      leave1out = c(list(call = "leave1out(res)"), listrma(l1o)),
      regtest_lm = list(call = 'regtest(res, model = "lm", predictor = "sei")',
        statistic = num(lm_t$zval), df = num(lm_t$dfs), pvalue = num(lm_t$pval),
        est = num(lm_t$est), ci_lower = num(lm_t$ci.lb), ci_upper = num(lm_t$ci.ub)),
      regtest_rma = list(call = 'regtest(res, model = "rma", predictor = "sei")',
        statistic = num(rma_t$zval), pvalue = num(rma_t$pval), est = num(rma_t$est),
        ci_lower = num(rma_t$ci.lb), ci_upper = num(rma_t$ci.ub)),
      ranktest = list(call = "ranktest(res)", tau = num(rk$tau), pvalue = num(rk$pval))
    ))
  }
}

# ------------------------------------------------------------------ ranktest on raw vectors
# Exact Kendall p-values (no ties) for n = 3..60 and the tie-corrected normal approximation.
set.seed(20261126)
for (n in c(3, 4, 5, 8, 12, 25, 49, 50, 60, 100, 150)) {
  yi <- round(rnorm(n, 0.2, 0.5), 6)
  vi <- round(runif(n, 0.01, 0.5), 6)
  rk <- ranktest(yi, vi)
  add_case(list(id = paste0("ranktest-raw/n", n), kind = "ranktest.raw", yi = yi, vi = vi,
                call = "ranktest(yi, vi)", tau = num(rk$tau), pvalue = num(rk$pval),
                exact = TRUE))
}
for (n in c(10, 30)) {
  yi <- round(rnorm(n, 0.2, 0.5), 6)
  vi <- round(sample(c(0.05, 0.1, 0.2, 0.4), n, replace = TRUE), 6)
  rk <- suppressWarnings(ranktest(yi, vi))
  add_case(list(id = paste0("ranktest-ties/n", n), kind = "ranktest.raw", yi = yi, vi = vi,
                call = "ranktest(yi, vi)  # ties in vi: normal approximation", tau = num(rk$tau),
                pvalue = num(rk$pval), exact = FALSE))
}

pkgs <- c("metafor", "metadat", "jsonlite")
out <- list(
  meta = list(
    script = "tests/reference/R/metafor_bias.R",
    R_version = R.version.string,
    packages = setNames(lapply(pkgs, function(p) as.character(packageVersion(p))), pkgs),
    generated = format(Sys.Date()),
    control = CTRL_STR,
    notes = paste(
      "All outputs on the model scale. 'res' is the fit described by fit_call.",
      "trimfill() receives test, level and control through '...' so its refits match the",
      "original model (metafor 3.8 does not forward x$test/x$level/x$control itself).")
  ),
  datasets = datasets,
  cases = cases
)
write_json(out, out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null", na = "null")
cat("wrote", out_path, "with", length(cases), "cases\n")
