# Reference values for drivervte.scores.validation_cindex.cindex_competing:
#   pec::cindex(..., cause = 1) -- Wolbers et al. (2009, 2014) concordance for competing
#   risks, with reverse Kaplan-Meier IPCW (cens.model = "marginal") or no weights
#   (cens.model = "none"). The marker is passed as a numeric N x NT matrix of predicted
#   cumulative incidences (pec's predictEventProb.matrix returns it unchanged).
# Writes tests/reference/fixtures/pec_cindex.json. Run from the repository root:
#   Rscript tests/reference/R/pec_cindex.R
# Cohorts are written into the fixture as columns, so the tests need no RNG.
suppressPackageStartupMessages({
  library(pec)
  library(prodlim)
  library(jsonlite)
})

out_path <- "tests/reference/fixtures/pec_cindex.json"

sim <- function(n, seed, round_time = FALSE, round_marker = FALSE) {
  set.seed(seed)
  x <- rnorm(n)
  t1 <- rexp(n, 0.08 * exp(0.8 * x)); t2 <- rexp(n, 0.05); cens <- runif(n, 1, 30)
  tt <- pmin(t1, t2, cens)
  status <- ifelse(tt == t1, 1L, ifelse(tt == t2, 2L, 0L))
  time <- if (round_time) pmax(1, round(tt)) else round(tt, 6)
  marker <- plogis(x + rnorm(n, 0, 0.7))
  marker <- if (round_marker) round(marker, 1) else round(marker, 8)
  data.frame(time = time, status = status, marker = marker)
}

# small hand-made cohort: censoring, cause 1 and cause 2 tied at the same times
hand <- data.frame(
  time = c(1, 2, 2, 2, 3, 3, 3, 4, 5, 5, 6, 7),
  status = c(1L, 1L, 0L, 2L, 1L, 2L, 0L, 1L, 0L, 1L, 2L, 0L),
  marker = c(0.9, 0.5, 0.7, 0.5, 0.4, 0.6, 0.4, 0.3, 0.2, 0.8, 0.1, 0.3)
)

cohorts <- list(
  continuous = sim(80, 11),
  tied_times = sim(120, 12, round_time = TRUE),
  tied_both = sim(100, 13, round_time = TRUE, round_marker = TRUE),
  hand = hand
)

cases <- list()
for (cname in names(cohorts)) {
  d <- cohorts[[cname]]
  times <- as.numeric(quantile(d$time[d$status == 1], c(0.5, 1)))
  times <- sort(unique(c(times, max(d$time))))
  tied_opts <- if (cname %in% c("tied_both", "hand")) c(TRUE, FALSE) else TRUE
  for (cm in c("marginal", "none")) for (tp in tied_opts) {
    pm <- matrix(rep(d$marker, length(times)), ncol = length(times))
    fit <- pec::cindex(list(marker = pm), formula = Hist(time, status) ~ 1, data = d,
                       eval.times = times, pred.times = times, cause = 1,
                       cens.model = cm, tiedPredictionsIn = tp, splitMethod = "noPlan",
                       verbose = FALSE)
    cases[[length(cases) + 1]] <- list(
      name = paste0(cname, "_", cm, if (tp) "" else "_tiesout"),
      call = sprintf(paste0("pec::cindex(list(marker = matrix(rep(d$marker, %d), ncol = %d)), ",
                            "formula = Hist(time, status) ~ 1, data = d, eval.times = c(%s), ",
                            "pred.times = c(%s), cause = 1, cens.model = \"%s\", ",
                            "tiedPredictionsIn = %s, splitMethod = \"noPlan\")"),
                     length(times), length(times), paste(format(times, digits = 17), collapse = ", "),
                     paste(format(times, digits = 17), collapse = ", "), cm, tp),
      cens_model = cm,
      tiedPredictionsIn = tp,
      data = list(time = I(d$time), status = I(d$status), marker = I(d$marker)),
      eval_times = I(times),
      cindex = I(as.numeric(fit$AppCindex$marker)),
      pairsA = I(as.numeric(fit$Pairs$marker$A)),
      pairsB = I(as.numeric(fit$Pairs$marker$B))
    )
  }
}

res <- list(
  meta = list(
    script = "tests/reference/R/pec_cindex.R",
    R_version = R.version.string,
    packages = list(pec = as.character(packageVersion("pec")),
                    prodlim = as.character(packageVersion("prodlim")),
                    jsonlite = as.character(packageVersion("jsonlite"))),
    generated = format(Sys.Date())
  ),
  cases = cases
)
write_json(res, out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote", out_path, "\n")
