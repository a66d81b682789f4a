# Reference fixtures for drivervte.survival.finegray: cmprsk::crr (Fine-Gray) and, for
# delayed entry, survival::finegray + coxph(weights).
#
# Run from the repository root:  Rscript tests/reference/R/cmprsk_crr.R
# Writes tests/reference/fixtures/cmprsk_crr.json.
#
# Every crr() call uses gtol = 1e-10, maxiter = 100 so the estimate is converged far below
# the tests' tolerance (crr's default gtol = 1e-6 stops earlier; 1e-12 is below the noise of
# crr's uncentred sums for the cov2 cases). Vectors are wrapped in I() so that length-1
# vectors stay JSON arrays under auto_unbox. Each case records the exact
# call, the data set it uses (stored once under "data"), coef, var (sandwich), invinf (model
# based = solve(inf)), loglik, loglik.null, uftime, bfitj and predict.crr at two profiles.

suppressPackageStartupMessages({
  library(cmprsk)
  library(survival)
  library(jsonlite)
})

out_path <- file.path("tests", "reference", "fixtures", "cmprsk_crr.json")
data_sets <- list()
cases <- list()

# ------------------------------------------------------------------ data
# Simulated NSCLC-like cohort: integer months (heavy ties), VTE = cause 1, death = cause 2.
set.seed(20261126)
n <- 300
egfr <- rbinom(n, 1, 0.35)
alk <- rbinom(n, 1, 0.08)
age <- round(rnorm(n, 64, 9), 1)
stage <- sample(c("IIIB", "IVA", "IVB"), n, replace = TRUE, prob = c(0.3, 0.3, 0.4))
st_iva <- as.numeric(stage == "IVA")
st_ivb <- as.numeric(stage == "IVB")
h1 <- 0.02 * exp(0.5 * egfr + 0.7 * alk + 0.01 * (age - 64) + 0.4 * st_ivb)
h2 <- 0.03 * exp(-0.2 * egfr + 0.03 * (age - 64) + 0.5 * st_ivb)
t1 <- rexp(n, h1); t2 <- rexp(n, h2); tc <- runif(n, 6, 48)
tt <- pmin(t1, t2, tc)
status <- ifelse(tt == t1, 1, ifelse(tt == t2, 2, 0))
time <- ceiling(tt)                     # integer months: heavy ties across all statuses
site <- sample(c(1, 2), n, replace = TRUE, prob = c(0.6, 0.4))
# site 2 censors more (administrative end earlier): a real reason for cengroup
late <- site == 2 & time > 30
status[late] <- 0; time[late] <- 30
sim <- data.frame(time, status, egfr, alk, age, st_iva, st_ivb, site)
data_sets$sim <- as.list(sim)
X <- as.matrix(sim[, c("egfr", "alk", "age", "st_iva", "st_ivb")])

# Public data: survival::mgus2, progression to plasma-cell malignancy (1) vs death (2).
mg <- survival::mgus2
mg$etime <- ifelse(mg$pstat == 0, mg$futime, mg$ptime)
mg$event <- ifelse(mg$pstat == 0, 2 * mg$death, 1)
mg$male <- as.numeric(mg$sex == "M")
mg <- mg[, c("etime", "event", "age", "male")]
data_sets$mgus2 <- as.list(mg)

# Hand-checked example (see tests/survival/test_finegray_reference.py for the arithmetic).
tiny <- data.frame(time = c(1, 2, 3, 4, 5, 6), status = c(1, 2, 0, 1, 1, 0),
                   x = c(1, 0, 1, 0, 1, 0))
data_sets$tiny <- as.list(tiny)

# ------------------------------------------------------------------ crr cases
mat <- function(m) unname(lapply(seq_len(nrow(m)), function(i) I(as.numeric(m[i, ]))))
v <- function(x) I(unname(as.vector(x)))

