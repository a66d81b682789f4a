# Writes tests/reference/fixtures/metafor_mh_peto.json: metafor::rma.mh and rma.peto with
# zero cells, double-zero studies, missing counts, an undefined MH estimate and k = 1.
# Run from the repository root: Rscript tests/reference/R/metafor_mh_peto.R
suppressPackageStartupMessages({ library(metafor); library(jsonlite) })

niel <- dat.nielweise2007
coll <- dat.collins1985a
bcg <- dat.bcg
sets <- list(
  nielweise2007 = list(ai = niel$ai, n1i = niel$n1i, ci = niel$ci, n2i = niel$n2i),
  collins1985a_deaths = list(ai = coll$d.xti, n1i = coll$nti, ci = coll$d.xci, n2i = coll$nci),
  bcg = list(ai = bcg$tpos, n1i = bcg$tpos + bcg$tneg, ci = bcg$cpos, n2i = bcg$cpos + bcg$cneg),
  # no events in group 1 anywhere: MH OR and RR undefined; Peto defined
  zero_group1 = list(ai = c(0, 0, 0, 0), n1i = c(20, 35, 15, 40), ci = c(2, 0, 3, 1), n2i = c(22, 30, 18, 41)),
  single = list(ai = 3, n1i = 40, ci = 7, n2i = 38)
)
num <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)
grab <- function(r) {
  w <- rep(NA_real_, r$k.f); w[r$not.na] <- weights(r)
  list(beta = num(r$beta), se = num(r$se), zval = num(r$zval), pval = num(r$pval),
       ci_lb = num(r$ci.lb), ci_ub = num(r$ci.ub), QE = num(r$QE), QEp = num(r$QEp),
       I2 = num(r$I2), H2 = num(r$H2), k = r$k, k_yi = r$k.yi, k_pos = num(r$k.pos),
       CO = num(r$CO), COp = num(r$COp), MH = num(r$MH), MHp = num(r$MHp),
       BD = num(r$BD), BDp = num(r$BDp), TA = num(r$TA), TAp = num(r$TAp),
       yi = num(r$yi.f), vi = num(r$vi.f), not_na = r$not.na, not_na_yivi = r$not.na.yivi,
       weights = w)
}
cases <- list()
run <- function(fun, name, call, d, args) {
  r <- tryCatch(do.call(fun, c(list(ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i), args)),
                error = function(e) e)
  out <- if (inherits(r, "error")) list(error = conditionMessage(r)) else grab(r)
  cases[[length(cases) + 1]] <<- list(name = name, call = call, input = d, options = args,
                                      output = out)
}
for (ds in names(sets)) {
  d <- sets[[ds]]
  for (m in c("OR", "RR", "RD")) {
    opts <- list(list(), list(correct = FALSE), list(level = 90),
                 list(add = 0.5, to = "all", drop00 = FALSE),
                 list(add = c(0.5, 0.5), to = c("only0", "only0"), drop00 = c(TRUE, FALSE)))
    for (o in opts) {
      if (m != "OR" && !is.null(o$correct)) next
      args <- c(list(measure = m), o)
      run(rma.mh, paste(ds, "MH", m, paste(names(o), o, sep = "=", collapse = ","), sep = "_"),
          sprintf("rma.mh(ai=ai, n1i=n1i, ci=ci, n2i=n2i, %s)",
                  paste(names(args), sapply(args, deparse), sep = "=", collapse = ", ")),
          d, args)
    }
  }
  for (o in list(list(), list(level = 90), list(add = 0.5, to = "all", drop00 = FALSE),
                 list(add = c(0.5, 0.5), to = c("only0", "only0"), drop00 = c(TRUE, FALSE)))) {
    run(rma.peto, paste(ds, "PETO", paste(names(o), o, sep = "=", collapse = ","), sep = "_"),
        sprintf("rma.peto(ai=ai, n1i=n1i, ci=ci, n2i=n2i%s)",
                if (length(o)) paste0(", ", paste(names(o), sapply(o, deparse), sep = "=", collapse = ", ")) else ""),
        d, o)
  }
}
# every study without events: rma.peto stops
run(rma.peto, "no_events_PETO", "rma.peto(ai=c(0,0), n1i=c(10,12), ci=c(0,0), n2i=c(11,9))",
    list(ai = c(0, 0), n1i = c(10, 12), ci = c(0, 0), n2i = c(11, 9)), list())

out <- list(
  meta = list(script = "tests/reference/R/metafor_mh_peto.R", R_version = R.version.string,
              packages = list(metafor = as.character(packageVersion("metafor")),
                              metadat = as.character(packageVersion("metadat"))),
              generated = as.character(Sys.Date())),
  cases = cases)
write_json(out, "tests/reference/fixtures/metafor_mh_peto.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
cat("wrote", length(cases), "cases\n")
