"""Rate limits at the transport: token requests per address, failed ones per address and per
client id, writes per client. A request over a limit is a 429 in the error format of the API
it was for, with ``Retry-After``; the counting is `services.ports.RateLimiter`'s."""

from __future__ import annotations

import base64
import binascii
import typing as t
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response
from .services.ports import RateLimiter
from .settings import Settings

__all__ = ["RateLimit", "send_error"]

TOKEN_PATH = "/oauth/token"
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_MAX_KEY = 200  # a client id is 200 characters at most (oauth.yaml)


async def send_error(
    send: Send, path: str, status: int, message: str, *, headers: dict[str, str] | None = None
) -> None:
    """An error body of the API `path` belongs to, sent straight from a middleware."""
    response = error_response(path, status, message, headers=headers)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": response.body})


class RateLimit:
    """Placed after connexion's security middleware (a write's caller is known by then) and
    inside its exception middleware (a failure arrives here as the exception)."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter, settings: Settings) -> None:
        self.app, self.limiter, self.settings = app, limiter, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WRITES:
            await self.app(scope, receive, send)
            return
        if scope.get("path") == TOKEN_PATH:
            await self._token(scope, receive, send)
            return
        context = scope.get("extensions", {}).get("connexion_context", {})
        caller = (context.get("token_info") or {}).get("caller")
        wait = None
        if caller is not None:
            wait = self._hit(self.settings.rate_limit_writes_per_client, "write", caller.client_id)
        if wait is not None:
            await self._refuse(scope, send, wait, "writes by this client")
            return
        await self.app(scope, receive, send)

    async def _token(self, scope: Scope, receive: Receive, send: Send) -> None:
        s = self.settings
        address = str((scope.get("client") or ("unknown",))[0])
        messages = await _whole_body(receive)
        client_id = _client_id(scope, b"".join(m.get("body", b"") for m in messages))
        waits = [self._exhausted(s.rate_limit_token_failures_per_ip, "failed-address", address)]
        if client_id:
            rule = s.rate_limit_token_failures_per_client
            waits.append(self._exhausted(rule, "failed-client", client_id))
        refused = [w for w in waits if w is not None]
        if refused:
            await self._refuse(scope, send, max(refused), "failed authentications")
            return
        wait = self._hit(s.rate_limit_token_per_ip, "token", address)
        if wait is not None:
            await self._refuse(scope, send, wait, "token requests from this address")
            return
        status: object = 0

        async def replay() -> Message:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, replay, watch)
        except Exception as exc:  # errors travel as exceptions to connexion's handlers, outside
            status = getattr(exc, "status", None) or getattr(exc, "status_code", 500)
            raise
        finally:
            if status == 401:
                self._hit(s.rate_limit_token_failures_per_ip, "failed-address", address)
                if client_id:
                    self._hit(s.rate_limit_token_failures_per_client, "failed-client", client_id)

    def _hit(self, rule: str, *key: str) -> int | None:
        return self.limiter.hit(rule, *key) if rule else None

    def _exhausted(self, rule: str, *key: str) -> int | None:
        return self.limiter.exhausted(rule, *key) if rule else None

    @staticmethod
    async def _refuse(scope: Scope, send: Send, wait: int, what: str) -> None:
        await send_error(
            send,
            scope.get("path", ""),
            429,
            f"too many {what}; retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )


async def _whole_body(receive: Receive) -> list[Message]:
    """The request's messages, read to the end (the body limit is enforced outside)."""
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _client_id(scope: Scope, body: bytes) -> str:
    """The client id a token request names (HTTP Basic or the form), "" when none."""
    headers: t.Iterable[tuple[bytes, bytes]] = scope.get("headers", [])
    auth = next((v for k, v in headers if k == b"authorization"), b"")
    if auth[:6].lower() == b"basic ":
        try:
            return base64.b64decode(auth[6:]).decode().partition(":")[0][:_MAX_KEY]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    try:
        form = parse_qs(body.decode("latin-1"), max_num_fields=10)
    except ValueError:  # more fields than a token request has: the app refuses it
        return ""
    return (form.get("client_id") or [""])[0][:_MAX_KEY]