add_crr <- function(name, data, call_str, fit, covariates, profiles, profiles2 = NULL,
                    extra = list()) {
  pr <- if (is.null(profiles2)) predict(fit, cov1 = profiles) else
    predict(fit, cov1 = profiles, cov2 = profiles2)
  cases[[length(cases) + 1]] <<- c(list(
    name = name, kind = "crr", data = data, call = call_str, covariates = v(covariates),
    coef = v(fit$coef), names = v(names(fit$coef)), var = mat(fit$var),
    invinf = mat(fit$invinf), loglik = fit$loglik, loglik_null = fit$loglik.null,
    converged = fit$converged, n = fit$n, uftime = v(fit$uftime), bfitj = v(fit$bfitj),
    profiles = mat(profiles), profiles2 = if (is.null(profiles2)) NULL else mat(profiles2),
    predict_cif = mat(pr[, -1, drop = FALSE])
  ), extra)
}

P <- rbind(c(0, 0, 64, 0, 0), c(1, 0, 70, 0, 1))
G <- "gtol = 1e-10, maxiter = 100"

f <- crr(sim$time, sim$status, X, gtol = 1e-10, maxiter = 100)
add_crr("sim_cause1", "sim", paste0("crr(time, status, cov1 = X, ", G, ")"), f,
        colnames(X), P, extra = list(failcode = 1, cencode = 0))

f <- crr(sim$time, sim$status, X, failcode = 2, gtol = 1e-10, maxiter = 100)
add_crr("sim_cause2", "sim", paste0("crr(time, status, cov1 = X, failcode = 2, ", G, ")"), f,
        colnames(X), P, extra = list(failcode = 2, cencode = 0))

f <- crr(sim$time, sim$status, X, cengroup = sim$site, gtol = 1e-10, maxiter = 100)
add_crr("sim_cengroup", "sim",
        paste0("crr(time, status, cov1 = X, cengroup = site, ", G, ")"), f,
        colnames(X), P, extra = list(failcode = 1, cencode = 0, cengroup = "site"))

f <- crr(sim$time, sim$status, X, cengroup = sim$site, failcode = 2, gtol = 1e-10,
         maxiter = 100)
add_crr("sim_cengroup_cause2", "sim",
        paste0("crr(time, status, cov1 = X, cengroup = site, failcode = 2, ", G, ")"), f,
        colnames(X), P, extra = list(failcode = 2, cencode = 0, cengroup = "site"))

# censoring coded 9 instead of 0 (cencode)
st9 <- ifelse(sim$status == 0, 9, sim$status)
f <- crr(sim$time, st9, X, cencode = 9, gtol = 1e-10, maxiter = 100)
add_crr("sim_cencode9", "sim",
        paste0("crr(time, ifelse(status == 0, 9, status), cov1 = X, cencode = 9, ", G, ")"),
        f, colnames(X), P, extra = list(failcode = 1, cencode = 9, recode_censored_to = 9))

tfun <- function(t) cbind(log(t), t / 12)
X2 <- as.matrix(sim[, c("egfr", "age")])
f <- crr(sim$time, sim$status, X, cov2 = X2, tf = tfun, gtol = 1e-10, maxiter = 100)
add_crr("sim_tf", "sim",
        paste0("crr(time, status, cov1 = X, cov2 = cbind(egfr, age), ",
               "tf = function(t) cbind(log(t), t / 12), ", G, ")"), f,
        colnames(X), P, profiles2 = rbind(c(0, 64), c(1, 70)),
        extra = list(failcode = 1, cencode = 0, cov2 = c("egfr", "age"),
                     tf = "cbind(log(t), t / 12)"))

f <- crr(sim$time, sim$status, X, cov2 = X2, tf = tfun, cengroup = sim$site,
         gtol = 1e-10, maxiter = 100)
add_crr("sim_tf_cengroup", "sim",
        paste0("crr(time, status, cov1 = X, cov2 = cbind(egfr, age), ",
               "tf = function(t) cbind(log(t), t / 12), cengroup = site, ", G, ")"), f,
        colnames(X), P, profiles2 = rbind(c(0, 64), c(1, 70)),
        extra = list(failcode = 1, cencode = 0, cov2 = c("egfr", "age"),
                     tf = "cbind(log(t), t / 12)", cengroup = "site"))

