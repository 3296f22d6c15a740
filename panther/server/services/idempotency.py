"""Requests sent with an ``Idempotency-Key`` (draft-ietf-httpapi-idempotency-key-header).

The first request with a key claims it and runs; its successful response is kept for the
retries (``PANTHER_IDEMPOTENCY_TTL``). A retry with the same key gets that response again if it
is the same request (its fingerprint: method, path, query and body), and is refused if it is
another (422) or while the first is still running (409). A request that failed applied
nothing (every write is one transaction), so its key is freed for the next try.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .errors import Conflict
from .ports import Ports

__all__ = ["StoredResponse", "claim", "complete", "purge", "release"]

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


def claim(ports: Ports, owner: str, key: str) -> StoredResponse | None:
    """Claim ``key`` for a request of ``owner`` (None: run it), or the response to replay;
    409 while the request that claimed it is still running."""
    now = _now(ports)
    with ports.uow.write() as uow:
        row = uow.idempotency.get(owner, key)
        if row is not None and row["expires_at"] <= _iso(now):
            uow.idempotency.forget(owner, key)
            row = None
        if row is None:
            claimed = uow.idempotency.claim(
                {
                    "owner": owner,
                    "key": key,
                    "created_at": _iso(now),
                    "expires_at": _iso(now + ABANDONED_AFTER),
                }
            )
            if claimed:
                return None
            row = uow.idempotency.get(owner, key)  # claimed by a concurrent request
    if row is None or row["status"] is None:
        raise Conflict("a request with this Idempotency-Key is still being processed; retry later")
    return StoredResponse(
        fingerprint=row["fingerprint"],
        status=row["status"],
        headers=[(k, v) for k, v in json.loads(row["headers"])],
        body=row["body"],
    )


def complete(ports: Ports, owner: str, key: str, response: StoredResponse) -> None:
    """Keep the response of the request that claimed ``key`` for its retries."""
    expires = _now(ports) + timedelta(seconds=ports.settings.idempotency_ttl_seconds)
    with ports.uow.write() as uow:
        uow.idempotency.complete(
            owner,
            key,
            {
                "fingerprint": response.fingerprint,
                "status": response.status,
                "headers": json.dumps(response.headers),
                "body": response.body,
                "expires_at": _iso(expires),
            },
        )


def release(ports: Ports, owner: str, key: str) -> None:
    """Free ``key``: its request failed and applied nothing."""
    with ports.uow.write() as uow:
        uow.idempotency.release(owner, key)


def purge(ports: Ports) -> int:
    """Forget every expired key (and every abandoned claim); how many."""
    with ports.uow.write() as uow:
        return uow.idempotency.purge(_iso(_now(ports)))
