#!/usr/bin/env Rscript
###############################################################################
## make_reference.R
##
## Reference values for helpers.stats.single_trial, helpers.stats.fragility and
## helpers.review.robustness, computed independently in base R (stats::fisher.test,
## the Wilson score interval written out) and metafor (rma.mh).
##
## Usage (from the folder that holds this script):
##
##     Rscript make_reference.R
##
## Writes next to this script (17 significant digits, no random numbers):
##   versions.txt           R and metafor versions
##   two_by_two.csv         per table: RD with Newcombe's hybrid score interval (method 10) and the
##                          Wald interval, RR with the log (Katz) interval, Fisher's exact two-sided p,
##                          Walsh's fragility index (Fisher; events added to the arm with fewer events)
##   pooled_fragility.csv   per set of trials (counts as "a;b;..."): MH RR (log scale) and its fragility
##                          index by exhaustive search over every arm (1, 2, ... changes), with the
##                          changed counts
##   arm_splits.csv         the primary SRI-4 analysis (He 2020 16/29 vs 9/30 fixed) with every LUPIL-2
##                          split of 100 patients, IL-2 arm 40 to 60, whose counts reproduce the reported
##                          68% and 58% (whole percent): MH RR and 95% CI
##   scenarios.csv          MH RR of the primary analysis as analysed, with non-responder imputation
##                          (16/30) and with one LUPIL-2 IL-2 responder fewer (33/50)
###############################################################################

suppressPackageStartupMessages(library(metafor))

script_arg <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
out_dir <- if (length(script_arg) == 1L) dirname(normalizePath(script_arg)) else getwd()
num <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
write_out <- function(df, name) {
  text_cols <- which(vapply(df, is.character, logical(1)))  # quoted; numbers are not
  for (col in names(df)) if (is.double(df[[col]])) df[[col]] <- num(df[[col]])
  write.csv(df, file.path(out_dir, name), row.names = FALSE, quote = if (length(text_cols)) text_cols else FALSE,
            na = "NA")
}
writeLines(c(R.version.string, paste("metafor", packageVersion("metafor"))), file.path(out_dir, "versions.txt"))

z <- qnorm(0.975)

## Wilson score interval, written out (Newcombe 1998, method 3)
wilson <- function(x, n) {
  p <- x / n
  centre <- (p + z^2 / (2 * n)) / (1 + z^2 / n)
  half <- z * sqrt(p * (1 - p) / n + z^2 / (4 * n^2)) / (1 + z^2 / n)
  c(centre - half, centre + half)
}

## Newcombe's hybrid score interval for p1 - p2 (method 10, no continuity correction)
newcombe <- function(a, n1, c, n2) {
  p1 <- a / n1; p2 <- c / n2; w1 <- wilson(a, n1); w2 <- wilson(c, n2)
  d <- p1 - p2
  c(d - sqrt((p1 - w1[1])^2 + (w2[2] - p2)^2), d + sqrt((w1[2] - p1)^2 + (p2 - w2[1])^2))
}

fisher_p <- function(a, n1, c, n2) fisher.test(matrix(c(a, n1 - a, c, n2 - c), 2, byrow = TRUE))$p.value

## Walsh et al. 2014: add events to the arm with fewer events (treatment on a tie) until p >= 0.05
walsh <- function(a, n1, c, n2) {
  if (fisher_p(a, n1, c, n2) >= 0.05) return(NA_integer_)
  treat <- a <= c
  for (k in 1:(n1 + n2)) {
    a2 <- if (treat) a + k else a
    c2 <- if (treat) c else c + k
    if (a2 > n1 || c2 > n2) return(NA_integer_)
    if (fisher_p(a2, n1, c2, n2) >= 0.05) return(k)
  }
  NA_integer_
}

