"""Review logic: the protocol, study selection by rule, the analyses it declares, and the claims registry."""
