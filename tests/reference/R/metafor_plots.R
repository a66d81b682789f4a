# Reference fixtures for drivervte.plots: what metafor's forest() and funnel() actually draw.
#
# Run from the repository root:  Rscript tests/reference/R/metafor_plots.R
# Writes tests/reference/fixtures/metafor_plots.json.
#
# The plots are drawn on a null device with the display list enabled; recordPlot() then
# holds every graphics call with its numeric arguments. From forest() we keep the study CI
# segments (model scale), the summary diamond's vertices and the annotation strings; from
# funnel() the vertices of the contour polygons (every 50th of metafor's 1000 per side), so
# the Python side is checked against the coordinates metafor draws, not against a
# re-derivation of its formulas.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

out_path <- file.path("tests", "reference", "fixtures", "metafor_plots.json")

display_calls <- function(expr) {
  pdf(NULL)
  dev.control("enable")
  force(expr)
  dl <- recordPlot()[[1]]
  dev.off()
  lapply(dl, function(e) list(name = e[[2]][[1]]$name, args = e[[2]][-1]))
}

forest_case <- function(name, res, call, level, k) {
  calls <- display_calls(eval(parse(text = call)))
  segs <- Filter(function(e) e$name == "C_segments", calls)
  # horizontal study CI segments: y0 == y1, x0 < x1, at integer rows 1..k (study i at k-i+1)
  ci_lower <- rep(NA_real_, k); ci_upper <- rep(NA_real_, k)
  for (s in segs) {
    x0 <- s$args[[1]]; y0 <- s$args[[2]]; x1 <- s$args[[3]]; y1 <- s$args[[4]]
    if (y0 == y1 && x0 < x1 && y0 >= 1 && y0 <= k && y0 == round(y0)) {
      i <- k - y0 + 1
      ci_lower[i] <- x0; ci_upper[i] <- x1
    }
  }
  poly <- Filter(function(e) e$name == "C_polygon", calls)[[1]]
  texts <- Filter(function(e) e$name == "C_text", calls)
  labs <- unlist(lapply(texts, function(e) e$args[[2]]))
  annot <- labs[grepl("\\[", labs)]
  list(name = name, call = call, level = level, k = k,
       study_ci_lower = I(ci_lower), study_ci_upper = I(ci_upper),
       diamond_x = I(poly$args[[1]]),
       annotations = I(trimws(annot)),
       estimate = as.numeric(res$b), ci_lb = res$ci.lb, ci_ub = res$ci.ub)
}

funnel_case <- function(name, res, yaxis, call) {
  calls <- display_calls(eval(parse(text = call)))
  polys <- Filter(function(e) e$name == "C_polygon", calls)
  # drawn widest level first (99, 95, 90); each polygon is c(left, rev(right)) x c(y, rev(y))
  levels <- c(99, 95, 90)
  out <- list()
  for (j in seq_along(polys)) {
    x <- polys[[j]]$args[[1]]; y <- polys[[j]]$args[[2]]
    n <- length(x) / 2
    idx <- seq(1, n, by = 50)
    out[[j]] <- list(level = levels[j], y = I(y[idx]), left = I(x[idx]),
                     right = I(rev(x[(n + 1):(2 * n)])[idx]))
  }
  list(name = name, call = call, yaxis = yaxis, contours = out)
}

dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
res <- rma(yi, vi, data = dat, method = "REML")
res90 <- rma(yi, vi, data = dat, method = "REML", level = 90)
dat_or <- escalc(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
res_ee <- rma(yi, vi, data = dat_or, method = "EE")
# Proportions (single-arm VTE incidence, ALK/ROS1 cohorts of the seed notes): Freeman-Tukey
# with the harmonic-mean back-transformation, and logit with the inverse logit.
xi <- c(23, 12, 20, 11, 6, 33, 20)
ni <- c(55, 43, 48, 47, 29, 95, 42)
dat_pft <- escalc(measure = "PFT", xi = xi, ni = ni)
res_pft <- rma(yi, vi, data = dat_pft, method = "REML")
dat_plo <- escalc(measure = "PLO", xi = xi, ni = ni)
res_plo <- rma(yi, vi, data = dat_plo, method = "DL")

cases <- list(
  forest_case("bcg_rr_reml", res, "forest(res, atransf = exp)", 95, res$k),
  forest_case("bcg_rr_reml_level90", res90, "forest(res90, atransf = exp)", 90, res90$k),
  forest_case("bcg_or_ee_transf", res_ee, "forest(res_ee, transf = exp)", 95, res_ee$k),
  forest_case("prop_pft_reml_transf", res_pft,
              "forest(res_pft, transf = transf.ipft.hm, targs = list(ni = ni))", 95, res_pft$k),
  forest_case("prop_plo_dl_transf", res_plo, "forest(res_plo, transf = transf.ilogit)", 95,
              res_plo$k)
)
funnels <- list()
for (ya in c("sei", "vi", "seinv", "vinv")) {
  call <- sprintf(paste0("funnel(res, yaxis = '%s', level = c(90, 95, 99), refline = 0, ",
                         "shade = c('white', 'gray55', 'gray75'))"), ya)
  funnels[[length(funnels) + 1]] <- funnel_case(paste0("bcg_rr_", ya), res, ya, call)
}

out <- list(
  meta = list(
    script = "tests/reference/R/metafor_plots.R",
    R_version = R.version.string,
    packages = list(metafor = as.character(packageVersion("metafor")),
                    metadat = as.character(packageVersion("metadat"))),
    generated = format(Sys.Date())
  ),
  data = list(
    bcg_rr = list(yi = I(as.numeric(dat$yi)), vi = I(as.numeric(dat$vi)),
                  study = I(paste(dat$author, dat$year))),
    bcg_or = list(yi = I(as.numeric(dat_or$yi)), vi = I(as.numeric(dat_or$vi))),
    prop_pft = list(yi = I(as.numeric(dat_pft$yi)), vi = I(as.numeric(dat_pft$vi)),
                    ni = I(ni)),
    prop_plo = list(yi = I(as.numeric(dat_plo$yi)), vi = I(as.numeric(dat_plo$vi)),
                    ni = I(ni))
  ),
  cases = cases,
  funnels = funnels
)
write_json(out, out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote", out_path, "\n")
