"""Co-signatures left unfinished: both carriers' signatures stored over a transaction that
never reached the ledger, or that the resource it completes never took in.

Co-signing takes the ledger's lock first (``signing.co_sign``), so the server makes none of
these now; one made before that, by a future bug or by editing the database must not pass
verification for a finished agreement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from panther.ledger.transactions import LedgerEntry, TxType

from .ports import Row, UnitOfWork

__all__ = ["UnfinishedCoSignature", "unfinished_co_signatures"]


@dataclass(frozen=True)
class UnfinishedCoSignature:
    """Both carriers signed ``missing`` over one resource, and it never completed."""

    resource: str  # the resource's type in the APIs: relation, matchRun, ...
    id: str
    relation_id: str
    missing: str  # the transaction type both signed
    detail: str
    kind: str = "cosignature"


class _Context(NamedTuple):
    """One kind of co-signature: what the resource is called, the transaction that completes
    it, how an entry and a stored row name the resource, and the rows both signed that the
    database does not show completed."""

    resource: str
    tx_type: TxType
    completed: str
    entry_key: Callable[[Any], tuple[Any, ...]]
    row_key: Callable[[Row], tuple[Any, ...]]
    label: Callable[[Row], str]
    unfinished: Callable[[UnitOfWork], list[Row]]


def _by_id(field: str) -> Callable[[Any], tuple[Any, ...]]:
    return lambda payload: (payload.get(field),)


def _row_id(row: Row) -> tuple[Any, ...]:
    return (row["id"],)


_CONTEXTS = (
    _Context(
        "relation",
        TxType.RelationAgreed,
        "agreed",
        _by_id("relationId"),
        _row_id,
        lambda r: f"relation {r['id']}",
        lambda uow: uow.relations.unfinished_agreements(),
    ),
    _Context(
        "matchRun",
        TxType.MatchEndorsed,
        "final",
        _by_id("runId"),
        _row_id,
        lambda r: f"match run {r['id']} of relation {r['relation_id']}",
        lambda uow: uow.runs.unfinished_endorsements(),
    ),
    _Context(
        "reviewProposal",
        TxType.ReviewAgreed,
        "agreed",
        _by_id("proposalId"),
        _row_id,
        lambda r: f"review proposal {r['id']} of match run {r['run_id']}",
        lambda uow: uow.review.unfinished_agreements(),
    ),
    _Context(
        "customerBill",
        TxType.StatementAgreed,
        "agreed",
        _by_id("statementId"),
        _row_id,
        lambda r: f"statement {r['id']}",
        lambda uow: uow.billing.unfinished_agreements(),
    ),
    _Context(
        "troubleTicket",
        TxType.DisputeResolved,
        "resolved on it",
        lambda payload: (payload.get("ticketId"), payload.get("proposalNo")),
        lambda row: (row["id"], row["proposal_no"]),
        lambda r: f"resolution proposal {r['proposal_no']} of dispute {r['id']}",
        lambda uow: uow.disputes.unfinished_resolutions(),
    ),
)


def _completing_entries(entries: Iterable[LedgerEntry]) -> dict[tuple[Any, ...], int]:
    """(transaction type, *how it names its resource) -> seq of every completing entry."""
    contexts = {c.tx_type: c for c in _CONTEXTS}
    found: dict[tuple[Any, ...], int] = {}
    for entry in entries:
        context = contexts.get(entry.tx.type)
        if context is not None and isinstance(entry.tx.payload, Mapping):
            found[(entry.tx.type, *context.entry_key(entry.tx.payload))] = entry.seq
    return found


def unfinished_co_signatures(
    uow: UnitOfWork, entries: Iterable[LedgerEntry]
) -> tuple[UnfinishedCoSignature, ...]:
    """Every resource both carriers signed the completing transaction of that is not in its
    completed state, saying whether that transaction is on the ledger (``entries``)."""
    completing = _completing_entries(entries)
    out: list[UnfinishedCoSignature] = []
    for context in _CONTEXTS:
        tx = context.tx_type.value
        for row in context.unfinished(uow):
            seq = completing.get((context.tx_type, *context.row_key(row)))
            what = (
                f"no {tx} entry is on the ledger and it is not {context.completed}"
                if seq is None
                else f"its {tx} entry {seq} is on the ledger, yet it is not {context.completed}"
            )
            out.append(
                UnfinishedCoSignature(
                    context.resource,
                    str(row["id"]),
                    str(row["relation_id"]),
                    tx,
                    f"unfinished co-signature: {context.label(row)}: both carriers' signatures "
                    f"over its {tx} are stored, but {what}",
                )
            )
    return tuple(out)
