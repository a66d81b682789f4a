# Reference values for drivervte.survival.cuminc / gray: cmprsk::cuminc and timepoints.
# Writes tests/reference/fixtures/cmprsk_cuminc.json. Run from the repository root:
#   Rscript tests/reference/R/cmprsk_cuminc.R
suppressPackageStartupMessages({
  library(cmprsk)
  library(survival)
  library(jsonlite)
})

out_path <- "tests/reference/fixtures/cmprsk_cuminc.json"

run_case <- function(name, time, status, group = NULL, strata = NULL, rho = 0,
                     cencode = 0, tp = NULL) {
  args <- list(ftime = time, fstatus = status, rho = rho, cencode = cencode)
  call <- sprintf("cuminc(ftime, fstatus%s%s, rho = %s, cencode = %s)",
                  if (is.null(group)) "" else ", group",
                  if (is.null(strata)) "" else ", strata", rho, cencode)
  if (!is.null(group)) args$group <- group
  if (!is.null(strata)) args$strata <- strata
  fit <- do.call(cuminc, args)
  curves <- list()
  tests <- NULL
  for (nm in names(fit)) {
    if (nm == "Tests") {
      tt <- fit$Tests
      # I(): keep length-1 vectors as JSON arrays (auto_unbox would unbox them)
      tests <- list(cause = I(rownames(tt)), stat = I(unname(tt[, "stat"])),
                    pv = I(unname(tt[, "pv"])), df = I(unname(tt[, "df"])))
    } else {
      curves[[length(curves) + 1]] <- list(name = nm, time = fit[[nm]]$time,
                                           est = fit[[nm]]$est, var = fit[[nm]]$var)
    }
  }
  case <- list(name = name, call = call,
               input = list(time = time, status = status,
                            group = if (is.null(group)) NULL else as.character(group),
                            strata = if (is.null(strata)) NULL else as.character(strata)),
               rho = rho, cencode = cencode, curves = curves, tests = tests)
  if (!is.null(tp)) {
    p <- timepoints(fit, tp)
    case$timepoints <- list(call = sprintf("timepoints(fit, c(%s))", paste(tp, collapse = ", ")),
                            times = I(sort(unique(tp))), rows = I(rownames(p$est)),
                            est = unname(split(p$est, row(p$est))),
                            var = unname(split(p$var, row(p$var))))
  }
  case
}

cases <- list()

# 1. Hand example: ties between causes and with censoring, event at time 0.
t1 <- c(0, 0, 1, 2, 2, 2, 3, 3, 4, 5, 5, 6)
s1 <- c(1, 0, 2, 1, 1, 0, 2, 1, 0, 1, 2, 1)
cases[[length(cases) + 1]] <- run_case("tiny_ties", t1, s1, tp = c(0, 1, 2, 2.5, 6, 7))

# 2. Simulated cohort, heavy ties (integer months), 3 groups, 2 strata, 3 causes.
set.seed(20240611)
n <- 300
grp <- sample(c("ALK", "EGFR", "none"), n, replace = TRUE, prob = c(0.2, 0.3, 0.5))
str <- sample(c("early", "late"), n, replace = TRUE)
h1 <- 0.02 * ifelse(grp == "ALK", 2.5, ifelse(grp == "EGFR", 0.7, 1)) * ifelse(str == "late", 3, 1)
h2 <- 0.03 * ifelse(str == "late", 2, 1)
h3 <- 0.005
tt <- cbind(rexp(n, h1), rexp(n, h2), rexp(n, h3))
tev <- apply(tt, 1, min)
cause <- apply(tt, 1, which.min)
cens <- pmin(runif(n, 6, 60), 36)
time <- ceiling(pmin(tev, cens))
status <- ifelse(tev <= cens, cause, 0)
for (rho in c(0, 1)) {
  cases[[length(cases) + 1]] <- run_case(sprintf("sim_ties_group_strata_rho%d", rho),
                                         time, status, group = grp, strata = str, rho = rho,
                                         tp = c(3, 6, 12, 24, 36))
}
cases[[length(cases) + 1]] <- run_case("sim_ties_group_rho0", time, status, group = grp,
                                       rho = 0, tp = c(6, 12, 24))
cases[[length(cases) + 1]] <- run_case("sim_ties_rho_half", time, status, group = grp,
                                       strata = str, rho = 0.5)
# Censoring code other than 0 (recode: censored as 9, causes 1..3 as is).
cases[[length(cases) + 1]] <- run_case("sim_cencode9", time, ifelse(status == 0, 9, status),
                                       group = str, cencode = 9)

# 3. Public data: survival::mgus2, progression (1) with death before progression (2)
#    as competing risk, by sex; Gray's test.
d <- survival::mgus2
etime <- with(d, ifelse(pstat == 1, ptime, futime))
estat <- with(d, ifelse(pstat == 1, 1, 2 * death))
cases[[length(cases) + 1]] <- run_case("mgus2_by_sex", etime, estat, group = as.character(d$sex),
                                       tp = c(60, 120, 240, 360))
cases[[length(cases) + 1]] <- run_case("mgus2_by_sex_rho1", etime, estat,
                                       group = as.character(d$sex), rho = 1)

# 4. Edge cases: all-cause KM reaching 0 at the last time (ties at the end), a group
#    without events of one cause, 3 groups with one stratum lacking a group.
t4 <- c(1, 2, 2, 3, 4, 4, 5, 5, 1, 2, 3, 3, 6, 7, 7, 2, 4, 6)
s4 <- c(1, 2, 0, 1, 1, 2, 1, 1, 2, 2, 0, 2, 2, 0, 2, 1, 1, 2)
g4 <- c(rep("a", 8), rep("b", 7), rep("c", 3))
st4 <- c(rep(1, 4), rep(2, 4), rep(1, 7), rep(1, 3))
cases[[length(cases) + 1]] <- run_case("edge_groups_strata", t4, s4, group = g4, strata = st4,
                                       tp = c(0.5, 2, 5, 7, 8))

# 5. A group without any event (finite test), and a singular variance (R reports -1).
cases[[length(cases) + 1]] <- run_case("group_without_events", c(1, 2, 3, 4, 5),
                                       c(1, 2, 0, 0, 1), group = c("a", "a", "b", "b", "a"),
                                       tp = c(1, 3, 4, 6))
cases[[length(cases) + 1]] <- run_case("singular_variance", c(1, 2, 3, 0.5), c(1, 1, 0, 0),
                                       group = c("a", "a", "a", "b"))

fixture <- list(
  meta = list(script = "tests/reference/R/cmprsk_cuminc.R", R_version = R.version.string,
              packages = list(cmprsk = as.character(packageVersion("cmprsk")),
                              survival = as.character(packageVersion("survival"))),
              generated = as.character(Sys.Date())),
  cases = cases)
dir.create(dirname(out_path), showWarnings = FALSE, recursive = TRUE)
write_json(fixture, out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null", na = "null")
cat("wrote", out_path, "\n")
