"""The ledger transactions of a match run: MatchRecorded when the run is stored, MatchEndorsed
once both carriers sign it, built from the run's stored row."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from panther.ledger import eip712
from panther.ledger.eip712 import LedgerDomain
from panther.ledger.transactions import Transaction, TxType

__all__ = ["endorsed_tx", "endorsement_digest", "recorded_tx"]


def recorded_tx(row: Mapping[str, Any]) -> Transaction:
    return Transaction(
        type=TxType.MatchRecorded,
        version=1,
        relation=row["relation_id"],
        payload={
            "runId": row["id"],
            "relationId": row["relation_id"],
            "asOf": row["as_of"],
            "supplierReport": row["supplier_report_id"],
            "customerReport": row["customer_report_id"],
            "profileHash": row["profile_hash"],
            "counts": json.loads(row["counts"]),
            "itemCount": row["item_count"],
        },
        merkle_root=bytes.fromhex(row["items_root"]),
        signers=(),
        signatures=(),
    )


def endorsed_tx(row: Mapping[str, Any]) -> Transaction:
    return Transaction(
        type=TxType.MatchEndorsed,
        version=1,
        relation=row["relation_id"],
        payload={
            "runId": row["id"],
            "relationId": row["relation_id"],
            "counts": json.loads(row["counts"]),
            "recordedSeq": row["ledger_seq"],
        },
        merkle_root=bytes.fromhex(row["items_root"]),
        signers=(),
        signatures=(),
    )


def endorsement_digest(domain: LedgerDomain, row: Mapping[str, Any]) -> bytes:
    """What a carrier that keeps its own key signs to endorse the run."""
    return eip712.digest(domain, endorsed_tx(row))
