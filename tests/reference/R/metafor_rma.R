# Reference values for drivervte.meta.rma / tau2 / heterogeneity / subgroup.
# Writes tests/reference/fixtures/metafor_rma.json. Run from the repository root:
#   Rscript tests/reference/R/metafor_rma.R
# Every case stores the exact R call; inputs (yi, vi, design matrix) are stored so that the
# Python tests need neither R nor escalc.
suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})

out_path <- "tests/reference/fixtures/metafor_rma.json"

# Tight stopping rules so that metafor's numbers are the exact roots/maxima (our fits iterate
# to full precision): Fisher scoring stops when |change| <= threshold, uniroot (PM) at tol.
ctrl_txt <- "list(threshold = 1e-12, tol = 1e-12, maxiter = 1000)"
ctrl <- eval(parse(text = ctrl_txt))
ci_ctrl_txt <- "list(tol = 1e-12)"

# ----------------------------------------------------------------------------- datasets
datasets <- list()
designs <- list()

add_dataset <- function(name, yi, vi, source) {
  datasets[[name]] <<- list(source = source, yi = as.numeric(yi), vi = as.numeric(vi))
}
add_design <- function(id, dataset, formula_txt, df) {
  X <- model.matrix(as.formula(formula_txt), data = df)
  designs[[id]] <<- list(dataset = dataset, formula = formula_txt, colnames = colnames(X),
                         X = unname(lapply(seq_len(nrow(X)), function(i) as.numeric(X[i, ]))))
}

bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
add_dataset("bcg", bcg$yi, bcg$vi,
  'escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)')
add_design("bcg/ablat", "bcg", "~ ablat", bcg)
add_design("bcg/alloc", "bcg", "~ alloc", bcg)

hack <- dat.hackshaw1998
add_dataset("hackshaw", hack$yi, hack$vi, "dat.hackshaw1998 (yi, vi as shipped: log OR)")
add_design("hackshaw/year", "hackshaw", "~ year", hack)
add_design("hackshaw/design", "hackshaw", "~ design", hack)

mol <- escalc(measure = "ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
add_dataset("molloy", mol$yi, mol$vi, 'escalc(measure="ZCOR", ri=ri, ni=ni, data=dat.molloy2014)')
add_design("molloy/meanage", "molloy", "~ meanage", mol)
add_design("molloy/design", "molloy", "~ design", mol)

nor <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
              n2i = n2i, data = dat.normand1999)
add_dataset("normand", nor$yi, nor$vi,
  'escalc(measure="MD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.normand1999)')

pri <- escalc(measure = "PLO", xi = xi, ni = ni, data = dat.pritz1997)
add_dataset("pritz", pri$yi, pri$vi, 'escalc(measure="PLO", xi=xi, ni=ni, data=dat.pritz1997)')

add_dataset("bcg2", bcg$yi[1:2], bcg$vi[1:2], "first two studies of bcg (k = 2)")
# Homogeneous data: Q < k - 1, so every estimator truncates tau^2 at 0.
add_dataset("homog", c(0.10, 0.12, 0.09, 0.11, 0.13), c(0.04, 0.05, 0.03, 0.06, 0.05),
  "constructed: five nearly identical estimates (tau^2 = 0 boundary)")

# -------------------------------------------------------------------------- model cases
methods <- c("EE", "DL", "REML", "ML", "PM", "SJ", "HE", "EB", "HS")
tests <- c("z", "knha")
grid <- list(
  list(dataset = "bcg", design = NULL), list(dataset = "bcg", design = "bcg/ablat"),
  list(dataset = "bcg", design = "bcg/alloc"),
  list(dataset = "hackshaw", design = NULL), list(dataset = "hackshaw", design = "hackshaw/year"),
  list(dataset = "hackshaw", design = "hackshaw/design"),
  list(dataset = "molloy", design = NULL), list(dataset = "molloy", design = "molloy/meanage"),
  list(dataset = "molloy", design = "molloy/design"),
  list(dataset = "normand", design = NULL), list(dataset = "pritz", design = NULL),
  list(dataset = "bcg2", design = NULL), list(dataset = "homog", design = NULL)
)

num <- function(x) if (is.null(x)) NULL else as.numeric(x)

