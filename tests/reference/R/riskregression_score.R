# Reference values for drivervte.scores.validation (validate-score):
#   riskRegression::Score(..., metrics = "auc", cens.model = "km", se.fit = TRUE) with
#   competing risks (AUC, SE, Wald CI, contrasts between two markers) and
#   cmprsk::cuminc + timepoints by risk group.
# Writes tests/reference/fixtures/riskregression_score.json. Run from the repository root:
#   Rscript tests/reference/R/riskregression_score.R
# The simulated cohorts are written into the fixture as columns, so the tests need no RNG.
suppressPackageStartupMessages({
  library(riskRegression)
  library(prodlim)
  library(survival)
  library(cmprsk)
  library(jsonlite)
})

out_path <- "tests/reference/fixtures/riskregression_score.json"

simulate_cohort <- function(n, seed) {
  set.seed(seed)
  points <- sample(0:4, n, replace = TRUE, prob = c(0.25, 0.3, 0.25, 0.12, 0.08))
  gene <- rbinom(n, 1, 0.3)
  lp <- -3.2 + 0.35 * points + 0.6 * gene
  h1 <- exp(lp)                    # VTE hazard per month
  h2 <- 0.04                       # death hazard per month
  t1 <- rexp(n, h1); t2 <- rexp(n, h2); cens <- runif(n, 2, 24)
  tt <- pmin(t1, t2, cens)
  # integer-ish times (half months): many ties between and within causes
  time <- pmax(0.5, round(2 * tt) / 2)
  status <- ifelse(tt == t1, 1L, ifelse(tt == t2, 2L, 0L))
  # continuous predicted risk with noise (rounded to 4 digits: a few ties)
  pred <- round(plogis(lp + rnorm(n, 0, 0.5) + 1.5), 4)
  pred_gene <- round(plogis(lp + 0.6 * gene + rnorm(n, 0, 0.3) + 1.5), 4)
  data.frame(time = time, status = status, points = points, gene = gene,
             pred = pred, pred_gene = pred_gene)
}

score_case <- function(name, d, markers, times, contrasts = FALSE, status = "status",
                       cause = 1) {
  preds <- lapply(markers, function(m) d[[m]])
  names(preds) <- markers
  fml <- as.formula(sprintf("Hist(time, %s) ~ 1", status))
  fit <- Score(preds, formula = fml, data = d, times = times,
               cause = cause, metrics = "auc", cens.model = "km", se.fit = TRUE,
               null.model = FALSE, conf.int = 0.95, contrasts = contrasts)
  sc <- as.data.frame(fit$AUC$score)
  out <- list(
    name = name,
    call = sprintf(paste0("Score(list(%s), formula = Hist(time, %s) ~ 1, data = d, ",
                          "times = c(%s), cause = %s, metrics = \"auc\", cens.model = \"km\", ",
                          "se.fit = TRUE, null.model = FALSE, conf.int = 0.95, contrasts = %s)"),
                   paste(markers, collapse = ", "), status, paste(times, collapse = ", "),
                   cause, contrasts),
    status = status, cause = cause,
    markers = I(markers), times = I(times),
    auc = lapply(markers, function(m) {
      s <- sc[sc$model == m, ]
      list(model = m, times = I(s$times), AUC = I(s$AUC), se = I(s$se),
           lower = I(s$lower), upper = I(s$upper))
    })
  )
  if (isTRUE(contrasts)) {
    ct <- as.data.frame(fit$AUC$contrasts)
    out$contrasts <- list(model = I(as.character(ct$model)),
                          reference = I(as.character(ct$reference)),
                          times = I(ct$times), delta = I(ct$delta.AUC), se = I(ct$se),
                          lower = I(ct$lower), upper = I(ct$upper), p = I(ct$p))
  }
  out
}

cuminc_case <- function(name, d, times) {
  grp <- pmin(d$points, 3)
  fit <- cuminc(d$time, d$status, group = grp, cencode = 0)
  tp <- timepoints(fit, times)
  list(name = name,
       call = sprintf("timepoints(cuminc(d$time, d$status, group = pmin(d$points, 3), cencode = 0), c(%s))",
                      paste(times, collapse = ", ")),
       times = I(times),
       rows = I(rownames(tp$est)),
       est = unname(tp$est), var = unname(tp$var))
}

d1 <- simulate_cohort(300, 20261126)
d2 <- simulate_cohort(40, 7)
# tiny cohort, hand-written, with ties in time and marker
d3 <- data.frame(time = c(1, 2, 2, 3, 3, 4, 5, 5, 6, 8, 9, 12),
                 status = c(1, 2, 0, 1, 1, 0, 2, 1, 0, 0, 1, 0),
                 points = c(3, 1, 0, 2, 2, 1, 0, 2, 1, 0, 3, 1),
                 pred = c(.4, .2, .1, .3, .25, .2, .05, .3, .2, .1, .35, .15))

# cause 2 and a third cause: riskRegression 2022.11.28's influence function reads the
# status codes literally (1 = case, 2 = competing), so its SE is only right for cause = 1
# with codes 1/2. The reference is the same data recoded (cause of interest -> 1, every
# other cause -> 2); the direct calls are recorded in "known_differences".
d2$swap <- ifelse(d2$status == 0, 0, 3 - d2$status)
d2$const <- 0.2
d2$status3 <- d2$status
d2$status3[c(1, 5, 9, 13, 17)] <- ifelse(d2$status[c(1, 5, 9, 13, 17)] == 0, 0, 3)
d2$merged3 <- pmin(d2$status3, 2)

times <- c(3, 6, 12)
cases <- list(
  score_case("cohort300_pred", d1, c("pred", "pred_gene"), times, contrasts = TRUE),
  score_case("cohort300_points", d1, c("points"), times),
  score_case("cohort40", d2, c("pred", "points"), times, contrasts = TRUE),
  score_case("tiny12", d3, c("pred", "points"), c(3, 6)),
  score_case("cohort40_const", d2, c("const"), c(3, 6)),
  score_case("cohort40_cause2_recoded", d2, c("pred"), c(3, 6), status = "swap"),
  score_case("cohort40_three_causes_merged", d2, c("pred"), c(3, 6), status = "merged3")
)
known_differences <- list(
  score_case("cohort40_cause2_direct", d2, c("pred"), c(3, 6), cause = 2),
  score_case("cohort40_three_causes_direct", d2, c("pred"), c(3, 6), status = "status3")
)
cuminc_cases <- list(cuminc_case("cohort300_groups", d1, times))

res <- list(
  meta = list(
    script = "tests/reference/R/riskregression_score.R",
    R_version = R.version.string,
    packages = list(riskRegression = as.character(packageVersion("riskRegression")),
                    prodlim = as.character(packageVersion("prodlim")),
                    cmprsk = as.character(packageVersion("cmprsk")),
                    jsonlite = as.character(packageVersion("jsonlite"))),
    generated = format(Sys.Date())
  ),
  data = list(cohort300 = as.list(d1), cohort40 = as.list(d2), tiny12 = as.list(d3)),
  data_of = list(cohort300_pred = "cohort300", cohort300_points = "cohort300",
                 cohort40 = "cohort40", tiny12 = "tiny12", cohort300_groups = "cohort300",
                 cohort40_const = "cohort40", cohort40_cause2_recoded = "cohort40",
                 cohort40_three_causes_merged = "cohort40",
                 cohort40_cause2_direct = "cohort40",
                 cohort40_three_causes_direct = "cohort40"),
  cases = cases,
  known_differences = known_differences,
  cuminc = cuminc_cases
)
write_json(res, out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE)
