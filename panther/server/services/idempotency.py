"""Requests sent with an ``Idempotency-Key`` (draft-ietf-httpapi-idempotency-key-header).

The first request with a key claims it and runs; its successful response is kept for the
retries (``PANTHER_IDEMPOTENCY_TTL``). A retry with the same key gets that response again if it
is the same request (its fingerprint: method, path, query and body), and is refused if it is
another (422) or while the first is still running (409). A request that failed applied
nothing (every write is one transaction), so its key is freed for the next try.

What is stored says nothing without the key: a response may hold a secret (createParty
answers with the new client's secret), so the row is found by a digest of the caller and the
key, and the response (headers and body) is sealed with AES-256-GCM (pycryptodome) under a
key derived with HKDF-SHA256 from the Idempotency-Key and the caller. Only a request with
that key, by that caller, opens it; the database alone does not (for a key of enough
entropy: a UUID or 128 random bits, as the draft recommends).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from Crypto.Cipher import AES
from Crypto.Hash import SHA256
from Crypto.Protocol.KDF import HKDF

from .errors import Conflict
from .ports import Ports

__all__ = [
    "StoredResponse",
    "claim",
    "complete",
    "purge",
    "release",
    "seal_response",
    "stored_key",
]

# Domain separation of the two things derived from one Idempotency-Key.
ROW_KEY_TAG = b"panther/idempotency/row-key/v1"
SEAL_TAG = b"panther/idempotency/response-seal/v1"
_NONCE_BYTES = 12
_TAG_BYTES = 16

# A key claimed by a request that never finished (the server stopped) is free again after
# this; longer than any request takes (a 1 GiB upload included).
ABANDONED_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _now(ports: Ports) -> datetime:
    return datetime.fromisoformat(ports.clock.now_iso())


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _framed(*parts: bytes) -> bytes:
    return b"".join(len(part).to_bytes(4, "big") + part for part in parts)


def stored_key(owner: str, key: str) -> str:
    """What the row is found by: a SHA-256 digest of the caller and the key (hex)."""
    return hashlib.sha256(_framed(ROW_KEY_TAG, owner.encode(), key.encode())).hexdigest()


def _cipher(owner: str, key: str, nonce: bytes) -> Any:
    derived = HKDF(key.encode(), 32, owner.encode(), SHA256, context=SEAL_TAG)
    assert isinstance(derived, bytes)  # one key asked for, not a tuple of them
    return AES.new(derived, AES.MODE_GCM, nonce=nonce)


def seal_response(owner: str, key: str, response: StoredResponse) -> bytes:
    """nonce || AES-256-GCM(headers JSON and body) || tag, bound to the row (its digest and
    the request's fingerprint as associated data)."""
    plain = _framed(json.dumps(response.headers).encode(), response.body)
    nonce = os.urandom(_NONCE_BYTES)
    cipher = _cipher(owner, key, nonce)
    cipher.update(_framed(stored_key(owner, key).encode(), response.fingerprint.encode()))
    text, tag = cipher.encrypt_and_digest(plain)
    return bytes(nonce + text + tag)


def _unseal(owner: str, key: str, fingerprint: str, status: int, sealed: bytes) -> StoredResponse:
    nonce, text, tag = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:-_TAG_BYTES], sealed[-_TAG_BYTES:]
    cipher = _cipher(owner, key, nonce)
    cipher.update(_framed(stored_key(owner, key).encode(), fingerprint.encode()))
    try:
        plain = bytes(cipher.decrypt_and_verify(text, tag))
    except ValueError:  # the tag does not match
        raise Conflict("the response kept for this Idempotency-Key cannot be read") from None
    size = int.from_bytes(plain[:4], "big")
    headers = json.loads(plain[4 : 4 + size])
    body_size = int.from_bytes(plain[4 + size : 8 + size], "big")
    body = plain[8 + size : 8 + size + body_size]
    return StoredResponse(fingerprint, status, [(k, v) for k, v in headers], body)


def claim(ports: Ports, owner: str, key: str) -> StoredResponse | None:
    """Claim ``key`` for a request of ``owner`` (None: run it), or the response to replay;
    409 while the request that claimed it is still running."""
    row_key = stored_key(owner, key)
    now = _now(ports)
    with ports.uow.write() as uow:
        row = uow.idempotency.get(owner, row_key)
        if row is not None and row["expires_at"] <= _iso(now):
            uow.idempotency.forget(owner, row_key)
            row = None
        if row is None:
            claimed = uow.idempotency.claim(
                {
                    "owner": owner,
                    "key": row_key,
                    "created_at": _iso(now),
                    "expires_at": _iso(now + ABANDONED_AFTER),
                }
            )
            if claimed:
                return None
            row = uow.idempotency.get(owner, row_key)  # claimed by a concurrent request
    if row is None or row["status"] is None:
        raise Conflict("a request with this Idempotency-Key is still being processed; retry later")
    return _unseal(owner, key, row["fingerprint"], row["status"], row["body"])


def complete(ports: Ports, owner: str, key: str, response: StoredResponse) -> None:
    """Keep the response of the request that claimed ``key`` for its retries."""
    expires = _now(ports) + timedelta(seconds=ports.settings.idempotency_ttl_seconds)
    sealed = seal_response(owner, key, response)
    with ports.uow.write() as uow:
        uow.idempotency.complete(
            owner,
            stored_key(owner, key),
            {
                "fingerprint": response.fingerprint,
                "status": response.status,
                "headers": None,  # sealed with the body
                "body": sealed,
                "expires_at": _iso(expires),
            },
        )


def release(ports: Ports, owner: str, key: str) -> None:
    """Free ``key``: its request failed and applied nothing."""
    with ports.uow.write() as uow:
        uow.idempotency.release(owner, stored_key(owner, key))


def purge(ports: Ports) -> int:
    """Forget every expired key (and every abandoned claim); how many."""
    with ports.uow.write() as uow:
        return uow.idempotency.purge(_iso(_now(ports)))
