#!/usr/bin/env Rscript
###############################################################################
## make_reference.R
##
## Reference values from the R package 'bayesmeta' (Roever 2020, J Stat Softw
## 93(6); developed and checked with bayesmeta 3.4 / R 4.2) for the Bayesian
## random-effects meta-analysis of helpers.stats.bayes: the normal-normal
## hierarchical model with a uniform prior on the mean mu and a half-normal
## prior on the heterogeneity tau, scales 0.5 and 1.0.
##
## Usage (from the folder that holds this script):
##
##     Rscript make_reference.R
##
## With bayesmeta installed, the script uses the installed package. Without it,
## set BAYESMETA_SRC to an unpacked copy of the CRAN package source (a folder
## holding DESCRIPTION, R/bayesmeta.R and data/*.R; README.md says how the
## reference was made) and, optionally, BAYESMETA_COMMIT to the commit of the
## snapshot it came from; the script then sources R/bayesmeta.R (with metafor,
## mvtnorm and numDeriv loaded; forestplot is needed only for plots).
##
## Reads   inputs_book.csv   (written by make_inputs.py from data/)
## Writes  inputs.csv        every dataset's yi, vi (one row per study)
##         bayesmeta.csv     bayesmeta() results, one row per dataset x prior scale
##         exact.csv         the same posterior summaries by nested adaptive
##                           quadrature (integrate + uniroot), independent of
##                           bayesmeta's DIRECT discretisation
##         versions.txt      R and package versions, bayesmeta source
##
## Deterministic: no random numbers; every number is written with 17
## significant digits ("%.17g"), which round-trips IEEE doubles exactly.
## See README.md for every column.
###############################################################################

suppressPackageStartupMessages({
  library(metafor)
  library(mvtnorm)
  library(numDeriv)
})

script_arg <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
out_dir <- if (length(script_arg) == 1L) dirname(normalizePath(script_arg)) else getwd()
options(warn = 1)

## ---------------------------------------------------------------------------
## 1. bayesmeta: the installed package, or the sourced CRAN source
## ---------------------------------------------------------------------------
bm_src <- Sys.getenv("BAYESMETA_SRC")
bm_env <- new.env()
if (requireNamespace("bayesmeta", quietly = TRUE)) {
  suppressPackageStartupMessages(library(bayesmeta))
  bm_version <- as.character(packageVersion("bayesmeta"))
  bm_source <- "installed package"
  load_example <- function(name) {
    data(list = name, package = "bayesmeta", envir = bm_env)
    get(name, envir = bm_env)
  }
} else {
  if (!nzchar(bm_src)) stop("bayesmeta is not installed: set BAYESMETA_SRC to the package source")
  source(file.path(bm_src, "R", "bayesmeta.R"))
  bm_version <- read.dcf(file.path(bm_src, "DESCRIPTION"), fields = "Version")[1, 1]
  commit <- Sys.getenv("BAYESMETA_COMMIT")
  bm_source <- paste0("R/bayesmeta.R sourced from the CRAN package source",
                      if (nzchar(commit)) paste0(" (github.com/cran/bayesmeta, commit ", commit, ")") else "")
  load_example <- function(name) {
    sys.source(file.path(bm_src, "data", paste0(name, ".R")), envir = bm_env)
    get(name, envir = bm_env)
  }
}

write_ref_csv <- function(df, file) {
  out <- df
  is_chr <- vapply(df, is.character, logical(1))
  for (j in seq_along(df)) {
    x <- df[[j]]
    if (is.double(x)) {
      s <- sprintf("%.17g", x)
      s[is.na(x)] <- NA_character_
      out[[j]] <- s
    } else if (is.integer(x) || is.logical(x)) {
      out[[j]] <- ifelse(is.na(x), NA_character_, as.character(x))
    }
  }
  write.csv(out, file.path(out_dir, file), row.names = FALSE,
            quote = which(is_chr), na = "NA", fileEncoding = "UTF-8")
  invisible(nrow(df))
}

## ---------------------------------------------------------------------------
## 2. Datasets: bayesmeta's own examples, a synthetic one, this book's analyses
## ---------------------------------------------------------------------------
datasets <- list()
add_dataset <- function(name, source, label, yi, vi) {
  datasets[[name]] <<- data.frame(dataset = name, source = source, study = seq_along(yi),
                                  label = as.character(label), yi = as.numeric(yi),
                                  vi = as.numeric(vi), stringsAsFactors = FALSE)
}

## CrinsEtAl2014: acute rejection, log odds ratios (the package's own example), k = 6
crins <- escalc(measure = "OR", ai = exp.AR.events, n1i = exp.total, ci = cont.AR.events,
                n2i = cont.total, data = load_example("CrinsEtAl2014"))
