"""One module per chapter: the glue values, tables and figures its notebook shows (the notebooks only call these)."""
