# Writes tests/reference/fixtures/metafor_escalc.json: metafor::escalc on metadat datasets,
# every 2x2 / proportion measure drivervte implements, every zero-cell option.
# Ratio + CI and ratio + p-value have no escalc counterpart in metafor 3.8; those cases
# record the R arithmetic (log, qnorm) that defines them.
# Run from the repository root: Rscript tests/reference/R/metafor_escalc.R
suppressPackageStartupMessages({ library(metafor); library(jsonlite) })

cases <- list()
add_case <- function(name, call, input, options, yi, vi, ni = NULL) {
  cases[[length(cases) + 1]] <<- list(name = name, call = call, input = input,
    options = options, output = list(yi = as.numeric(yi), vi = as.numeric(vi),
    ni = if (is.null(ni)) NULL else as.numeric(ni)))
}

# ---- 2x2 tables --------------------------------------------------------------------
bcg <- dat.bcg
niel <- dat.nielweise2007                     # zero cells, one double-zero study (15)
coll <- dat.collins1985a                      # deaths: zeros, double zeros, NA rows
coll2 <- data.frame(ai = coll$d.xti, n1i = coll$nti, ci = coll$d.xci, n2i = coll$nci)
sets <- list(
  bcg = list(ai = bcg$tpos, bi = bcg$tneg, ci = bcg$cpos, di = bcg$cneg),
  nielweise2007 = list(ai = niel$ai, bi = niel$n1i - niel$ai, ci = niel$ci, di = niel$n2i - niel$ci),
  collins1985a_deaths = list(ai = coll2$ai, bi = coll2$n1i - coll2$ai, ci = coll2$ci,
                             di = coll2$n2i - coll2$ci)
)
for (ds in names(sets)) {
  d <- sets[[ds]]
  for (m in c("OR", "RR", "RD", "PETO")) {
    for (to in c("only0", "all", "if0all", "none")) {
      for (drop00 in c(FALSE, TRUE)) {
        for (add in c(0.5, 1)) {
          if (add == 1 && !(to == "only0" && !drop00)) next
          e <- escalc(measure = m, ai = d$ai, bi = d$bi, ci = d$ci, di = d$di,
                      add = add, to = to, drop00 = drop00)
          add_case(sprintf("%s_%s_%s_drop00=%s_add=%g", ds, m, to, drop00, add),
            sprintf("escalc(measure='%s', ai=ai, bi=bi, ci=ci, di=di, add=%g, to='%s', drop00=%s)",
                    m, add, to, drop00),
            list(kind = "2x2", dataset = ds, ai = d$ai, bi = d$bi, ci = d$ci, di = d$di),
            list(measure = m, add = add, to = to, drop00 = drop00),
            e$yi, e$vi, attr(e$yi, "ni"))
        }
      }
    }
  }
}
# n1i/n2i form gives the same numbers
e <- escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = niel)
add_case("nielweise2007_OR_n1i_n2i", "escalc(measure='OR', ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=dat.nielweise2007)",
  list(kind = "2x2_n", dataset = "nielweise2007", ai = niel$ai, n1i = niel$n1i, ci = niel$ci, n2i = niel$n2i),
  list(measure = "OR", add = 0.5, to = "only0", drop00 = FALSE), e$yi, e$vi, attr(e$yi, "ni"))