add_dataset("CrinsEtAl2014", "bayesmeta example (log OR, acute rejection)",
            load_example("CrinsEtAl2014")$publication, crins$yi, crins$vi)

## HinksEtAl2010: log odds ratios and their standard errors, k = 3 (the package's
## half-normal 0.5 / 1.0 example)
hinks <- load_example("HinksEtAl2010")
add_dataset("HinksEtAl2010", "bayesmeta example (log OR from published CIs)",
            hinks$study, hinks$log.or, hinks$log.or.se^2)

## Peto1980: aspirin after myocardial infarction, log risk ratios of death, k = 6
peto <- load_example("Peto1980")
peto_es <- escalc(measure = "RR", ai = treat.events, n1i = treat.cases, ci = control.events,
                  n2i = control.cases, data = peto)
add_dataset("Peto1980", "bayesmeta example (log RR, death)", peto$study, peto_es$yi, peto_es$vi)

## GoralczykEtAl2011: acute rejection, log odds ratios, k = 19
gora <- load_example("GoralczykEtAl2011")
gora_es <- escalc(measure = "OR", ai = exp.AR.events, n1i = exp.total, ci = cont.AR.events,
                  n2i = cont.total, data = gora)
add_dataset("GoralczykEtAl2011", "bayesmeta example (log OR, acute rejection)",
            gora$publication, gora_es$yi, gora_es$vi)

## Rubin1981: the eight schools (standard errors ~10, so the half-normal priors
## on tau dominate: a prior-driven posterior), k = 8
rubin <- load_example("Rubin1981")
add_dataset("Rubin1981", "bayesmeta example (eight schools; prior-dominated tau)",
            rubin$school, rubin$effect, rubin$stderr^2)

## SYNTHETIC (defined here): k = 40, deterministic, heterogeneous
i40 <- 1:40
add_dataset("synthetic_k40", "SYNTHETIC (defined in make_reference.R)",
            paste("synthetic", i40), 0.2 + 0.5 * sin(1.7 * i40), 0.01 + 0.2 * ((i40 * 7) %% 11) / 10)

## This book's two-arm analyses: log risk ratios (inputs_book.csv, from data/)
book <- read.csv(file.path(out_dir, "inputs_book.csv"), stringsAsFactors = FALSE)
for (ds in unique(book$dataset)) {
  d <- book[book$dataset == ds, ]
  add_dataset(ds, "this book (log RR; inputs_book.csv)", d$label, d$yi, d$vi)
}

inputs <- do.call(rbind, unname(datasets))

## ---------------------------------------------------------------------------
## 3. bayesmeta fits and independent quadrature
## ---------------------------------------------------------------------------
SCALES <- c(0.5, 1.0)
TOL <- 1e-12

## The exact marginal posterior, by nested adaptive quadrature: tau has density
## p(tau | y) ~ HN(tau; scale) * L(tau), L the likelihood with mu integrated out
## (uniform prior); mu | tau, y ~ N(m(tau), s(tau)^2); the CDF of mu is the
## integral of pnorm over p(tau | y) (of the predictive theta, with variance
## s^2 + tau^2). Quantiles by uniroot.
exact_fit <- function(y, v, scale) {
  logml <- function(t) vapply(t, function(tt) {
    w <- 1 / (tt^2 + v); m <- sum(w * y) / sum(w)
    -0.5 * (sum(log(tt^2 + v)) + sum(w * (y - m)^2) + log(sum(w)))
  }, 0)
  cm <- function(t) {
    w <- outer(t^2, v, "+")
    sw <- rowSums(1 / w)
    list(mean = rowSums(outer(rep(1, length(t)), y) / w) / sw, sd = sqrt(1 / sw))
  }
  upper <- 12 * scale  # the half-normal prior puts mass exp(-72) beyond
  ref <- logml(scale)
  dens <- function(t) dhalfnormal(t, scale = scale) * exp(logml(t) - ref)
  z <- integrate(dens, 0, upper, rel.tol = TOL, subdivisions = 2000L)$value
  cdf <- function(x, predict = FALSE) integrate(function(t) {
    c <- cm(t); sd <- if (predict) sqrt(c$sd^2 + t^2) else c$sd
    pnorm(x, c$mean, sd) * dens(t)
  }, 0, upper, rel.tol = TOL, subdivisions = 2000L)$value / z
  tcdf <- function(x) integrate(dens, 0, x, rel.tol = TOL, subdivisions = 2000L)$value / z
  quant <- function(p, f, lo, hi) uniroot(function(x) f(x) - p, c(lo, hi), tol = TOL)$root
  spread <- sqrt(max(v)) + 12 * scale
  lo <- min(y) - 10 * spread; hi <- max(y) + 10 * spread
  mu_q <- vapply(c(0.5, 0.025, 0.975), quant, 0, f = cdf, lo = lo, hi = hi)
  th_q <- vapply(c(0.5, 0.025, 0.975), quant, 0, f = function(x) cdf(x, TRUE), lo = lo, hi = hi)
  tau_q <- vapply(c(0.5, 0.025, 0.975), quant, 0, f = tcdf, lo = 0, hi = upper)
  c(mu_median = mu_q[1], mu_low = mu_q[2], mu_high = mu_q[3],
    tau_median = tau_q[1], tau_low = tau_q[2], tau_high = tau_q[3],
    theta_median = th_q[1], theta_low = th_q[2], theta_high = th_q[3],
    p_mu_gt_0 = 1 - cdf(0))
}

