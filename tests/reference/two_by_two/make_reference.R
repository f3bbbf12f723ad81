#!/usr/bin/env Rscript
###############################################################################
## make_reference.R
##
## Reference p-values of the tests of a 2x2 table that a trial report may have
## used, from base R (stats), for helpers.stats.two_by_two:
##
##   pearson    chisq.test(x, correct = FALSE)   Pearson chi-square, 1 df
##   yates      chisq.test(x, correct = TRUE)    with Yates's continuity correction
##                                               (R caps the correction at |O - E|)
##   n_minus_1  (N - 1) * r^2 on 1 df, r = cor() of the two 0/1 variables of the
##              N patients (the 'N - 1' chi-square; SPSS's linear-by-linear
##              association and the Mantel-Haenszel chi-square of one 2x2 table)
##   fisher     fisher.test(x)$p.value           two-sided Fisher exact test
##
## Usage (from any folder):  Rscript make_reference.R
## Writes two_by_two.csv and versions.txt next to this script. Deterministic:
## no random numbers; numbers with 17 significant digits ("%.17g"); NA where R
## gives no value (a chi-square with an empty margin).
##
## The tables: counts e1/n1 vs e2/n2 (row 1 = arm 1: e1 events, n1 - e1 without).
## "data_pair" rows are count pairs as they stand in data/outcomes.csv (no study
## is named); "synthetic" rows are made up to exercise edge cases.
###############################################################################

script_arg <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
out_dir <- if (length(script_arg) == 1L) dirname(normalizePath(script_arg)) else getwd()

cases <- read.csv(text = "
kind,e1,n1,e2,n2
data_pair,16,29,9,30
data_pair,19,29,11,30
data_pair,34,50,29,50
data_pair,20,24,15,29
data_pair,2,30,21,30
data_pair,1,30,21,30
data_pair,7,13,2,12
synthetic,0,29,4,29
synthetic,0,30,2,30
synthetic,5,10,5,10
synthetic,3,6,2,6
synthetic,1,2,0,3
synthetic,10,10,0,10
synthetic,0,30,0,30
synthetic,120,400,90,410
synthetic,8,29,0,29
", strip.white = TRUE)

num <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))

rows <- lapply(seq_len(nrow(cases)), function(i) {
  e1 <- cases$e1[i]; n1 <- cases$n1[i]; e2 <- cases$e2[i]; n2 <- cases$n2[i]
  x <- matrix(c(e1, n1 - e1, e2, n2 - e2), nrow = 2, byrow = TRUE)
  chi <- suppressWarnings(chisq.test(x, correct = FALSE))
  yat <- suppressWarnings(chisq.test(x, correct = TRUE))
  arm <- c(rep(1, n1), rep(0, n2))
  event <- c(rep(1, e1), rep(0, n1 - e1), rep(1, e2), rep(0, n2 - e2))
  r <- suppressWarnings(cor(arm, event))
  m2 <- (n1 + n2 - 1) * r^2
  data.frame(
    kind = cases$kind[i], e1 = e1, n1 = n1, e2 = e2, n2 = n2,
    pearson_stat = num(unname(chi$statistic)), pearson_p = num(chi$p.value),
    yates_stat = num(unname(yat$statistic)), yates_p = num(yat$p.value),
    n_minus_1_stat = num(m2), n_minus_1_p = num(pchisq(m2, df = 1, lower.tail = FALSE)),
    fisher_p = num(fisher.test(x)$p.value)
  )
})
out <- do.call(rbind, rows)
write.csv(out, file.path(out_dir, "two_by_two.csv"), row.names = FALSE, quote = c(1))
writeLines(c(paste("R:", R.version.string)), file.path(out_dir, "versions.txt"))
cat(sprintf("wrote %d rows to %s\n", nrow(out), file.path(out_dir, "two_by_two.csv")))