one_case <- function(g, method, test, control_txt) {
  d <- datasets[[g$dataset]]
  yi <- d$yi
  vi <- d$vi
  if (is.null(g$design)) {
    call <- sprintf('rma.uni(yi, vi, method="%s", test="%s"%s)', method, test,
                    if (is.null(control_txt)) "" else paste0(", control=", control_txt))
    res <- rma.uni(yi, vi, method = method, test = test,
                   control = if (is.null(control_txt)) list() else eval(parse(text = control_txt)))
    Xd <- NULL
  } else {
    des <- designs[[g$design]]
    Xd <- do.call(rbind, des$X)
    call <- sprintf('rma.uni(yi, vi, mods=X, intercept=FALSE, method="%s", test="%s"%s)  # X = model.matrix(%s)',
                    method, test, if (is.null(control_txt)) "" else paste0(", control=", control_txt),
                    des$formula)
    res <- rma.uni(yi, vi, mods = Xd, intercept = FALSE, method = method, test = test,
                   control = if (is.null(control_txt)) list() else eval(parse(text = control_txt)))
  }
  out <- list(
    beta = num(res$beta), se = num(res$se), zval = num(res$zval), pval = num(res$pval),
    ci_lb = num(res$ci.lb), ci_ub = num(res$ci.ub), tau2 = num(res$tau2),
    se_tau2 = num(res$se.tau2), QE = num(res$QE), QEp = num(res$QEp), I2 = num(res$I2),
    H2 = num(res$H2), QM = num(res$QM), QMdf = num(res$QMdf), QMp = num(res$QMp),
    R2 = num(res$R2), s2w = num(res$s2w), weights = num(weights(res)), k = res$k, p = res$p
  )
  if (is.null(g$design)) {
    pr <- predict(res)
    out$predict <- list(newmods = NULL, pred = num(pr$pred), se = num(pr$se),
                        ci_lb = num(pr$ci.lb), ci_ub = num(pr$ci.ub),
                        pi_lb = num(pr$pi.lb), pi_ub = num(pr$pi.ub))
  } else {
    nm <- colMeans(Xd[, -1, drop = FALSE])
    pr <- predict(res, newmods = nm)
    out$predict <- list(newmods = as.numeric(nm), pred = num(pr$pred), se = num(pr$se),
                        ci_lb = num(pr$ci.lb), ci_ub = num(pr$ci.ub),
                        pi_lb = num(pr$pi.lb), pi_ub = num(pr$pi.ub))
  }
  if (method != "EE" && res$k > 1) {
    ci <- confint(res, control = eval(parse(text = ci_ctrl_txt)))
    rr <- ci$random
    out$confint <- list(
      call = paste0("confint(res, control=", ci_ctrl_txt, ")"),
      tau2 = num(rr["tau^2", ]), I2 = num(rr["I^2(%)", ]), H2 = num(rr["H^2", ]),
      ci_null = ci$ci.null, lb_sign = ci$lb.sign, ub_sign = ci$ub.sign)
  }
  list(id = paste(g$dataset, if (is.null(g$design)) "none" else g$design, method, test,
                  if (is.null(control_txt)) "default" else "tight", sep = "|"),
       dataset = g$dataset, design = g$design, method = method, test = test,
       control = if (is.null(control_txt)) "default" else control_txt, call = call,
       output = out)
}

cases <- list()
for (g in grid) for (method in methods) for (test in tests) {
  r <- tryCatch(one_case(g, method, test, ctrl_txt),
                error = function(e) {
                  message("skipped ", g$dataset, " ", method, " ", test, ": ", conditionMessage(e))
                  NULL
                })
  if (!is.null(r)) cases[[length(cases) + 1L]] <- r
}
# metafor's default stopping rules, for the iterative estimators (drivervte reproduces the
# algorithm exactly when given control={"threshold": 1e-5}).
for (g in grid[c(1, 2, 4)]) for (method in c("REML", "ML", "EB")) {
  cases[[length(cases) + 1L]] <- one_case(g, method, "z", NULL)
}

