"""A small Ethereum JSON-RPC client over an injected `httpx.AsyncClient`, and the one place
where every transport and JSON-RPC failure becomes one of the ledger's own errors."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

import httpx

from panther.ledger.errors import (
    ConflictError,
    InvalidTransaction,
    LedgerError,
    LedgerMisconfigured,
    LedgerUnavailable,
)

from .contract import decode_revert

__all__ = [
    "RPC_ERROR_CODES",
    "TRANSPORT_ERRORS",
    "TX_SEND_MESSAGES",
    "JsonRpc",
    "RpcError",
    "TxAlreadyKnown",
    "map_rpc_error",
    "map_transport_error",
]

# Every httpx transport failure: the node cannot be reached or did not answer in time.
TRANSPORT_ERRORS: tuple[type[httpx.HTTPError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.PoolTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
    httpx.LocalProtocolError,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
    httpx.CloseError,
    httpx.DecodingError,
    httpx.TooManyRedirects,
)

# JSON-RPC 2.0 and EIP-1474 error codes, and what each means for the ledger.
RPC_ERROR_CODES: dict[int, type[LedgerError]] = {
    -32700: InvalidTransaction,  # parse error: we sent something the node cannot read
    -32600: InvalidTransaction,  # invalid request
    -32601: LedgerMisconfigured,  # method not found: not an Ethereum node, or one that lacks it
    -32602: InvalidTransaction,  # invalid params
    -32603: LedgerUnavailable,  # internal error
    -32000: LedgerUnavailable,  # server error (refined by message below)
    -32001: LedgerUnavailable,  # resource not found (e.g. a pruned block)
    -32002: LedgerUnavailable,  # resource unavailable
    -32003: InvalidTransaction,  # transaction rejected
    -32004: LedgerMisconfigured,  # method not supported
    -32005: LedgerUnavailable,  # limit exceeded / rate limited
    -32006: LedgerMisconfigured,  # JSON-RPC version not supported
    3: InvalidTransaction,  # execution reverted (decoded from its data first)
}

# Messages nodes (geth, Besu, anvil) send for -32000 on eth_sendRawTransaction.
TX_SEND_MESSAGES: tuple[tuple[re.Pattern[str], type[LedgerError] | None], ...] = (
    (re.compile(r"already known|known transaction|already imported", re.I), None),
    (re.compile(r"nonce too low|nonce.*(lower|already used)|OldNonce", re.I), ConflictError),
    (
        re.compile(r"replacement transaction underpriced|ReplacementUnderpriced", re.I),
        ConflictError,
    ),
    (re.compile(r"insufficient funds|upfront cost", re.I), LedgerMisconfigured),
    (re.compile(r"underpriced|base fee|gas price|fee cap", re.I), LedgerMisconfigured),
    (re.compile(r"chain ?id|invalid sender|wrong chain", re.I), LedgerMisconfigured),
    (re.compile(r"intrinsic gas|gas limit|exceeds block gas|out of gas", re.I), InvalidTransaction),
    (re.compile(r"txpool is full|pool.*full|rate limit|too many", re.I), LedgerUnavailable),
    (re.compile(r"execution reverted|revert", re.I), InvalidTransaction),
)


@dataclass(eq=False)
class RpcError(Exception):
    """A JSON-RPC error object as the node sent it (before mapping)."""

    method: str
    code: int
    message: str
    data: Any = None


class TxAlreadyKnown(LedgerError):
    """The node has this exact transaction already (a resubmission): not a failure."""


def _revert_data(data: Any) -> bytes | None:
    if isinstance(data, dict):  # some nodes nest it: {"data": "0x..."}
        data = data.get("data") or data.get("result")
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return None
    return None


def map_rpc_error(error: RpcError, tx_type: str = "") -> LedgerError:
    """The ledger error for a JSON-RPC error; unknown codes count as the node being unwell
    (retry later), never as success."""
    detail = f"{error.method}: {error.message} (code {error.code})"
    revert = _revert_data(error.data)
    if revert is not None and (error.code == 3 or "revert" in error.message.lower()):
        return decode_revert(revert, tx_type)
    if error.code in (-32000, -32003) or error.method == "eth_sendRawTransaction":
        for pattern, kind in TX_SEND_MESSAGES:
            if pattern.search(error.message):
                if kind is None:
                    return TxAlreadyKnown()
                return _build(kind, detail, tx_type)
    kind = RPC_ERROR_CODES.get(error.code, LedgerUnavailable)
    return _build(kind, detail, tx_type)


def _build(kind: type[LedgerError], detail: str, tx_type: str) -> LedgerError:
    if kind is InvalidTransaction:
        return InvalidTransaction(tx_type, detail)
    if kind is ConflictError:
        return ConflictError(-1, detail)
    if kind is LedgerMisconfigured:
        return LedgerMisconfigured(detail)
    return LedgerUnavailable(detail)


def map_transport_error(exc: httpx.HTTPError | ValueError, method: str) -> LedgerError:
    """Transport failures and unreadable answers: the node is unavailable."""
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        if status in (401, 403, 404, 405):
            return LedgerMisconfigured(f"{method}: the node answered HTTP {status}")
        return LedgerUnavailable(f"{method}: the node answered HTTP {status}")
    return LedgerUnavailable(f"{method}: {type(exc).__name__}: {exc}")


class JsonRpc:
    """JSON-RPC 2.0 over HTTP. Every failure raises a LedgerError (or RpcError mapped by
    `map_rpc_error` when the caller asks for the raw error with `raw=True`)."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self._client = client
        self._url = url
        self._ids = itertools.count(1)

    @property
    def url(self) -> str:
        return self._url

    async def _post(self, body: Any, method: str) -> Any:
        try:
            response = await self._client.post(self._url, json=body)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise map_transport_error(exc, method) from exc

    async def call(self, method: str, params: list[Any], *, raw: bool = False) -> Any:
        answer = await self._post(
            {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}, method
        )
        return self._result(answer, method, raw)

    async def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Several calls in one request; each result, or the RpcError for that call."""
        if not calls:
            return []
        first = next(self._ids)
        body = [
            {"jsonrpc": "2.0", "id": first + i, "method": m, "params": p}
            for i, (m, p) in enumerate(calls)
        ]
        for _ in calls[1:]:
            next(self._ids)
        answer = await self._post(body, calls[0][0])
        if not isinstance(answer, list):
            raise LedgerUnavailable(f"{calls[0][0]}: the node does not answer batches")
        by_id = {item.get("id"): item for item in answer if isinstance(item, dict)}
        out: list[Any] = []
        for i, (method, _) in enumerate(calls):
            item = by_id.get(first + i)
            if item is None:
                raise LedgerUnavailable(f"{method}: missing from the batch answer")
            try:
                out.append(self._result(item, method, True))
            except RpcError as exc:
                out.append(exc)
        return out

    @staticmethod
    def _result(answer: Any, method: str, raw: bool) -> Any:
        if not isinstance(answer, dict):
            raise LedgerUnavailable(f"{method}: the node answered something other than JSON-RPC")
        error = answer.get("error")
        if error is not None:
            rpc_error = RpcError(
                method,
                int(error.get("code", 0)) if isinstance(error, dict) else 0,
                str(error.get("message", "")) if isinstance(error, dict) else str(error),
                error.get("data") if isinstance(error, dict) else None,
            )
            if raw:
                raise rpc_error
            raise map_rpc_error(rpc_error)
        if "result" not in answer:
            raise LedgerUnavailable(f"{method}: the answer has neither result nor error")
        return answer["result"]
