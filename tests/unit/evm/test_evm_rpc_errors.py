"""Every transport and JSON-RPC failure, and every contract revert, becomes a ledger error."""

from __future__ import annotations

from typing import Any

import eth_abi
import httpx
import pytest
from eth_utils import keccak

from panther.adapters.evm.contract import CUSTOM_ERROR_SIGNATURES, AlreadyRecorded, decode_revert
from panther.adapters.evm.rpc import (
    RPC_ERROR_CODES,
    TRANSPORT_ERRORS,
    JsonRpc,
    RpcError,
    TxAlreadyKnown,
    map_rpc_error,
)
from panther.ledger.errors import (
    ConflictError,
    InvalidSignature,
    InvalidTransaction,
    LedgerError,
    LedgerMisconfigured,
    LedgerUnavailable,
    MalleableSignature,
    PolicyViolation,
    UnknownParty,
)


def _rpc(handler: Any) -> tuple[JsonRpc, httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return JsonRpc(client, "http://node.test"), client


@pytest.mark.parametrize("error", TRANSPORT_ERRORS, ids=lambda e: e.__name__)
async def test_every_transport_error_means_the_node_is_unavailable(error: type) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if error in (httpx.TooManyRedirects, httpx.DecodingError):
            raise error("boom", request=request)
        raise error("boom", request=request)

    rpc, client = _rpc(handler)
    async with client:
        with pytest.raises(LedgerUnavailable, match=error.__name__):
            await rpc.call("eth_blockNumber", [])


def test_the_transport_list_covers_every_httpx_transport_error() -> None:
    def leaves(cls: type) -> set[type]:
        subs = set(cls.__subclasses__())
        return {cls} if not subs else set().union(*(leaves(s) for s in subs))

    transport = leaves(httpx.TransportError) | {httpx.DecodingError, httpx.TooManyRedirects}
    assert transport <= set(TRANSPORT_ERRORS)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (500, LedgerUnavailable),
        (502, LedgerUnavailable),
        (503, LedgerUnavailable),
        (429, LedgerUnavailable),
        (401, LedgerMisconfigured),
        (403, LedgerMisconfigured),
        (404, LedgerMisconfigured),
    ],
)
async def test_http_status_errors(status: int, expected: type) -> None:
    rpc, client = _rpc(lambda request: httpx.Response(status, text="nope"))
    async with client:
        with pytest.raises(expected, match=str(status)):
            await rpc.call("eth_chainId", [])


@pytest.mark.parametrize("body", [b"<html>proxy</html>", b"[1, 2]", b'{"jsonrpc": "2.0"}'])
async def test_answers_that_are_not_json_rpc(body: bytes) -> None:
    rpc, client = _rpc(lambda request: httpx.Response(200, content=body))
    async with client:
        with pytest.raises(LedgerUnavailable):
            await rpc.call("eth_chainId", [])


@pytest.mark.parametrize(("code", "expected"), sorted(RPC_ERROR_CODES.items()))
async def test_every_json_rpc_error_code_has_a_mapping(code: int, expected: type) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"jsonrpc": "2.0", "id": 1, "error": {"code": code, "message": "x"}}
        )

    rpc, client = _rpc(handler)
    async with client:
        with pytest.raises(expected) as info:
            await rpc.call("eth_getLogs", [])
    assert f"code {code}" in str(info.value)


def test_an_unknown_code_is_unavailable_never_success() -> None:
    assert isinstance(map_rpc_error(RpcError("eth_call", -31999, "odd")), LedgerUnavailable)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("already known", TxAlreadyKnown),
        ("known transaction: 0xabc", TxAlreadyKnown),
        ("nonce too low", ConflictError),
        ("nonce too low: next nonce 5, tx nonce 4", ConflictError),
        ("replacement transaction underpriced", ConflictError),
        ("insufficient funds for gas * price + value", LedgerMisconfigured),
        ("transaction underpriced", LedgerMisconfigured),
        ("max fee per gas less than block base fee", LedgerMisconfigured),
        ("invalid chain id for signer", LedgerMisconfigured),
        ("intrinsic gas too low", InvalidTransaction),
        ("exceeds block gas limit", InvalidTransaction),
        ("txpool is full", LedgerUnavailable),
        ("something new", LedgerUnavailable),
    ],
)
def test_send_raw_transaction_messages(message: str, expected: type) -> None:
    mapped = map_rpc_error(RpcError("eth_sendRawTransaction", -32000, message), "MatchEndorsed")
    assert type(mapped) is expected


def _revert(signature: str, types: list[str], values: list[Any]) -> bytes:
    return keccak(signature.encode())[:4] + eth_abi.encode(types, values)


@pytest.mark.parametrize(
    ("signature", "values", "expected"),
    [
        ("InvalidTransaction(string)", ["bad"], InvalidTransaction),
        ("InvalidSignature(uint256,string)", [1, "recovers elsewhere"], InvalidSignature),
        ("MalleableSignature(uint256)", [0], MalleableSignature),
        ("PolicyViolation(string)", ["both parties must sign"], PolicyViolation),
        ("UnknownParty(string)", ["rel-x"], UnknownParty),
        ("AlreadyRecorded(uint256)", [7], AlreadyRecorded),
        ("Error(string)", ["require failed"], InvalidTransaction),
        ("Panic(uint256)", [0x11], InvalidTransaction),
    ],
)
def test_every_contract_error_decodes(signature: str, values: list[Any], expected: type) -> None:
    types = signature[signature.index("(") + 1 : -1].split(",")
    error = decode_revert(_revert(signature, types, values), "MatchEndorsed")
    assert type(error) is expected
    assert signature in CUSTOM_ERROR_SIGNATURES


def test_revert_through_json_rpc_code_3_is_decoded() -> None:
    data = "0x" + _revert("PolicyViolation(string)", ["string"], ["one party"]).hex()
    mapped = map_rpc_error(RpcError("eth_call", 3, "execution reverted", data), "DisputeOpened")
    assert isinstance(mapped, PolicyViolation) and mapped.detail == "one party"


@pytest.mark.parametrize("data", ["0x", "0xdeadbeef", "0x08c379a0ff"])
def test_unknown_or_malformed_revert_data_is_a_refusal_not_a_crash(data: str) -> None:
    mapped = map_rpc_error(RpcError("eth_call", 3, "execution reverted", data), "MatchRecorded")
    assert isinstance(mapped, InvalidTransaction)
    assert isinstance(mapped, LedgerError)


async def test_batch_returns_each_error_in_place() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        import json

        calls = json.loads(request.content)
        return httpx.Response(
            200,
            json=[
                {"jsonrpc": "2.0", "id": calls[0]["id"], "result": None},
                {"jsonrpc": "2.0", "id": calls[1]["id"], "error": {"code": -32000, "message": "x"}},
            ],
        )

    rpc, client = _rpc(handler)
    async with client:
        first, second = await rpc.batch([("a", []), ("b", [])])
    assert first is None
    assert isinstance(second, RpcError) and second.method == "b"
