"""The evidence and the protocol: the tables of data/ loaded and validated, their schemas, protocol.yml."""