# ---- proportions ------------------------------------------------------------------
pritz <- dat.pritz1997
psets <- list(
  pritz1997 = list(xi = pritz$xi, ni = pritz$ni),
  # with a zero and an all-events study
  pritz1997_zeros = list(xi = c(pritz$xi, 0, 9), ni = c(pritz$ni, 15, 9))
)
for (ds in names(psets)) {
  d <- psets[[ds]]
  for (m in c("PR", "PLO", "PLN", "PAS", "PFT")) {
    for (to in c("only0", "all", "if0all", "none")) {
      e <- escalc(measure = m, xi = d$xi, ni = d$ni, to = to)
      add_case(sprintf("%s_%s_%s", ds, m, to),
        sprintf("escalc(measure='%s', xi=xi, ni=ni, to='%s')", m, to),
        list(kind = "proportion", dataset = ds, xi = d$xi, ni = d$ni),
        list(measure = m, add = NULL, to = to), e$yi, e$vi, attr(e$yi, "ni"))
    }
  }
}
e <- escalc(measure = "PFT", xi = pritz$xi, ni = pritz$ni, add = 0.5, to = "all")
add_case("pritz1997_PFT_all_add=0.5", "escalc(measure='PFT', xi=xi, ni=ni, add=0.5, to='all')",
  list(kind = "proportion", dataset = "pritz1997", xi = pritz$xi, ni = pritz$ni),
  list(measure = "PFT", add = 0.5, to = "all"), e$yi, e$vi, attr(e$yi, "ni"))

# ---- back-transformations -----------------------------------------------------------
bt_x <- c(-0.3, 0, 0.2, 0.5, 0.9, 1.2, 1.5, 1.6)
bt_ni <- pritz$ni
backtransforms <- list(
  list(measure = "PFT", call = "transf.ipft.hm(x, targs=list(ni=ni))", x = bt_x, ni = bt_ni,
       value = transf.ipft.hm(bt_x, targs = list(ni = bt_ni))),
  list(measure = "PLO", call = "transf.ilogit(x)", x = c(-30, -2, 0, 1.5, 30),
       value = transf.ilogit(c(-30, -2, 0, 1.5, 30))),
  list(measure = "PAS", call = "transf.iarcsin(x)", x = c(-0.1, 0, 0.4, 1.2, 1.6),
       value = transf.iarcsin(c(-0.1, 0, 0.4, 1.2, 1.6))),
  list(measure = "OR", call = "exp(x)", x = c(-1, 0, 0.7), value = exp(c(-1, 0, 0.7)))
)

# ---- ratio + CI, ratio + p (R arithmetic) ------------------------------------------
est <- c(1.52, 0.80, 2.10, 1.05); lo <- c(1.10, 0.61, 1.01, 0.98); hi <- c(2.10, 1.05, 4.37, 1.12)
for (level in c(95, 90)) {
  z <- qnorm(1 - (1 - level / 100) / 2)
  add_case(sprintf("ratio_ci_level%d", level),
    sprintf("yi <- log(estimate); vi <- ((log(upper) - log(lower)) / (2 * qnorm(1 - (1 - %d/100)/2)))^2", level),
    list(kind = "ratio_ci", estimate = est, lower = lo, upper = hi),
    list(measure = "HR", level = level), log(est), ((log(hi) - log(lo)) / (2 * z))^2)
}
pv <- c(0.003, 0.2, 0.04, 0.5)
add_case("pvalue", "yi <- log(estimate); vi <- (abs(log(estimate)) / qnorm(1 - p/2))^2",
  list(kind = "pvalue", estimate = est, pvalue = pv), list(measure = "OR"),
  log(est), (abs(log(est)) / qnorm(1 - pv / 2))^2)

# ---- escalc -> rma.uni (EffectSizes.rma) ----------------------------------------------
fits <- list()
for (m in c("OR", "RR")) {
  e <- escalc(measure = m, ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
  r <- rma(yi, vi, data = e, method = "REML")
  fits[[length(fits) + 1]] <- list(measure = m, call = sprintf(
    "rma(yi, vi, data=escalc(measure='%s', ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg), method='REML')", m),
    tau2 = r$tau2, beta = c(r$beta), se = r$se, QE = r$QE, I2 = r$I2)
}

out <- list(
  meta = list(script = "tests/reference/R/metafor_escalc.R", R_version = R.version.string,
              packages = list(metafor = as.character(packageVersion("metafor")),
                              metadat = as.character(packageVersion("metadat"))),
              generated = as.character(Sys.Date())),
  cases = cases, backtransforms = backtransforms, rma_fits = fits)
write_json(out, "tests/reference/fixtures/metafor_escalc.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
cat("wrote", length(cases), "cases\n")