## bayesmeta's shortest interval (post.interval(method = "shortest")) runs
## optimize() with its default tolerance (~1.2e-4 on the left end); the same
## search on the same mixture with a tight tolerance, for comparison.
shortest_tight <- function(b, level = 0.95) {
  width <- function(left) b$qposterior(mu.p = level + b$pposterior(mu = left)) - left
  left <- optimize(width, lower = b$qposterior(mu.p = (1 - level) / 50),
                   upper = b$qposterior(mu.p = 1 - level), tol = 1e-10)$minimum
  c(left, left + width(left))
}

rows_bm <- list(); rows_ex <- list()
for (name in names(datasets)) {
  d <- datasets[[name]]
  for (s in SCALES) {
    prior <- local({ s <- s; function(t) dhalfnormal(t, scale = s) })
    b <- bayesmeta(y = d$yi, sigma = sqrt(d$vi), labels = d$label, tau.prior = prior)
    mu_c <- b$qposterior(mu.p = c(0.5, 0.025, 0.975))
    tau_c <- b$qposterior(tau.p = c(0.5, 0.025, 0.975))
    th_c <- b$qposterior(mu.p = c(0.5, 0.025, 0.975), predict = TRUE)
    mu_s <- b$post.interval(mu.level = 0.95, method = "shortest")
    tau_s <- b$post.interval(tau.level = 0.95, method = "shortest")
    mu_t <- shortest_tight(b)
    rows_bm[[length(rows_bm) + 1]] <- data.frame(
      dataset = name, k = nrow(d), tau_prior = "halfnormal", scale = s,
      mu_median = mu_c[1], mu_low = mu_c[2], mu_high = mu_c[3],
      mu_short_low = mu_s[1], mu_short_high = mu_s[2],
      mu_short_tight_low = mu_t[1], mu_short_tight_high = mu_t[2],
      mu_mean = b$summary["mean", "mu"], mu_sd = b$summary["sd", "mu"],
      tau_median = tau_c[1], tau_low = tau_c[2], tau_high = tau_c[3],
      tau_short_low = tau_s[1], tau_short_high = tau_s[2],
      tau_mean = b$summary["mean", "tau"], tau_sd = b$summary["sd", "tau"],
      theta_median = th_c[1], theta_low = th_c[2], theta_high = th_c[3],
      p_mu_gt_0 = 1 - b$pposterior(mu = 0),
      n_support = nrow(b$support),
      stringsAsFactors = FALSE)
    ex <- exact_fit(d$yi, d$vi, s)
    rows_ex[[length(rows_ex) + 1]] <- data.frame(
      dataset = name, k = nrow(d), tau_prior = "halfnormal", scale = s, t(ex),
      stringsAsFactors = FALSE)
  }
}
bm <- do.call(rbind, rows_bm)
ex <- do.call(rbind, rows_ex)
rownames(bm) <- NULL; rownames(ex) <- NULL

versions <- c(
  paste0("R: ", R.version.string),
  paste0("platform: ", R.version$platform),
  paste0("bayesmeta: ", bm_version),
  paste0("bayesmeta source: ", bm_source),
  paste0("metafor: ", packageDescription("metafor")$Version),
  paste0("mvtnorm: ", packageDescription("mvtnorm")$Version),
  paste0("numDeriv: ", packageDescription("numDeriv")$Version))
writeLines(versions, file.path(out_dir, "versions.txt"))

n <- c(inputs.csv = write_ref_csv(inputs, "inputs.csv"),
       bayesmeta.csv = write_ref_csv(bm, "bayesmeta.csv"),
       exact.csv = write_ref_csv(ex, "exact.csv"))
print(n)
