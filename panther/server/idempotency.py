"""``Idempotency-Key`` on every operation whose document declares it (the writes): a retry of
a request that was carried out gets its response again instead of doing it twice.

ASGI middleware, outside connexion's routing and error handling so that it sees the final
response of every request; the rules (claim, replay, refuse, expire) are in
`services.idempotency`, the keys in the database.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
import typing as t
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response, path_pattern
from .services import idempotency
from .services.errors import Conflict, Unauthorized
from .services.parties import read_token
from .services.ports import Ports

__all__ = ["HEADER", "IdempotencyKeys", "idempotent_operations"]

HEADER = "Idempotency-Key"
REPLAYED = (b"idempotent-replayed", b"true")
# An sf-string of visible ASCII (no quote or backslash inside), or the same bare.
_KEY = re.compile(r'^("[!#-\[\]-~]{1,255}"|[!#-\[\]-~]{1,255})$')
# Headers a replay does not repeat: they describe the connection or the moment.
_NOT_KEPT = {"content-length", "date", "server", "connection", "transfer-encoding", "set-cookie"}
_PURGE_EVERY = 60.0  # seconds between purges of expired keys, per process

log = logging.getLogger("panther")


@dataclass(frozen=True)
class Operation:
    pattern: re.Pattern[str]
    method: str
    declares_422: bool


def idempotent_operations(documents: list[tuple[str, dict[str, t.Any]]]) -> list[Operation]:
    """The operations of the documents (base path, parsed document) that declare the key."""
    out = []
    for base, spec in documents:
        for template, item in spec.get("paths", {}).items():
            for method, op in item.items():
                if not isinstance(op, dict):
                    continue
                if HEADER in [_parameter(spec, p).get("name") for p in op.get("parameters", [])]:
                    declares_422 = bool({"422", "default"} & set(op.get("responses", {})))
                    out.append(
                        Operation(path_pattern(base, template), method.upper(), declares_422)
                    )
    return out


def _parameter(spec: dict[str, t.Any], parameter: dict[str, t.Any]) -> dict[str, t.Any]:
    """The parameter, its ``$ref`` (``#/components/parameters/<name>``) followed."""
    ref = parameter.get("$ref")
    if not ref:
        return parameter
    found: dict[str, t.Any] = spec["components"]["parameters"][ref.rsplit("/", 1)[-1]]
    return found


class IdempotencyKeys:
    def __init__(self, app: ASGIApp, *, ports: Ports, operations: list[Operation]) -> None:
        self.app, self.ports, self.operations = app, ports, operations
        self._next_purge = 0.0

    def _operation(self, scope: Scope) -> Operation | None:
        path, method = scope.get("path", ""), scope.get("method", "")
        return next(
            (o for o in self.operations if o.method == method and o.pattern.match(path)), None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation = self._operation(scope) if scope["type"] == "http" else None
        headers = dict(scope.get("headers", [])) if operation is not None else {}
        raw = headers.get(HEADER.lower().encode())
        if operation is None or raw is None:
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        text = raw.decode("latin-1").strip()
        if not _KEY.match(text):
            await _send_error(send, path, 400, f"{HEADER} must be 1 to 255 visible characters")
            return
        owner = await asyncio.to_thread(self._owner, headers.get(b"authorization"))
        if owner is None:  # no valid token: the app answers 401 and nothing is kept
            await self.app(scope, receive, send)
            return
        await self._purge_now_and_then()
        key = text.strip('"')
        try:
            stored = await asyncio.to_thread(idempotency.claim, self.ports, owner, key)
        except Conflict as exc:
            await _send_error(send, path, 409, str(exc))
            return
        fingerprint = _Fingerprint(scope)
        if stored is not None:
            await fingerprint.read_all(receive)
            if fingerprint.hexdigest() != stored.fingerprint:
                await _send_error(
                    send,
                    path,
                    422 if operation.declares_422 else 400,
                    f"this {HEADER} was used for another request (method, path, query or "
                    "body differ): send a new key",
                )
                return
            await _send(send, stored.status, [*_encoded(stored.headers), REPLAYED], stored.body)
            return
        await self._run(scope, receive, send, owner, key, fingerprint)

    async def _run(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        owner: str,
        key: str,
        fingerprint: _Fingerprint,
    ) -> None:
        """Run the request that claimed the key, keep its response if it succeeded.

        The end of the response is held back until the key records the outcome (kept, or
        released for a failure): a client that retries the moment it has its answer (or
        lost it on the way) must find the key settled, not a 409 "still being processed"."""
        status, kept, body = 0, [], bytearray()
        held: Message | None = None

        async def hashing_receive() -> Message:
            return fingerprint.feed(await receive())

        async def capturing_send(message: Message) -> None:
            nonlocal status, kept, held
            if message["type"] == "http.response.start":
                status = int(message["status"])
                kept = [
                    (k.decode("latin-1"), v.decode("latin-1"))
                    for k, v in message.get("headers", [])
                    if k.decode("latin-1").lower() not in _NOT_KEPT
                ]
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    held = message
                    return
            await send(message)

        try:
            await self.app(scope, hashing_receive, capturing_send)
            if 200 <= status < 300:
                await fingerprint.read_all(receive)  # what the app left unread counts too
                digest = fingerprint.hexdigest()
                stored = idempotency.StoredResponse(digest, status, kept, bytes(body))
                await self._keep(owner, key, stored)
            else:
                await asyncio.to_thread(idempotency.release, self.ports, owner, key)
        except BaseException:
            await asyncio.to_thread(idempotency.release, self.ports, owner, key)
            raise
        if held is not None:
            await send(held)

    async def _keep(self, owner: str, key: str, stored: idempotency.StoredResponse) -> None:
        try:
            await asyncio.to_thread(idempotency.complete, self.ports, owner, key, stored)
        except Exception:
            # The client has its response. The key stays claimed (409 to a retry) until it is
            # abandoned: refusing a retry is safe, running it twice would not be.
            log.exception("keeping the response of idempotency key %r of %s failed", key, owner)

    def _owner(self, authorization: bytes | None) -> str | None:
        scheme, _, token = (authorization or b"").decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            return read_token(self.ports, token.strip()).party_id
        except Unauthorized:
            return None

    async def _purge_now_and_then(self) -> None:
        if time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + _PURGE_EVERY
        try:
            await asyncio.to_thread(idempotency.purge, self.ports)
        except Exception:  # a purge that failed is tried again later; the request goes on
            log.warning("purging expired idempotency keys failed", exc_info=True)


class _Fingerprint:
    """SHA-256 over the method, path, query and body of a request."""

    def __init__(self, scope: Scope) -> None:
        self._hash = hashlib.sha256()
        for part in (
            scope["method"].encode(),
            scope.get("path", "").encode(),
            scope.get("query_string", b""),
        ):
            self._hash.update(len(part).to_bytes(8, "big") + part)
        self.complete = False

    def feed(self, message: Message) -> Message:
        if message["type"] == "http.request" and not self.complete:
            self._hash.update(message.get("body", b""))
            self.complete = not message.get("more_body", False)
        return message

    async def read_all(self, receive: Receive) -> None:
        while not self.complete:
            if self.feed(await receive())["type"] != "http.request":
                return  # the client left

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _encoded(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    length = (b"content-length", str(len(body)).encode())
    await send({"type": "http.response.start", "status": status, "headers": [*headers, length]})
    await send({"type": "http.response.body", "body": body})


async def _send_error(send: Send, path: str, status: int, message: str) -> None:
    response = error_response(path, status, message)
    await _send(send, status, [(b"content-type", b"application/json")], bytes(response.body))
