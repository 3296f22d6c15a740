"""The JSON of each API: pure functions from rows to bodies and from request bodies to commands."""
