# Reference fixtures for drivervte.survival.finegray_predict: predicted cumulative incidence
# F(t | z) = 1 - S(t | z) from a Fine-Gray model, with the standard error of the cumulative
# subdistribution hazard and log-log confidence limits, as R computes them with
#
#   fgd <- survival::finegray(Surv(...) ~ ., data, etype = <cause>)
#   fit <- coxph(Surv(fgstart, fgstop, fgstatus) ~ covariates, weight = fgwt, data = fgd,
#                ties = "breslow" [, cluster = id])
#   survfit(fit, newdata = profiles, conf.type = "log-log")
#
# (the route of survival's "compete" vignette). survfit.coxph's variance of the cumulative
# hazard (survival 3.5) is  exp(2 z'b) [ sum_k d_k / S0_k^2 + h(t)' V h(t) ],  V = fit$var:
# the model-based variance with `robust = FALSE`, the robust one with `cluster = id`. Also predict.crr point
# estimates on data without ties (where crr and finegray + coxph have the same coefficients).
#
# Run from the repository root:  Rscript tests/reference/R/survival_finegray_predict.R
# Writes tests/reference/fixtures/survival_finegray_predict.json.

suppressPackageStartupMessages({
  library(cmprsk)
  library(survival)
  library(jsonlite)
})

out_path <- file.path("tests", "reference", "fixtures", "survival_finegray_predict.json")
data_sets <- list()
cases <- list()
v <- function(x) I(unname(as.vector(x)))
mat <- function(m) unname(lapply(seq_len(nrow(m)), function(i) I(as.numeric(m[i, ]))))
ctl <- coxph.control(eps = 1e-11, iter.max = 100)

# Evaluate survfit's step functions (right-continuous) at `times`: rows = times, cols = profiles.
at_times <- function(sf, times, what, before) {
  m <- as.matrix(sf[[what]])
  j <- findInterval(times, sf$time)
  out <- matrix(before, length(times), ncol(m))
  ok <- j > 0
  out[ok, ] <- m[j[ok], , drop = FALSE]
  out
}

add_case <- function(name, data, call_str, fit, covs, profiles, times, extra = list()) {
  nd <- as.data.frame(profiles)
  names(nd) <- covs
  sf <- survfit(fit, newdata = nd, conf.type = "log-log", conf.int = 0.95)
  cases[[length(cases) + 1]] <<- c(list(
    name = name, data = data, call = call_str, covariates = v(covs),
    coef = v(coef(fit)), var = mat(fit$var),
    robust = !is.null(fit$naive.var),
    profiles = mat(profiles), times = v(times),
    cumhaz = mat(at_times(sf, times, "cumhaz", 0)),
    std_err = mat(at_times(sf, times, "std.err", 0)),
    lower = mat(at_times(sf, times, "lower", 1)),  # of S = 1 - F
    upper = mat(at_times(sf, times, "upper", 1))
  ), extra)
}

fg_fit <- function(fgd, covs, cluster) {
  f <- paste("Surv(fgstart, fgstop, fgstatus) ~", paste(covs, collapse = " + "))
  if (cluster) {
    coxph(as.formula(f), data = fgd, weight = fgwt, ties = "breslow", cluster = id,
          control = ctl)
  } else {
    # robust = FALSE: with non-integer weights coxph (survival >= 3) would otherwise use a
    # robust variance with each expanded row as its own cluster
    coxph(as.formula(f), data = fgd, weight = fgwt, ties = "breslow", robust = FALSE,
          control = ctl)
  }
}
cox_call <- function(covs, cluster) paste0(
  "coxph(Surv(fgstart, fgstop, fgstatus) ~ ", paste(covs, collapse = " + "),
  ", weight = fgwt, ties = 'breslow'", if (cluster) ", cluster = id" else ", robust = FALSE",
  ", eps = 1e-11); survfit(fit, newdata = profiles, conf.type = 'log-log')")

# ------------------------------------------------------------------ continuous times
# No ties: crr and finegray + coxph agree on coefficients and baseline.
set.seed(11)
nc <- 150
cont <- data.frame(time = round(rexp(nc, 0.1), 6) + 0.001, status = sample(0:2, nc, TRUE),
                   egfr = rbinom(nc, 1, 0.4), age = round(rnorm(nc, 63, 8), 1))
