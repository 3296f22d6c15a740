"""Why billing refuses its input: the errors `panther.settlement` raises.

    ValueError
     └── BillingError              base of every error below
          ├── InvalidTerms           relation terms refused; `.problems` lists every one
          ├── InvalidPeriod          not a billing period (a bad label, or the wrong kind)
          ├── EndBeforeStart         a service whose end precedes its start
          └── InvalidStatementInput  statement inputs refused; `.problems` lists every one
                                     (a charge in another currency is code `currencyMismatch`)

Every problem carries an RFC 6901 JSON pointer into the input it is about, so a caller can
turn them into one problem+json body without parsing messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = [
    "BillingError",
    "EndBeforeStart",
    "InvalidPeriod",
    "InvalidStatementInput",
    "InvalidTerms",
    "Problem",
]


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem: where (a JSON pointer, "" for the whole input), a stable code, and why."""

    pointer: str
    message: str
    code: str = "invalid"

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


# Exceptions are mutable dataclasses on purpose: `raise` through a contextlib.contextmanager
# assigns `exc.__traceback__`, which a frozen dataclass refuses with FrozenInstanceError.
@dataclass(eq=False)
class BillingError(ValueError):
    """Base of the errors this package raises."""


@dataclass(eq=False)
class InvalidTerms(BillingError):
    """The terms document is refused; `problems` holds every problem found, in order."""

    problems: tuple[Problem, ...]

    def __str__(self) -> str:
        return "invalid relation terms: " + "; ".join(str(p) for p in self.problems)


@dataclass(eq=False)
class InvalidPeriod(BillingError):
    """`value` is not a billing period: `reason` says why."""

    value: str
    reason: str

    def __str__(self) -> str:
        return f"invalid billing period {self.value!r}: {self.reason}"


@dataclass(eq=False)
class EndBeforeStart(BillingError):
    """A service cannot end before it starts."""

    start: date
    end: date

    def __str__(self) -> str:
        return f"service ends ({self.end.isoformat()}) before it starts ({self.start.isoformat()})"


@dataclass(eq=False)
class InvalidStatementInput(BillingError):
    """The statement inputs are refused; `problems` holds every problem found, in order.

    Pointers address the keyword arguments of `build_statement`: `/services/2/currency`,
    `/credits/0/amount`, `/period`.
    """

    problems: tuple[Problem, ...]

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(p.code for p in self.problems)

    def __str__(self) -> str:
        return "invalid statement input: " + "; ".join(str(p) for p in self.problems)
