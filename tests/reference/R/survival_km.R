# Reference values for drivervte.survival.kaplan_meier: survival::survfit with log-log CIs.
# Writes tests/reference/fixtures/survival_km.json. Run from the repository root:
#   Rscript tests/reference/R/survival_km.R
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

out_path <- "tests/reference/fixtures/survival_km.json"

run_case <- function(name, time, event, at) {
  fit <- survfit(Surv(time, event) ~ 1, conf.type = "log-log")
  s <- summary(fit, times = at, extend = FALSE)
  tab <- summary(fit)$table
  list(name = name,
       call = "survfit(Surv(time, event) ~ 1, conf.type = \"log-log\")",
       input = list(time = time, event = event),
       time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event,
       n_censor = fit$n.censor, surv = fit$surv, std_err = fit$std.err,
       lower = fit$lower, upper = fit$upper,
       median = unname(tab["median"]), median_lower = unname(tab["0.95LCL"]),
       median_upper = unname(tab["0.95UCL"]),
       at = list(call = sprintf("summary(fit, times = c(%s), extend = FALSE)",
                                paste(at, collapse = ", ")),
                 times = s$time, surv = s$surv, std_err = s$std.err,
                 lower = s$lower, upper = s$upper, n_risk = s$n.risk))
}

cases <- list()
lung <- survival::lung
cases[[1]] <- run_case("lung", lung$time, lung$status - 1, at = c(30, 180, 365, 730, 1000))
vet <- survival::veteran
cases[[2]] <- run_case("veteran", vet$time, vet$status, at = c(10, 100, 365, 999))
# Ties, time-0 event, survival reaching 0 at the last time.
cases[[3]] <- run_case("ties_to_zero", c(0, 1, 1, 2, 2, 2, 3, 4, 4),
                       c(1, 1, 0, 1, 1, 0, 1, 1, 1), at = c(0, 1, 2.5, 4))
# Median exactly at S = 0.5 (midpoint rule).
cases[[4]] <- run_case("median_midpoint", c(1, 2, 3, 4, 5, 6), c(1, 1, 1, 0, 1, 1),
                       at = c(3, 5))

fixture <- list(
  meta = list(script = "tests/reference/R/survival_km.R", R_version = R.version.string,
              packages = list(survival = as.character(packageVersion("survival"))),
              generated = as.character(Sys.Date())),
  cases = cases)
dir.create(dirname(out_path), showWarnings = FALSE, recursive = TRUE)
write_json(fixture, out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null",
           na = "null")
cat("wrote", out_path, "\n")
