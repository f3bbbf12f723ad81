"""Shared logic of the executable systematic review of low-dose IL-2 for SLE.

Data flows one way: ``data/*.csv`` -> :mod:`helpers.data` (load and validate)
-> :mod:`helpers.effects` (effect sizes) -> :mod:`helpers.pooling` (meta-analysis)
-> :mod:`helpers.analyses` (the book's named analyses) -> figures, tables and
glued numbers in the chapter notebooks.
"""

__version__ = "0.1.0"