Xm <- as.matrix(mg[, c("age", "male")])
f <- crr(mg$etime, mg$event, Xm, gtol = 1e-10, maxiter = 100)
add_crr("mgus2_pcm", "mgus2",
        paste0("crr(etime, event, cov1 = cbind(age, male), ", G, ")"), f,
        c("age", "male"), rbind(c(60, 0), c(75, 1)), extra = list(failcode = 1, cencode = 0))

f <- crr(tiny$time, tiny$status, cbind(x = tiny$x), gtol = 1e-10, maxiter = 100)
add_crr("tiny", "tiny", paste0("crr(time, status, cov1 = cbind(x), ", G, ")"), f,
        "x", rbind(0, 1), extra = list(failcode = 1, cencode = 0))

# Times at 0 (events, competing events and censorings at t = 0; crr weights G(0) there).
zero <- sim[1:120, ]
zero$time[c(1:6, 50:53)] <- 0
zero$status[c(1, 2, 50)] <- 1; zero$status[c(3, 4, 51)] <- 2; zero$status[c(5, 6, 52)] <- 0
data_sets$zero <- as.list(zero)
Xz <- as.matrix(zero[, c("egfr", "age", "st_ivb")])
f <- crr(zero$time, zero$status, Xz, gtol = 1e-10, maxiter = 100)
add_crr("zero_times", "zero", paste0("crr(time, status, cov1 = cbind(egfr, age, st_ivb), ", G, ")"),
        f, colnames(Xz), rbind(c(0, 64, 0), c(1, 70, 1)), extra = list(failcode = 1, cencode = 0))

# Continuous times (no ties): here finegray + coxph(weights) reproduces crr's coefficients.
set.seed(11)
nc <- 150
cont <- data.frame(time = round(rexp(nc, 0.1), 6) + 0.001, status = sample(0:2, nc, TRUE),
                   egfr = rbinom(nc, 1, 0.4), age = round(rnorm(nc, 63, 8), 1))
stopifnot(!anyDuplicated(cont$time))
data_sets$cont <- as.list(cont)
Xc <- as.matrix(cont[, c("egfr", "age")])
f <- crr(cont$time, cont$status, Xc, gtol = 1e-10, maxiter = 100)
add_crr("cont_cause1", "cont", paste0("crr(time, status, cov1 = cbind(egfr, age), ", G, ")"),
        f, colnames(Xc), rbind(c(0, 60), c(1, 70)), extra = list(failcode = 1, cencode = 0))

# ------------------------------------------------------------------ finegray + coxph
# Without delayed entry (coefficients must equal crr's) and with delayed entry.
fg_case <- function(name, data, call_fg, call_cox, fgd, fit, covariates, extra = list()) {
  cases[[length(cases) + 1]] <<- c(list(
    name = name, kind = "finegray_coxph", data = data,
    call = paste(call_fg, call_cox, sep = "; "), covariates = v(covariates),
    coef = v(coef(fit)), names = v(names(coef(fit))),
    var_robust = mat(fit$var), var_naive = mat(fit$naive.var),
    loglik = v(fit$loglik), n_expanded = nrow(fgd)
  ), extra)
}

simf <- sim
simf$id <- seq_len(n)
simf$ev <- factor(simf$status, 0:2, c("censor", "vte", "death"))
fgd <- finegray(Surv(time, ev) ~ ., data = simf, etype = "vte")
fit <- coxph(Surv(fgstart, fgstop, fgstatus) ~ egfr + alk + age + st_iva + st_ivb,
             data = fgd, weight = fgwt, ties = "breslow", cluster = id,
             control = coxph.control(eps = 1e-11, iter.max = 100))
fg_case("sim_fg_noentry", "sim",
        'finegray(Surv(time, ev) ~ ., data = sim, etype = "vte")',
        paste("coxph(Surv(fgstart, fgstop, fgstatus) ~ egfr + alk + age + st_iva + st_ivb,",
              "weight = fgwt, ties = 'breslow', cluster = id, eps = 1e-11)"),
        fgd, fit, colnames(X))