tables <- data.frame(
  label = c(
    "Newcombe 1998 Table II (a)", "Newcombe 1998 Table II (b)", "Newcombe 1998 Table II (c)",
    "Newcombe 1998 Table II (d)", "Newcombe 1998 Table II (e)", "Newcombe 1998 Table II (f)",
    "Newcombe 1998 Table II (g)", "Newcombe 1998 Table II (h)",
    "He 2020 injection-site reaction", "He 2020 fever", "He 2020 flu-like symptoms", "He 2020 infection",
    "He 2020 upper respiratory infection", "He 2020 severe infection", "He 2020 severe adverse event",
    "synthetic 10/50 vs 2/50", "synthetic 1/100 vs 12/100", "synthetic 30/40 vs 5/40", "synthetic 16/29 vs 9/30"
  ),
  a = as.integer(c(56, 9, 6, 5, 0, 0, 10, 10, 9, 4, 3, 2, 2, 0, 0, 10, 1, 30, 16)),
  n1 = as.integer(c(70, 10, 7, 56, 10, 10, 10, 10, 29, 29, 29, 29, 29, 29, 29, 50, 100, 40, 29)),
  c = as.integer(c(48, 3, 2, 0, 0, 0, 0, 0, 2, 0, 0, 6, 4, 2, 3, 2, 12, 5, 9)),
  n2 = as.integer(c(80, 10, 7, 29, 20, 10, 20, 10, 30, 30, 30, 30, 30, 30, 30, 50, 100, 40, 30)),
  stringsAsFactors = FALSE
)
rows <- lapply(seq_len(nrow(tables)), function(i) {
  t <- tables[i, ]
  nc <- newcombe(t$a, t$n1, t$c, t$n2)
  p1 <- t$a / t$n1; p2 <- t$c / t$n2
  se <- sqrt(p1 * (1 - p1) / t$n1 + p2 * (1 - p2) / t$n2)
  if (t$a > 0 && t$c > 0) {
    rr <- p1 / p2; se_rr <- sqrt(1 / t$a - 1 / t$n1 + 1 / t$c - 1 / t$n2)
    rr_ci <- rr * exp(c(-1, 1) * z * se_rr)
  } else {
    rr <- NA_real_; rr_ci <- c(NA_real_, NA_real_)
  }
  data.frame(
    label = t$label, a = t$a, n1 = t$n1, c = t$c, n2 = t$n2,
    rd = p1 - p2, newcombe_low = nc[1], newcombe_high = nc[2],
    wald_low = if (se > 0) p1 - p2 - z * se else NA_real_,
    wald_high = if (se > 0) p1 - p2 + z * se else NA_real_,
    rr = rr, rr_low = rr_ci[1], rr_high = rr_ci[2],
    fisher_p = fisher_p(t$a, t$n1, t$c, t$n2),
    walsh_fi = walsh(t$a, t$n1, t$c, t$n2),
    stringsAsFactors = FALSE
  )
})
write_out(do.call(rbind, rows), "two_by_two.csv")

## MH RR of a set of trials (log scale) with metafor
mh <- function(ai, n1i, ci, n2i) {
  f <- rma.mh(ai = ai, n1i = n1i, ci = ci, n2i = n2i, measure = "RR")
  c(f$beta[1], f$ci.lb, f$ci.ub)
}
excludes0 <- function(r) is.finite(r[2]) && is.finite(r[3]) && (r[2] > 0 || r[3] < 0)

## Exhaustive fragility index of the MH RR: the fewest changes, over all arms, that make the interval
## change side of 0 (towards the null for a significant result, away from it in the direction of the
## estimate otherwise); among the fewest, the one moving the crossing bound furthest.
pooled_fi <- function(ai, n1i, ci, n2i) {
  k <- length(ai)
  r0 <- mh(ai, n1i, ci, n2i)
  sig <- excludes0(r0)
  sign <- if (sig) (if (r0[1] > 0) 1 else -1) else (if (r0[1] > 0) -1 else 1)
  room <- if (sign == 1) c(ai, n2i - ci) else c(n1i - ai, ci)
  for (f in 1:sum(room)) {
    grid <- expand.grid(lapply(room, function(r) 0:min(r, f)))
    grid <- grid[rowSums(grid) == f, , drop = FALSE]
    best <- NULL; best_margin <- -Inf
    for (j in seq_len(nrow(grid))) {
      d <- unlist(grid[j, ])
      a2 <- ai - sign * d[1:k]; c2 <- ci + sign * d[(k + 1):(2 * k)]
      r <- tryCatch(suppressWarnings(mh(a2, n1i, c2, n2i)), error = function(e) c(NA, NA, NA))
      if (excludes0(r) != sig) {
        margin <- if (sig) (if (r0[1] > 0) -r[2] else r[3]) else (if (sign == -1) r[2] else -r[3])
        if (is.na(margin)) margin <- -Inf
        if (is.null(best) || margin > best_margin) { best <- list(a2 = a2, c2 = c2, r = r); best_margin <- margin }
      }
    }
    if (!is.null(best)) {
      return(data.frame(significant = sig, fi = f,
        ai_after = paste(best$a2, collapse = ";"), ci_after = paste(best$c2, collapse = ";"),
        estimate_after = best$r[1], ci_lb_after = best$r[2], ci_ub_after = best$r[3], stringsAsFactors = FALSE))
    }
  }
  data.frame(significant = sig, fi = NA_integer_, ai_after = NA_character_, ci_after = NA_character_,
             estimate_after = NA_real_, ci_lb_after = NA_real_, ci_ub_after = NA_real_)
}

