"""Whether a chain holds the ledger entry a proof document names: the receipt of the chain
transaction that recorded it, read from any node of the chain (no Stone Panther server)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from panther.ledger.errors import LedgerError

from .contract import RECORDED_TOPIC, decode_recorded
from .rpc import JsonRpc

__all__ = ["check_on_chain"]


def check_on_chain(document: Any, rpc_url: str, *, timeout: float = 10.0) -> tuple[bool, str]:
    """(ok, reason): the node at ``rpc_url`` is the document's chain, and the transaction it
    names succeeded and recorded, from the document's contract, its entry (seq and hash)."""
    try:
        ledger, entry = document["ledger"], document["entry"]
        if ledger.get("kind") != "evm":
            return False, "the proof's entry is not on an EVM ledger"
        return asyncio.run(_check(ledger, entry, rpc_url, timeout))
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        return False, f"not a proof document: {type(exc).__name__} {exc}"
    except LedgerError as exc:
        return False, f"the node at {rpc_url} cannot be asked: {exc}"


async def _check(
    ledger: dict[str, Any], entry: dict[str, Any], rpc_url: str, timeout: float
) -> tuple[bool, str]:
    async with httpx.AsyncClient(timeout=timeout) as client:
        rpc = JsonRpc(client, rpc_url)
        chain_id = int(await rpc.call("eth_chainId", []), 16)
        receipt = await rpc.call("eth_getTransactionReceipt", [ledger["transactionHash"]])
    if chain_id != ledger["domain"]["chainId"]:
        return False, f"the node is chain {chain_id}, the proof's is {ledger['domain']['chainId']}"
    if not receipt:
        return False, f"the chain has no transaction {ledger['transactionHash']}"
    if int(receipt["status"], 16) != 1:
        return False, f"transaction {ledger['transactionHash']} reverted"
    contract = str(ledger["contract"]).lower()
    for log in receipt.get("logs", []):
        topics = log.get("topics") or []
        if str(log.get("address", "")).lower() != contract or not topics:
            continue
        if bytes.fromhex(topics[0].removeprefix("0x")) != RECORDED_TOPIC:
            continue
        event = decode_recorded(log)
        if event.seq != entry["seq"] or event.entry_hash.hex() != entry["entryHash"]:
            return False, (
                f"transaction {ledger['transactionHash']} recorded entry {event.seq} with hash "
                f"{event.entry_hash.hex()}, not the proof's"
            )
        return True, (
            f"chain {chain_id} recorded entry {event.seq} with hash {event.entry_hash.hex()} "
            f"in block {event.block_number} (contract {ledger['contract']})"
        )
    return False, f"transaction {ledger['transactionHash']} recorded no entry of the contract"
