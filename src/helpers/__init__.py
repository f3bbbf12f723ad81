"""Shared logic of the executable systematic review of low-dose IL-2 for SLE.

Data flows one way: ``data/*.csv`` -> :mod:`helpers.evidence.load` (load and validate)
-> :mod:`helpers.stats.effects` (effect sizes) -> :mod:`helpers.stats.pooling` (meta-analysis)
-> :mod:`helpers.review.analyses` (the book's named analyses) -> figures, tables and
glued numbers in the chapter notebooks.
"""

__version__ = "0.1.0"
