"""Matching: profiles, normalisers, comparators and the set-based engine that links two reports.

`normalisers` and `comparators` are registries (adding one is one function and a test);
`reference` holds the same semantics as plain Python for tests and benchmarks.
"""

from .engine import ITEMS_SCHEMA, ExtractMismatch, MatchResult, Side, extract, match, match_records
from .profile import (
    DEFAULT_PROFILE,
    ComparedField,
    IdentifierRule,
    InvalidProfile,
    KeyComponent,
    MatchProfile,
    ProfileProblem,
)

__all__ = [
    "DEFAULT_PROFILE",
    "ITEMS_SCHEMA",
    "ComparedField",
    "ExtractMismatch",
    "IdentifierRule",
    "InvalidProfile",
    "KeyComponent",
    "MatchProfile",
    "MatchResult",
    "ProfileProblem",
    "Side",
    "extract",
    "match",
    "match_records",
]