contf <- cont
contf$id <- seq_len(nc)
contf$ev <- factor(contf$status, 0:2, c("censor", "vte", "death"))
fgd <- finegray(Surv(time, ev) ~ ., data = contf, etype = "vte")
fit <- coxph(Surv(fgstart, fgstop, fgstatus) ~ egfr + age,
             data = fgd, weight = fgwt, ties = "breslow", cluster = id,
             control = coxph.control(eps = 1e-11, iter.max = 100))
fg_case("cont_fg_noentry", "cont",
        'finegray(Surv(time, ev) ~ ., data = cont, etype = "vte")',
        paste("coxph(Surv(fgstart, fgstop, fgstatus) ~ egfr + age,",
              "weight = fgwt, ties = 'breslow', cluster = id, eps = 1e-11)"),
        fgd, fit, colnames(Xc))

# delayed entry: entry before time, integer-ish
set.seed(7)
simf$entry <- pmin(floor(runif(n, 0, 6)), simf$time - 0.5)
simf$entry[simf$entry < 0] <- 0
data_sets$sim$entry <- simf$entry
fgd <- finegray(Surv(entry, time, ev) ~ ., data = simf, etype = "vte", id = id)
fit <- coxph(Surv(fgstart, fgstop, fgstatus) ~ egfr + alk + age + st_iva + st_ivb,
             data = fgd, weight = fgwt, ties = "breslow", cluster = id,
             control = coxph.control(eps = 1e-11, iter.max = 100))
fg_case("sim_fg_entry", "sim",
        'finegray(Surv(entry, time, ev) ~ ., data = sim, etype = "vte", id = id)',
        paste("coxph(Surv(fgstart, fgstop, fgstatus) ~ egfr + alk + age + st_iva + st_ivb,",
              "weight = fgwt, ties = 'breslow', cluster = id, eps = 1e-11)"),
        fgd, fit, colnames(X), extra = list(entry = "entry"))

# Real left truncation (entry > 0 for most subjects), 1) continuous times: no ties at all;
# 2) integer months with entries tied with censoring, VTE and death times (and entry = 0
# for some), the case where finegray's risk set of the censoring KM (entry < t <= exit)
# matters; 3) the same data with death as the event of interest.
lt_fit <- function(fgd, covs) {
  coxph(as.formula(paste("Surv(fgstart, fgstop, fgstatus) ~",
                         paste(covs, collapse = " + "))),
        data = fgd, weight = fgwt, ties = "breslow", cluster = id,
        control = coxph.control(eps = 1e-11, iter.max = 100))
}
lt_cox_call <- function(covs) paste("coxph(Surv(fgstart, fgstop, fgstatus) ~",
                                    paste(covs, collapse = " + "),
                                    ", weight = fgwt, ties = 'breslow', cluster = id, eps = 1e-11)")
set.seed(31)
nl <- 250
ltc <- data.frame(egfr = rbinom(nl, 1, 0.4), kras = rbinom(nl, 1, 0.15),
                  age = round(rnorm(nl, 64, 9), 1))
t1 <- rexp(nl, 0.04 * exp(0.6 * ltc$egfr - 0.3 * ltc$kras + 0.02 * (ltc$age - 64)))
t2 <- rexp(nl, 0.05 * exp(0.03 * (ltc$age - 64)))
tc <- runif(nl, 3, 40)
ltc$time <- pmin(t1, t2, tc)
ltc$status <- ifelse(ltc$time == t1, 1, ifelse(ltc$time == t2, 2, 0))
ltc$entry <- runif(nl, 0, 0.8) * pmin(ltc$time, 6)
stopifnot(!anyDuplicated(c(ltc$time, ltc$entry)), all(ltc$entry < ltc$time))
ltc$id <- seq_len(nl)
data_sets$lt_cont <- as.list(ltc[, c("entry", "time", "status", "egfr", "kras", "age")])
ltc$ev <- factor(ltc$status, 0:2, c("censor", "vte", "death"))
covs <- c("egfr", "kras", "age")
fgd <- finegray(Surv(entry, time, ev) ~ ., data = ltc, etype = "vte", id = id)
fg_case("lt_cont_vte", "lt_cont",
        'finegray(Surv(entry, time, ev) ~ ., data = lt_cont, etype = "vte", id = id)',
        lt_cox_call(covs), fgd, lt_fit(fgd, covs), covs, extra = list(entry = "entry"))

