"""The ledger documents of the panther v1 API: an entry, a verification report and a Merkle
inclusion proof (also what ``panther ledger verify --json`` prints)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from panther.ledger.eip712 import LedgerDomain
from panther.ledger.proofs import build_proof_document
from panther.ledger.transactions import LedgerEntry

__all__ = [
    "Failure",
    "InclusionProof",
    "UnfinishedCoSignature",
    "Verification",
    "entry_view",
    "proof_document",
    "verification_job_view",
    "verification_lines",
    "verification_view",
]


class Failure(Protocol):
    """The first thing a verification found broken."""

    @property
    def seq(self) -> int: ...

    @property
    def kind(self) -> str: ...

    @property
    def detail(self) -> str: ...


class UnfinishedCoSignature(Protocol):
    """A resource both carriers signed the completing transaction of, never completed."""

    @property
    def resource(self) -> str: ...

    @property
    def id(self) -> str: ...

    @property
    def relation_id(self) -> str: ...

    @property
    def missing(self) -> str: ...

    @property
    def detail(self) -> str: ...


class Verification(Protocol):
    """The outcome of a verification: how far it got, the head, what broke first and the
    co-signatures left unfinished."""

    @property
    def ok(self) -> bool: ...

    @property
    def entries_checked(self) -> int: ...

    @property
    def head(self) -> LedgerEntry | None: ...

    @property
    def first_failure(self) -> Failure | None: ...

    @property
    def unfinished_co_signatures(self) -> Sequence[UnfinishedCoSignature]: ...


class VerificationJob(Protocol):
    """A verification running in the background, or its outcome."""

    @property
    def id(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def started_at(self) -> str: ...

    @property
    def finished_at(self) -> str | None: ...

    @property
    def result(self) -> Verification | None: ...

    @property
    def error(self) -> str | None: ...


class InclusionProof(Protocol):
    """What proves one leaf: every leaf under the root, its index, the entry with the root,
    where the ledger holds that entry and the EIP-712 domain of its signatures."""

    @property
    def leaves(self) -> list[bytes]: ...

    @property
    def index(self) -> int: ...

    @property
    def entry(self) -> LedgerEntry: ...

    @property
    def subject(self) -> dict[str, Any]: ...

    @property
    def anchor(self) -> dict[str, Any]: ...

    @property
    def domain(self) -> LedgerDomain: ...


def entry_view(entry: LedgerEntry, base_url: str) -> dict[str, Any]:
    tx = entry.tx
    return {
        "id": str(entry.seq),
        "href": f"{base_url}/panther/v1/ledger/entry/{entry.seq}",
        "@type": "LedgerEntry",
        "seq": entry.seq,
        "type": str(tx.type.value),
        "version": tx.version,
        "relation": tx.relation,
        "payload": dict(tx.payload),
        "merkleRoot": tx.merkle_root.hex() if tx.merkle_root else None,
        "signers": list(tx.signers),
        "signatures": ["0x" + s.hex() for s in tx.signatures],
        "prevHash": entry.prev_hash.hex(),
        "entryHash": entry.entry_hash.hex(),
        "recordedAt": entry.recorded_at,
    }


def verification_view(verification: Verification) -> dict[str, Any]:
    f = verification.first_failure
    return {
        "@type": "LedgerVerification",
        "ok": verification.ok,
        "entriesChecked": verification.entries_checked,
        "head": verification.head.entry_hash.hex() if verification.head is not None else None,
        "firstFailure": None if f is None else {"seq": f.seq, "kind": f.kind, "detail": f.detail},
        "unfinishedCoSignatures": [
            {
                "resource": u.resource,
                "id": u.id,
                "relationId": u.relation_id,
                "missing": u.missing,
                "detail": u.detail,
            }
            for u in verification.unfinished_co_signatures
        ],
    }


def verification_lines(view: dict[str, Any]) -> list[str]:
    """What ``panther ledger verify`` prints of a verification view: one line when it is
    OK, else one for the first failure and one for each unfinished co-signature."""
    if view["ok"]:
        return [f"ledger OK: {view['entriesChecked']} entries, head {view['head']}"]
    lines = []
    f = view["firstFailure"]
    if f is not None:
        lines.append(f"ledger BROKEN at entry {f['seq']} ({f['kind']}): {f['detail']}")
    lines += [f"ledger BROKEN: {u['detail']}" for u in view["unfinishedCoSignatures"]]
    return lines


def verification_job_view(job: VerificationJob, base_url: str) -> dict[str, Any]:
    """The job's state; once done, the verification's outcome beside it (ok is null until
    then)."""
    outcome = (
        verification_view(job.result)
        if job.result is not None
        else {"@type": "LedgerVerification", "ok": None, "entriesChecked": None}
    )
    return {
        **outcome,
        "id": job.id,
        "href": f"{base_url}/panther/v1/ledger/verification/{job.id}",
        "state": job.state,
        "startedAt": job.started_at,
        "finishedAt": job.finished_at,
        **({"error": job.error} if job.error is not None else {}),
    }


def proof_document(proof: InclusionProof, base_url: str) -> dict[str, Any]:
    """The proof that ``proof.leaves[proof.index]`` is under its entry's Merkle root."""
    return build_proof_document(
        proof.leaves,
        proof.index,
        entry=entry_view(proof.entry, base_url),
        ledger=proof.anchor,
        domain=proof.domain,
        subject=proof.subject,
    )