stopifnot(!anyDuplicated(cont$time))
data_sets$cont <- as.list(cont)
cont$id <- seq_len(nc)
cont$ev <- factor(cont$status, 0:2, c("censor", "vte", "death"))
fgd <- finegray(Surv(time, ev) ~ ., data = cont, etype = "vte")
covs <- c("egfr", "age")
P <- rbind(c(0, 55), c(1, 63), c(1, 75))
tgrid <- c(0.0005, 1, 2.5, 5, 10, 15, 20, 30, 60)
crrfit <- crr(cont$time, cont$status, as.matrix(cont[, covs]), gtol = 1e-10, maxiter = 100)
pc <- predict(crrfit, cov1 = P)
j <- findInterval(tgrid, pc[, 1])
crr_cif <- matrix(0, length(tgrid), nrow(P))
crr_cif[j > 0, ] <- pc[j[j > 0], -1]
fg_str <- 'finegray(Surv(time, ev) ~ ., data = cont, etype = "vte")'
for (cl in c(FALSE, TRUE)) {
  add_case(paste0("cont_", if (cl) "robust" else "model"), "cont",
           paste(fg_str, cox_call(covs, cl), sep = "; "), fg_fit(fgd, covs, cl), covs, P,
           tgrid, extra = list(cause = 1, crr_cif = mat(crr_cif)))
}

# ------------------------------------------------------------------ public data: mgus2
# Integer months with ties between events and censorings (finegray's conventions apply).
mg <- survival::mgus2
mg$etime <- ifelse(mg$pstat == 0, mg$futime, mg$ptime)
mg$event <- ifelse(mg$pstat == 0, 2 * mg$death, 1)
mg$male <- as.numeric(mg$sex == "M")
mg <- mg[, c("etime", "event", "age", "male")]
data_sets$mgus2 <- as.list(mg)
mg$id <- seq_len(nrow(mg))
mg$ev <- factor(mg$event, 0:2, c("censor", "pcm", "death"))
covs <- c("age", "male")
P <- rbind(c(60, 0), c(72, 1), c(85, 1))
tgrid <- c(0.5, 12, 36, 60, 120, 240, 300, 500)
for (cause in c("pcm", "death")) {
  fgd <- finegray(Surv(etime, ev) ~ ., data = mg, etype = cause)
  fg_str <- sprintf('finegray(Surv(etime, ev) ~ ., data = mgus2, etype = "%s")', cause)
  for (cl in c(FALSE, TRUE)) {
    add_case(paste0("mgus2_", cause, "_", if (cl) "robust" else "model"), "mgus2",
             paste(fg_str, cox_call(covs, cl), sep = "; "), fg_fit(fgd, covs, cl), covs, P,
             tgrid, extra = list(cause = if (cause == "pcm") 1 else 2))
  }
}

# ------------------------------------------------------------------ delayed entry
set.seed(31)
nl <- 250
ltc <- data.frame(egfr = rbinom(nl, 1, 0.4), age = round(rnorm(nl, 64, 9), 1))
t1 <- rexp(nl, 0.04 * exp(0.6 * ltc$egfr + 0.02 * (ltc$age - 64)))
t2 <- rexp(nl, 0.05 * exp(0.03 * (ltc$age - 64)))
tc <- runif(nl, 5, 40)
tt <- pmin(t1, t2, tc)
ltc$status <- ifelse(tt == t1, 1, ifelse(tt == t2, 2, 0))
ltc$time <- ceiling(tt)
ltc$entry <- pmin(floor(runif(nl, 0, 8)), ltc$time - 1)
ltc$entry[ltc$entry < 0] <- 0
data_sets$ltrunc <- as.list(ltc[, c("time", "status", "entry", "egfr", "age")])
ltc$id <- seq_len(nl)
ltc$ev <- factor(ltc$status, 0:2, c("censor", "vte", "death"))
fgd <- finegray(Surv(entry, time, ev) ~ ., data = ltc, etype = "vte", id = id)
covs <- c("egfr", "age")
P <- rbind(c(0, 60), c(1, 70))
tgrid <- c(1, 3, 6, 12, 24, 36)
fg_str <- 'finegray(Surv(entry, time, ev) ~ ., data = ltrunc, etype = "vte", id = id)'
for (cl in c(FALSE, TRUE)) {
  add_case(paste0("ltrunc_", if (cl) "robust" else "model"), "ltrunc",
           paste(fg_str, cox_call(covs, cl), sep = "; "), fg_fit(fgd, covs, cl), covs, P,
           tgrid, extra = list(cause = 1, entry = "entry"))
}

meta <- list(
  script = "tests/reference/R/survival_finegray_predict.R",
  R_version = R.version.string,
  packages = list(survival = as.character(packageVersion("survival")),
                  cmprsk = as.character(packageVersion("cmprsk")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  generated = as.character(Sys.Date())
)
write_json(list(meta = meta, data = data_sets, cases = cases), out_path, digits = NA,
           auto_unbox = TRUE, pretty = TRUE)
cat("wrote", out_path, "with", length(cases), "cases\n")