set.seed(32)
lt <- data.frame(egfr = rbinom(nl, 1, 0.4), kras = rbinom(nl, 1, 0.15),
                 age = round(rnorm(nl, 64, 9), 1))
t1 <- rexp(nl, 0.04 * exp(0.6 * lt$egfr - 0.3 * lt$kras + 0.02 * (lt$age - 64)))
t2 <- rexp(nl, 0.05 * exp(0.03 * (lt$age - 64)))
tc <- runif(nl, 2, 30)
tt <- pmin(t1, t2, tc)
lt$status <- ifelse(tt == t1, 1, ifelse(tt == t2, 2, 0))
lt$time <- ceiling(tt)
lt$entry <- pmin(floor(runif(nl, 0, 12)), lt$time - 1)
lt$entry[lt$entry < 0] <- 0
ties_ce <- intersect(lt$entry, lt$time[lt$status == 0])
stopifnot(length(ties_ce) > 3, all(lt$entry < lt$time))
lt$id <- seq_len(nl)
data_sets$lt_ties <- as.list(lt[, c("entry", "time", "status", "egfr", "kras", "age")])
lt$ev <- factor(lt$status, 0:2, c("censor", "vte", "death"))
fgd <- finegray(Surv(entry, time, ev) ~ ., data = lt, etype = "vte", id = id)
fg_case("lt_ties_vte", "lt_ties",
        'finegray(Surv(entry, time, ev) ~ ., data = lt_ties, etype = "vte", id = id)',
        lt_cox_call(covs), fgd, lt_fit(fgd, covs), covs, extra = list(entry = "entry"))
fgd <- finegray(Surv(entry, time, ev) ~ ., data = lt, etype = "death", id = id)
fg_case("lt_ties_death", "lt_ties",
        'finegray(Surv(entry, time, ev) ~ ., data = lt_ties, etype = "death", id = id)',
        lt_cox_call(covs), fgd, lt_fit(fgd, covs), covs,
        extra = list(entry = "entry", failcode = 2))

# Near ties (floating-point noise of ~1e-10 relative, as from unit conversions): finegray's
# timefix (aeqSurv) merges them with the exact times before building the weights.
ltn <- lt
set.seed(33)
jig <- sample(nl, 60)
ltn$time[jig] <- ltn$time[jig] * (1 + 1e-10)
jig <- sample(which(ltn$entry > 0), 40)
ltn$entry[jig] <- ltn$entry[jig] * (1 - 1e-10)
stopifnot(length(unique(c(ltn$time, ltn$entry))) > length(unique(c(lt$time, lt$entry))))
data_sets$lt_neartie <- as.list(ltn[, c("entry", "time", "status", "egfr", "kras", "age")])
fgd <- finegray(Surv(entry, time, ev) ~ ., data = ltn, etype = "vte", id = id)
fg_case("lt_neartie_vte", "lt_neartie",
        'finegray(Surv(entry, time, ev) ~ ., data = lt_neartie, etype = "vte", id = id)',
        lt_cox_call(covs), fgd, lt_fit(fgd, covs), covs, extra = list(entry = "entry"))

# ------------------------------------------------------------------ write
out <- list(
  meta = list(
    script = "tests/reference/R/cmprsk_crr.R",
    R_version = R.version.string,
    packages = list(cmprsk = as.character(packageVersion("cmprsk")),
                    survival = as.character(packageVersion("survival"))),
    generated = format(Sys.Date())
  ),
  data = data_sets,
  cases = cases
)
jsonlite::write_json(out, out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote", out_path, "\n")
