# Reference fixtures for drivervte.survival.logistic (Logistic): stats::glm(family = binomial).
# Run from the repository root: Rscript tests/reference/R/stats_glm.R
# Writes tests/reference/fixtures/stats_glm.json.
suppressPackageStartupMessages(library(jsonlite))

ctl <- glm.control(epsilon = 1e-14, maxit = 100)
ctl_str <- "glm.control(epsilon = 1e-14, maxit = 100)"
datasets <- list()
cases <- list()

run_case <- function(id, dataset, formula, covariates, control = ctl, control_str = ctl_str) {
  df <- as.data.frame(datasets[[dataset]])
  warns <- character(0)
  fit <- withCallingHandlers(
    glm(formula, family = binomial, data = df, control = control),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  null <- glm(update(formula, . ~ 1), family = binomial, data = df, control = control)
  ci <- confint.default(fit)
  cases[[length(cases) + 1]] <<- list(
    id = id,
    call = paste0("glm(", deparse1(formula), ", family = binomial, data = ", dataset,
                  ", control = ", control_str, "); confint.default(fit)"),
    dataset = dataset,
    outcome = all.vars(formula)[1],
    covariates = I(covariates),
    warnings = I(warns),
    expected = list(
      names = names(coef(fit)),
      coef = unname(coef(fit)),
      vcov = unname(vcov(fit)),
      ci_lower = unname(ci[, 1]),
      ci_upper = unname(ci[, 2]),
      loglik = as.numeric(logLik(fit)),
      loglik_null = as.numeric(logLik(null)),
      deviance = fit$deviance,
      null_deviance = fit$null.deviance,
      aic = fit$aic,
      iter = fit$iter,
      converged = fit$converged,
      n = nrow(df),
      events = sum(df[[all.vars(formula)[1]]])
    )
  )
}

# VTE during follow-up in a simulated NSCLC cohort: driver genes, age, stage (dummies)
set.seed(20261126)
n <- 500
vte <- data.frame(
  egfr = rbinom(n, 1, 0.3),
  alk = rbinom(n, 1, 0.06),
  age = round(rnorm(n, 64, 9), 1),
  stage4 = rbinom(n, 1, 0.55)
)
vte$alk[vte$egfr == 1] <- 0
lp <- -2.2 + 0.9 * vte$alk - 0.2 * vte$egfr + 0.015 * (vte$age - 64) + 0.7 * vte$stage4
vte$vte <- rbinom(n, 1, plogis(lp))
datasets$vte <- as.list(vte)
run_case("vte_full", "vte", vte ~ egfr + alk + age + stage4, c("egfr", "alk", "age", "stage4"))
run_case("vte_alk", "vte", vte ~ alk, "alk")

# case-control: 60 cases, 120 controls, one binary exposure and a continuous confounder
set.seed(7)
cc <- data.frame(case = rep(c(1, 0), c(60, 120)))
cc$kras <- rbinom(180, 1, ifelse(cc$case == 1, 0.35, 0.2))
cc$smoke <- round(rnorm(180, 20 + 8 * cc$case, 10), 1)
datasets$cc <- as.list(cc)
run_case("casecontrol", "cc", case ~ kras + smoke, c("kras", "smoke"))

# perfect separation: every ALK-positive patient had VTE
sep <- data.frame(vte = c(1, 1, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1),
                  alk = c(1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0),
                  age = c(50, 61, 72, 58, 66, 70, 45, 62, 59, 68, 71, 55))
datasets$sep <- as.list(sep)
run_case("separation", "sep", vte ~ alk + age, c("alk", "age"),
         control = glm.control(), control_str = "glm.control()")

out <- list(
  meta = list(
    script = "tests/reference/R/stats_glm.R",
    R_version = R.version.string,
    packages = list(stats = as.character(packageVersion("stats")),
                    jsonlite = as.character(packageVersion("jsonlite"))),
    generated = as.character(Sys.Date()),
    note = "ci_* are Wald intervals on the log-odds scale (confint.default)."
  ),
  datasets = datasets,
  cases = cases
)
dir.create("tests/reference/fixtures", showWarnings = FALSE, recursive = TRUE)
write_json(out, "tests/reference/fixtures/stats_glm.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
cat("wrote", length(cases), "cases\n")
