"""Fixtures of the conformance suite."""

from conformance.fixtures import official_schemas  # noqa: F401  (re-exported fixture)