# ------------------------------------------------------------------------- k = 1 case
res1 <- rma.uni(bcg$yi[1], bcg$vi[1], method = "REML")
k1 <- list(call = 'rma.uni(yi[1], vi[1], method="REML")  # bcg', yi = bcg$yi[1], vi = bcg$vi[1],
           beta = num(res1$beta), se = num(res1$se), pval = num(res1$pval),
           ci_lb = num(res1$ci.lb), ci_ub = num(res1$ci.ub), tau2 = num(res1$tau2),
           QE = num(res1$QE), QEp = num(res1$QEp), I2 = num(res1$I2), H2 = num(res1$H2))

# ------------------------------------------------------- Fisher scoring that oscillates
# With the default step, Fisher scoring oscillates and metafor stops with an error; with
# stepadj = 0.5 it converges. drivervte's default finds the same maximum directly.
osc_y <- c(0, 0, 0, 0, 0, 0, 2, 1)
osc_v <- c(1, 1, 1, 1, 1, 1, 0.25, 1)
osc_x <- 0:7
osc_default <- tryCatch({rma.uni(osc_y, osc_v, mods = ~ osc_x, method = "REML", control = ctrl); "converged"},
                        error = function(e) conditionMessage(e))
osc <- rma.uni(osc_y, osc_v, mods = ~ osc_x, method = "REML",
               control = list(stepadj = 0.5, threshold = 1e-12, maxiter = 10000))
oscillating <- list(
  call = 'rma.uni(yi, vi, mods = ~ x, method="REML", control=list(stepadj=0.5, threshold=1e-12, maxiter=10000))',
  default_outcome = osc_default, yi = osc_y, vi = osc_v, x = osc_x,
  beta = num(osc$beta), se = num(osc$se), tau2 = num(osc$tau2), se_tau2 = num(osc$se.tau2))

# ---------------------------------------------------------------------- subgroup recipe
# Separate random-effects model per subgroup, then an equal-effects model of the subgroup
# estimates ("comparing estimates of independent meta-analyses", metafor tips).
subgroups <- list()
for (sg in list(list(dataset = "bcg", var = "alloc", df = bcg),
                list(dataset = "molloy", var = "design", df = mol),
                list(dataset = "hackshaw", var = "design", df = hack))) {
  for (method in c("REML", "DL")) {
    grp <- sg$df[[sg$var]]
    lev <- sort(unique(grp))
    per <- list()
    est <- c(); sei <- c()
    for (l in lev) {
      sel <- grp == l
      r <- rma.uni(sg$df$yi[sel], sg$df$vi[sel], method = method, control = ctrl)
      per[[l]] <- list(k = r$k, estimate = num(r$beta), se = num(r$se), ci_lb = num(r$ci.lb),
                       ci_ub = num(r$ci.ub), tau2 = num(r$tau2), I2 = num(r$I2))
      est <- c(est, as.numeric(r$beta)); sei <- c(sei, r$se)
    }
    ee <- rma.uni(yi = est, sei = sei, method = "EE")
    ct <- rma.uni(sg$df$yi, sg$df$vi, mods = ~ factor(grp), method = method, control = ctrl)
    subgroups[[length(subgroups) + 1L]] <- list(
      dataset = sg$dataset, variable = sg$var, method = method,
      groups_in = as.character(grp),
      call = sprintf('per level: rma.uni(yi, vi, method="%s", subset=%s==level); then rma.uni(yi=est, sei=se, method="EE"); common tau2: rma.uni(yi, vi, mods=~factor(%s), method="%s")',
                     method, sg$var, sg$var, method),
      groups = per, Q_between = num(ee$QE), Q_between_df = length(lev) - 1,
      Q_between_pvalue = num(ee$QEp),
      common_tau2 = list(QM = num(ct$QM), QMp = num(ct$QMp), QMdf = num(ct$QMdf), tau2 = num(ct$tau2)))
  }
}

fixture <- list(
  meta = list(script = "tests/reference/R/metafor_rma.R", R_version = R.version.string,
              packages = list(metafor = as.character(packageVersion("metafor")),
                              metadat = as.character(packageVersion("metadat")),
                              jsonlite = as.character(packageVersion("jsonlite"))),
              generated = format(Sys.Date()), control = ctrl_txt, confint_control = ci_ctrl_txt,
              methods = methods, tests = tests),
  datasets = datasets, designs = designs, cases = cases, k1 = k1, oscillating = oscillating,
  subgroups = subgroups)
write_json(fixture, out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null",
           na = "null")
cat("wrote", out_path, "with", length(cases), "cases\n")
