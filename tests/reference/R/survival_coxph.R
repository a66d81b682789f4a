# Reference fixtures for drivervte.survival.cox (CoxPH): survival::coxph.
# Run from the repository root: Rscript tests/reference/R/survival_coxph.R
# Writes tests/reference/fixtures/survival_coxph.json.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-14, iter.max = 100)
control_str <- "coxph.control(eps = 1e-12, toler.chol = 1e-14, iter.max = 100)"

datasets <- list()
cases <- list()

add_data <- function(name, df) {
  datasets[[name]] <<- as.list(df)
}

run_case <- function(id, dataset, formula, ties, covariates, extra = list(),
                     args = list(), cause = 1, ctl_used = ctl, ctl_str = control_str) {
  df <- as.data.frame(datasets[[dataset]])
  warns <- character(0)
  fit <- withCallingHandlers(
    do.call(coxph, c(list(formula = formula, data = df, ties = ties, control = ctl_used), args)),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  arg_str <- paste(vapply(names(args), function(a) paste0(a, " = ", deparse(args[[a]])),
                          character(1)), collapse = ", ")
  call <- paste0("coxph(", deparse1(formula), ", data = ", dataset, ", ties = \"", ties, "\", ",
                 if (nchar(arg_str)) paste0(arg_str, ", ") else "",
                 "control = ", ctl_str, ")")
  out <- list(
    coef = unname(coef(fit)),
    var = unname(fit$var),
    loglik = unname(fit$loglik),
    iter = fit$iter,
    score = unname(fit$score),
    wald = unname(fit$wald.test),
    n = fit$n,
    nevent = fit$nevent,
    concordance = as.list(fit$concordance[c("concordant", "discordant", "tied.x",
                                            "concordance")])
  )
  if (!is.null(fit$naive.var)) {
    out$naive_var <- unname(fit$naive.var)
    out$rscore <- unname(fit$rscore)
  }
  # robust_arg: the robust argument as passed ("default" when missing: coxph decides);
  # robust: the variance coxph reported.
  robust_arg <- if (is.null(args$robust)) "default" else args$robust
  case <- c(list(id = id, call = call, dataset = dataset, ties = ties,
                 covariates = I(covariates), cause = cause), extra,
            list(robust_arg = robust_arg, robust = !is.null(fit$naive.var),
                 warnings = I(warns), expected = out))
  cases[[length(cases) + 1]] <<- case
}

# ---- lung (complete cases), status recoded 0/1 -----------------------------
lung2 <- na.omit(lung[, c("time", "status", "age", "sex", "ph.ecog", "wt.loss", "inst")])
lung2$status <- lung2$status - 1
lung2$wt <- rep(c(1, 2, 3), length.out = nrow(lung2))   # integer case weights
add_data("lung", lung2)
for (tt in c("efron", "breslow")) {
  run_case(paste0("lung_", tt), "lung",
           Surv(time, status) ~ age + sex + ph.ecog + wt.loss, tt,
           c("age", "sex", "ph.ecog", "wt.loss"))
  run_case(paste0("lung_strata_cluster_", tt), "lung",
           Surv(time, status) ~ age + ph.ecog + wt.loss + strata(sex), tt,
           c("age", "ph.ecog", "wt.loss"), list(strata = "sex", cluster = "inst"),
           args = list(cluster = quote(inst)))
  run_case(paste0("lung_weights_", tt), "lung",
           Surv(time, status) ~ age + sex + ph.ecog, tt,
           c("age", "sex", "ph.ecog"), list(weights = "wt"),
           args = list(weights = quote(wt), robust = FALSE))
  run_case(paste0("lung_weights_robust_", tt), "lung",
           Surv(time, status) ~ age + sex + ph.ecog, tt,
           c("age", "sex", "ph.ecog"), list(weights = "wt"),
           args = list(weights = quote(wt), robust = TRUE))
  # robust missing: integer weights -> coxph keeps the model-based variance
  run_case(paste0("lung_weights_default_", tt), "lung",
           Surv(time, status) ~ age + sex + ph.ecog, tt,
           c("age", "sex", "ph.ecog"), list(weights = "wt"),
           args = list(weights = quote(wt)))
}
# cluster with robust = FALSE: coxph warns "cluster specified with robust=FALSE, cluster
# ignored" and reports the model-based variance
run_case("lung_cluster_norobust_efron", "lung",
         Surv(time, status) ~ age + sex + ph.ecog, "efron",
         c("age", "sex", "ph.ecog"), list(cluster = "inst"),
         args = list(cluster = quote(inst), robust = FALSE))

# ---- veteran: celltype as treatment dummies (reference squamous) -----------
vet <- veteran
mm <- model.matrix(~ celltype, vet)[, -1]
colnames(mm) <- c("smallcell", "adeno", "large")
vet <- cbind(vet[, c("time", "status", "trt", "karno", "age", "prior")], mm)
add_data("veteran", vet)
for (tt in c("efron", "breslow")) {
  run_case(paste0("veteran_", tt), "veteran",
           Surv(time, status) ~ trt + karno + age + prior + smallcell + adeno + large, tt,
           c("trt", "karno", "age", "prior", "smallcell", "adeno", "large"))
}

# ---- ovarian: robust variance --------------------------------------------
add_data("ovarian", ovarian[, c("futime", "fustat", "age", "ecog.ps", "rx")])
for (tt in c("efron", "breslow")) {
  run_case(paste0("ovarian_robust_", tt), "ovarian",
           Surv(futime, fustat) ~ age + ecog.ps + rx, tt, c("age", "ecog.ps", "rx"),
           list(time = "futime", status = "fustat"), args = list(robust = TRUE))
}

# ---- heart (Stanford transplant): counting process (start, stop] -----------
hrt <- heart[, c("start", "stop", "event", "age", "year", "surgery", "transplant", "id")]
hrt$transplant <- as.numeric(as.character(hrt$transplant))
add_data("heart", hrt)
for (tt in c("efron", "breslow")) {
  run_case(paste0("heart_counting_", tt), "heart",
           Surv(start, stop, event) ~ age + year + surgery + transplant, tt,
           c("age", "year", "surgery", "transplant"),
           list(time = "stop", status = "event", entry = "start"))
  run_case(paste0("heart_counting_cluster_", tt), "heart",
           Surv(start, stop, event) ~ age + year + surgery + transplant, tt,
           c("age", "year", "surgery", "transplant"),
           list(time = "stop", status = "event", entry = "start", cluster = "id"),
           args = list(cluster = quote(id)))
}

# ---- simulated: heavy ties (integer times), competing causes, delayed entry --
set.seed(20261126)
n <- 400
sim <- data.frame(
  egfr = rbinom(n, 1, 0.3),
  kras = rbinom(n, 1, 0.25),
  age = round(rnorm(n, 65, 9), 1),
  site = sample(1:4, n, replace = TRUE)
)
lp1 <- 0.6 * sim$egfr - 0.4 * sim$kras + 0.02 * (sim$age - 65)
lp2 <- -0.3 * sim$egfr + 0.5 * sim$kras
t1 <- rexp(n, 0.08 * exp(lp1)); t2 <- rexp(n, 0.05 * exp(lp2)); cens <- runif(n, 2, 16)
tt0 <- pmin(t1, t2, cens)
sim$time <- ceiling(tt0)                            # integer months: heavy ties
sim$status <- ifelse(tt0 == cens, 0L, ifelse(t1 < t2, 1L, 2L))
sim$entry <- ifelse(runif(n) < 0.4, floor(runif(n) * (sim$time)), 0)
sim$entry[sim$entry >= sim$time] <- 0
sim$w <- round(runif(n, 0.5, 2), 3)                 # non-integer weights
sim$cluster <- rep(1:100, each = 4)
add_data("sim", sim)
for (tt in c("efron", "breslow")) {
  for (k in 1:2) {
    run_case(paste0("sim_cause", k, "_", tt), "sim",
             as.formula(paste0("Surv(time, status == ", k, ") ~ egfr + kras + age")), tt,
             c("egfr", "kras", "age"), cause = k)
  }
  run_case(paste0("sim_cause1_strata_", tt), "sim",
           Surv(time, status == 1) ~ egfr + kras + age + strata(site), tt,
           c("egfr", "kras", "age"), list(strata = "site"))
  run_case(paste0("sim_cause1_weights_", tt), "sim",
           Surv(time, status == 1) ~ egfr + kras + age, tt, c("egfr", "kras", "age"),
           list(weights = "w"), args = list(weights = quote(w), robust = FALSE))
  # robust missing: non-integer weights -> coxph switches to the robust variance
  run_case(paste0("sim_cause1_weights_default_", tt), "sim",
           Surv(time, status == 1) ~ egfr + kras + age, tt, c("egfr", "kras", "age"),
           list(weights = "w"), args = list(weights = quote(w)))
  run_case(paste0("sim_cause2_entry_weights_default_", tt), "sim",
           Surv(entry, time, status == 2) ~ egfr + kras + age, tt, c("egfr", "kras", "age"),
           list(entry = "entry", weights = "w"), cause = 2, args = list(weights = quote(w)))
  run_case(paste0("sim_cause1_weights_robust_", tt), "sim",
           Surv(time, status == 1) ~ egfr + kras + age, tt, c("egfr", "kras", "age"),
           list(weights = "w"), args = list(weights = quote(w), robust = TRUE))
  run_case(paste0("sim_cause1_entry_", tt), "sim",
           Surv(entry, time, status == 1) ~ egfr + kras + age, tt, c("egfr", "kras", "age"),
           list(entry = "entry"))
  run_case(paste0("sim_cause2_entry_strata_weights_cluster_", tt), "sim",
           Surv(entry, time, status == 2) ~ egfr + kras + age + strata(site), tt,
           c("egfr", "kras", "age"),
           list(entry = "entry", strata = "site", weights = "w", cluster = "cluster"),
           cause = 2, args = list(weights = quote(w), cluster = quote(cluster)))
}

# ---- hand-checked: Therneau's 6-observation example (survival validation vignette) ---
tiny <- data.frame(time = c(1, 1, 6, 6, 8, 9), status = c(1, 0, 1, 1, 0, 1),
                   x = c(1, 1, 1, 0, 0, 0))
add_data("tiny", tiny)
for (tt in c("efron", "breslow")) {
  run_case(paste0("tiny_", tt), "tiny", Surv(time, status) ~ x, tt, "x")
}

# ---- edge cases: a single event; every event at one time; events at time 0 ----------
edge <- data.frame(time = c(0, 0, 1, 2, 2, 3, 3, 3, 4, 5, 6, 7),
                   status = c(1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0),
                   x = c(0.3, 1.2, -0.5, 0.8, -1.1, 0.1, 0.6, -0.2, 1.5, -0.7, 0.0, 0.4),
                   one = c(0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0),
                   same = c(1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0))
edge$t_same <- ifelse(edge$same == 1, 2, 5)
add_data("edge", edge)
for (tt in c("efron", "breslow")) {
  run_case(paste0("edge_time_zero_", tt), "edge", Surv(time, status) ~ x, tt, "x")
  run_case(paste0("edge_single_event_", tt), "edge", Surv(time, one) ~ x, tt, "x",
           list(status = "one"))
  run_case(paste0("edge_all_tied_", tt), "edge", Surv(t_same, same) ~ x, tt, "x",
           list(time = "t_same", status = "same"))
}

# ---- monotone likelihood: no events when x = 1 (coefficient -> -Inf) ---------------
mono <- data.frame(time = c(1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
                   status = c(1, 1, 0, 1, 1, 0, 0, 1, 0, 0),
                   x = c(0, 0, 1, 0, 0, 1, 1, 0, 1, 1),
                   z = c(0.5, -1.2, 0.3, 0.8, -0.1, 1.1, -0.7, 0.2, 0.4, -0.3))
add_data("mono", mono)
run_case("monotone_maxiter_efron", "mono", Surv(time, status) ~ x + z, "efron", c("x", "z"),
         ctl_used = coxph.control(), ctl_str = "coxph.control()")
# larger: R's "Loglik converged before variable 1; coefficient may be infinite"
set.seed(3)
mono2 <- data.frame(x = rep(0:1, each = 50))
mono2$z <- round(rnorm(100), 2)
mono2$time <- round(rexp(100, 0.1), 1) + 0.1
mono2$status <- ifelse(mono2$x == 1, 0, rbinom(100, 1, 0.8))
add_data("mono2", mono2)
run_case("monotone_loglik_converged_efron", "mono2", Surv(time, status) ~ x + z, "efron",
         c("x", "z"), ctl_used = coxph.control(), ctl_str = "coxph.control()")

out <- list(
  meta = list(
    script = "tests/reference/R/survival_coxph.R",
    R_version = R.version.string,
    packages = list(survival = as.character(packageVersion("survival")),
                    jsonlite = as.character(packageVersion("jsonlite"))),
    generated = as.character(Sys.Date()),
    control = control_str,
    note = paste("var is the variance coxph reports (robust when robust); naive_var the",
                 "model-based one. robust_arg is coxph's robust argument ('default' when",
                 "missing: coxph decides), robust the variance it then reported.",
                 "loglik = c(null, final). Datasets are stored once under",
                 "'datasets'; each case names its columns.")
  ),
  datasets = datasets,
  cases = cases
)
dir.create("tests/reference/fixtures", showWarnings = FALSE, recursive = TRUE)
write_json(out, "tests/reference/fixtures/survival_coxph.json", digits = NA,
           auto_unbox = TRUE, pretty = TRUE)
cat("wrote", length(cases), "cases\n")
