# Writes the 14 UCI classification sets that Debian's r-cran-mlbench ships as CSV files in
# data/: one column per encoded feature, then `class`. Run once (convert.sh does it); the
# runner reads the CSVs and needs no R.
#
# Encoding: numeric and integer columns as they are; ordered factors with numeric levels (and
# the integer scores listed per set below) as those numbers, other ordered factors as their
# level index (1, 2, ...); logical columns as 0/1; an unordered factor with two levels as one 0/1 column,
# with k > 2 levels as k one-hot columns. A missing value is an empty cell for numeric and
# ordered columns (the runner imputes the training mean) and all-zero one-hot columns for an
# unordered factor. Identifier columns (BreastCancer's Id) are dropped.
suppressMessages(library(mlbench))
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) > 0) args[1] else "data"

sets <- list(
  # Bare.nuclei ... Mitoses are the integer scores 1-10 of the UCI file that mlbench stores as
  # unordered factors: read as the numbers they are, as the ordered columns beside them.
  list(r = "BreastCancer", name = "breast-cancer", class = "Class", drop = "Id",
       numeric = c("Bare.nuclei", "Bl.cromatin", "Normal.nucleoli", "Mitoses")),
  list(r = "DNA", name = "dna", class = "Class"),
  list(r = "Glass", name = "glass", class = "Type"),
  list(r = "HouseVotes84", name = "house-votes-84", class = "Class"),
  list(r = "Ionosphere", name = "ionosphere", class = "Class"),
  list(r = "LetterRecognition", name = "letter", class = "lettr"),
  list(r = "PimaIndiansDiabetes", name = "pima", class = "diabetes"),
  list(r = "Satellite", name = "satellite", class = "classes"),
  list(r = "Shuttle", name = "shuttle", class = "Class"),
  list(r = "Sonar", name = "sonar", class = "Class"),
  list(r = "Soybean", name = "soybean", class = "Class"),
  list(r = "Vehicle", name = "vehicle", class = "Class"),
  list(r = "Vowel", name = "vowel", class = "Class"),
  list(r = "Zoo", name = "zoo", class = "type")
)

numeric_levels <- function(column) all(!is.na(suppressWarnings(as.numeric(levels(column)))))

encode <- function(column, name, numeric) {
  if (is.factor(column) && (name %in% numeric || (is.ordered(column) && numeric_levels(column)))) {
    out <- data.frame(as.numeric(as.character(column)))
    names(out) <- name
    return(out)
  }
  if (is.ordered(column)) {
    out <- data.frame(as.integer(column))
    names(out) <- name
    return(out)
  }
  if (is.factor(column) || is.character(column)) {
    f <- factor(column)
    lv <- levels(f)
    if (length(lv) <= 2) {
      out <- data.frame(ifelse(is.na(f), 0, as.integer(f == lv[length(lv)])))
      names(out) <- paste0(name, "=", lv[length(lv)])
      return(out)
    }
    out <- as.data.frame(lapply(lv, function(l) ifelse(is.na(f), 0, as.integer(f == l))))
    names(out) <- paste0(name, "=", lv)
    return(out)
  }
  if (is.logical(column)) {
    out <- data.frame(as.integer(column))
    names(out) <- name
    return(out)
  }
  out <- data.frame(as.numeric(column))
  names(out) <- name
  out
}

dir.create(out, showWarnings = FALSE, recursive = TRUE)
for (s in sets) {
  data(list = s$r, package = "mlbench", envir = environment())
  d <- get(s$r)
  keep <- setdiff(names(d), c(s$class, s$drop))
  parts <- lapply(keep, function(n) encode(d[[n]], n, s$numeric))
  x <- do.call(cbind, parts)
  x$class <- as.character(d[[s$class]])
  file <- file.path(out, paste0(s$name, ".csv"))
  write.csv(x, file, row.names = FALSE, na = "", quote = TRUE)
  cat(sprintf("%-16s %6d rows %4d features %3d classes  <- mlbench::%s\n", s$name, nrow(x), ncol(x) - 1, length(unique(x$class)), s$r))
}
