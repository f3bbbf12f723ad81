"""Statistics: escalc-style effect sizes and rma-style fits, checked against metafor."""
