"""Representations: stored rows and domain objects as the JSON of each API (pure functions)."""