sets <- list(
  list(label = "primary SRI-4 (He 2020 16/29 vs 9/30; LUPIL-2 34/50 vs 29/50)",
       ai = c(16, 34), n1i = c(29, 50), ci = c(9, 29), n2i = c(30, 50)),
  list(label = "primary SRI-4 with a synthetic third trial (22/40 vs 16/40)",
       ai = c(16, 34, 22), n1i = c(29, 50, 40), ci = c(9, 29, 16), n2i = c(30, 50, 40)),
  list(label = "synthetic strong effect", ai = c(20, 25), n1i = c(40, 45), ci = c(8, 10), n2i = c(40, 45)),
  list(label = "synthetic protective effect", ai = c(3, 5), n1i = c(60, 80), ci = c(15, 20), n2i = c(60, 80)),
  list(label = "synthetic null, reverse index", ai = c(10, 12), n1i = c(40, 40), ci = c(8, 10), n2i = c(40, 40))
)
joined <- function(x) paste(as.integer(x), collapse = ";")
rows <- lapply(sets, function(s) {
  r <- mh(s$ai, s$n1i, s$ci, s$n2i)
  cbind(data.frame(label = s$label, ai = joined(s$ai), n1i = joined(s$n1i), ci = joined(s$ci), n2i = joined(s$n2i),
                   estimate = r[1], ci_lb = r[2], ci_ub = r[3], stringsAsFactors = FALSE),
        pooled_fi(s$ai, s$n1i, s$ci, s$n2i))
})
write_out(do.call(rbind, rows), "pooled_fragility.csv")

## Arm splits of LUPIL-2's 100 randomised patients reproducing 68% and 58% (whole percent)
rows <- list()
for (n1 in 40:60) {
  n2 <- 100L - n1
  for (e1 in 0:n1) for (e2 in 0:n2) {
    if (abs(100 * e1 / n1 - 68) <= 0.5 && abs(100 * e2 / n2 - 58) <= 0.5) {
      r <- mh(c(16, e1), c(29, n1), c(9, e2), c(30, n2))
      rows[[length(rows) + 1]] <- data.frame(n_il2 = n1, events_il2 = e1, n_placebo = n2, events_placebo = e2,
        rr = exp(r[1]), ci_low = exp(r[2]), ci_high = exp(r[3]))
    }
  }
}
write_out(do.call(rbind, rows), "arm_splits.csv")

scen <- list(
  list(scenario = "as_analysed", ai = c(16, 34), n1i = c(29, 50)),
  list(scenario = "non_responders", ai = c(16, 34), n1i = c(30, 50)),
  list(scenario = "fragility", ai = c(16, 33), n1i = c(29, 50))
)
rows <- lapply(scen, function(s) {
  r <- mh(s$ai, s$n1i, c(9, 29), c(30, 50))
  data.frame(scenario = s$scenario, rr = exp(r[1]), ci_low = exp(r[2]), ci_high = exp(r[3]), stringsAsFactors = FALSE)
})
write_out(do.call(rbind, rows), "scenarios.csv")
cat("done\n")
