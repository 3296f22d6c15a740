"""The EVM ledger: the PantherLedger contract on any Ethereum JSON-RPC node.

`AsyncEvmLedger` does the work on one event loop: it signs raw transactions locally
(eth-account, coincurve), keeps the sender's nonce itself so that many transactions are in
flight at once (pipelining), awaits receipts in batches, resubmits a transaction the node
dropped, and reads the ledger back from `Recorded` events with `eth_getLogs` in pages.
The contract, not this adapter, checks signatures and the endorsement policy; a revert
comes back as the ledger's own error.

`EvmLedger` is the synchronous `LedgerAdapter` the server's use cases call from worker
threads: it runs an `AsyncEvmLedger` on a private event loop thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future as ThreadFuture
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from eth_account import Account

from panther.ledger.canonical import canonical_json
from panther.ledger.eip712 import LedgerDomain, address_of, chained_entry_hash, to_checksum
from panther.ledger.errors import (
    ConflictError,
    EntryNotFound,
    InvalidTransaction,
    LedgerError,
    LedgerMisconfigured,
    LedgerUnavailable,
)
from panther.ledger.transactions import LedgerEntry, Transaction, TxType

from .contract import (
    RECORDED_TOPIC,
    AlreadyRecorded,
    artifact,
    call_data,
    decode_recorded,
    entry_from_event,
    view_call,
)
from .rpc import JsonRpc, RpcError, TxAlreadyKnown, map_rpc_error

__all__ = ["AsyncEvmLedger", "EvmConfig", "EvmLedger", "gas_limit"]

log = logging.getLogger(__name__)
_T = TypeVar("_T")

_REGISTRY_KINDS = (TxType.PartyRegistered, TxType.RelationAgreed)


@dataclass(frozen=True)
class EvmConfig:
    """Where the ledger lives and who pays for (relays) its transactions.

    `contract` None deploys a new contract (its address is then `AsyncEvmLedger.contract`).
    `sender_key` signs the Ethereum transactions that carry the endorsed ledger
    transactions; it needs no authority of its own (gas price 0 on a permissioned chain).
    """

    rpc_url: str
    chain_id: int
    sender_key: bytes
    contract: str | None = None
    from_block: int = 0
    gas_price: int = 0
    receipt_timeout: float = 30.0
    poll_interval: float = 0.01
    resubmit_after: float = 3.0
    log_page_blocks: int = 2000
    receipt_batch: int = 200


def gas_limit(tx: Transaction, payload_bytes: bytes) -> int:
    """A gas limit with headroom for a kind and size (measured in bench/RESULTS.md): the
    signature checks and the event dominate; registry kinds also scan their JSON payload.
    Kept tight because a block packs transactions by their limit, not their use."""
    limit = 75_000 + 15_000 * len(tx.signatures) + 50 * len(payload_bytes)
    if tx.type in _REGISTRY_KINDS:
        limit += 200_000 + 700 * len(payload_bytes)
    return limit


@dataclass(frozen=True)
class _Sent:
    """A transaction the node took: its nonce, hash and signed bytes, and when it went."""

    nonce: int
    tx_hash: str
    raw: bytes
    sent_at: float


@dataclass
class _Pending:
    nonce: int
    tx_hash: str
    raw: bytes
    tx: Transaction
    data: bytes
    future: asyncio.Future[LedgerEntry]
    sent_at: float
    deadline: float


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


class AsyncEvmLedger:
    """The ledger contract through JSON-RPC, on one event loop."""

    def __init__(self, client: httpx.AsyncClient, config: EvmConfig) -> None:
        self._rpc = JsonRpc(client, config.rpc_url)
        self._config = config
        self._sender_key = config.sender_key
        self._sender = address_of(config.sender_key)
        self._contract: str | None = config.contract
        self._from_block = config.from_block
        self._domain: LedgerDomain | None = None
        self._nonce: int | None = None
        self._send_lock = asyncio.Lock()
        self._pending: dict[int, _Pending] = {}
        self._poller: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        # Decoded entries in seq order, and the last block scanned for them.
        self._entries: list[LedgerEntry] = []
        self._recorded_by: list[tuple[str, int]] = []  # per entry: chain tx hash, block
        self._scanned_to = config.from_block - 1
        self._scan_lock = asyncio.Lock()

    # ------------------------------------------------------------------ set-up

    @property
    def rpc(self) -> JsonRpc:
        return self._rpc

    @property
    def sender(self) -> str:
        return self._sender

    @property
    def contract(self) -> str:
        if self._contract is None:
            raise LedgerMisconfigured("the ledger is not started")
        return self._contract

    @property
    def from_block(self) -> int:
        return self._from_block

    @property
    def domain(self) -> LedgerDomain:
        if self._domain is None:
            raise LedgerMisconfigured("the ledger is not started")
        return self._domain

    async def start(self) -> None:
        """Check the node is the configured chain, then attach to the contract (checking it
        is a PantherLedger for this chain and address) or deploy one."""
        chain_id = int(await self._rpc.call("eth_chainId", []), 16)
        if chain_id != self._config.chain_id:
            raise LedgerMisconfigured(
                f"the node is chain {chain_id}, the configuration says {self._config.chain_id}"
            )
        if self._contract is None:
            self._contract, self._from_block = await self._deploy()
            self._scanned_to = self._from_block - 1
        domain = LedgerDomain(chain_id=chain_id, verifying_contract=self._contract)
        code = await self._rpc.call("eth_getCode", [self._contract, "latest"])
        if not isinstance(code, str) or len(code) <= 2:
            raise LedgerMisconfigured(f"no contract at {self._contract} on chain {chain_id}")
        try:
            separator = await self._view("domainSeparator()")
        except LedgerError as exc:
            raise LedgerMisconfigured(
                f"{self._contract} is not a PantherLedger contract: {exc}"
            ) from exc
        if separator != domain.separator:
            raise LedgerMisconfigured(
                f"{self._contract} signs for another EIP-712 domain (name, version, chain id "
                "or address differ)"
            )
        self._domain = domain

    async def _deploy(self) -> tuple[str, int]:
        bytecode = bytes.fromhex(artifact()["bytecode"].removeprefix("0x"))
        receipt = await self._send_and_wait(bytecode, 6_000_000)
        if int(receipt["status"], 16) != 1 or not receipt.get("contractAddress"):
            raise LedgerMisconfigured("deploying the ledger contract failed")
        address = to_checksum(bytes.fromhex(receipt["contractAddress"][2:]))
        log.info("deployed PantherLedger at %s (block %s)", address, receipt["blockNumber"])
        return address, int(receipt["blockNumber"], 16)

    async def _view(
        self, signature: str, types: tuple[str, ...] = (), values: tuple[Any, ...] = ()
    ) -> bytes:
        result = await self._rpc.call(
            "eth_call",
            [{"to": self.contract, "data": _hex(view_call(signature, types, values))}, "latest"],
        )
        return bytes.fromhex(result.removeprefix("0x"))

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            try:
                await self._poller
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down
                pass
            self._poller = None

    # ------------------------------------------------------------------ writing

    async def append(self, tx: Transaction) -> LedgerEntry:
        """Send `tx` and wait for it to be mined (or refused)."""
        return await (await self.submit(tx))

    async def append_many(self, txs: list[Transaction]) -> list[LedgerEntry]:
        """Pipelined: every transaction is sent before any receipt is awaited. The entries
        come back in order; the first refusal is raised after all have settled."""
        futures = await self.submit_many(txs)
        results = await asyncio.gather(*futures, return_exceptions=True)
        entries: list[LedgerEntry] = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            entries.append(result)
        return entries

    async def submit(self, tx: Transaction) -> asyncio.Future[LedgerEntry]:
        """Sign and send `tx` now; the returned future resolves with its entry once mined."""
        if not tx.signers:
            # The contract refuses it too; failing here saves a transaction.
            raise InvalidTransaction(tx.type.value, "unsigned transaction")
        payload = canonical_json(dict(tx.payload))
        data = call_data(tx, payload)
        future: asyncio.Future[LedgerEntry] = asyncio.get_running_loop().create_future()
        sent = await self._send(tx, data, gas_limit(tx, payload))
        self._pending[sent.nonce] = _Pending(
            sent.nonce,
            sent.tx_hash,
            sent.raw,
            tx,
            data,
            future,
            sent.sent_at,
            sent.sent_at + self._config.receipt_timeout,
        )
        self._ensure_poller()
        self._wake.set()
        return future

    async def submit_many(
        self, txs: list[Transaction], chunk: int = 100
    ) -> list[asyncio.Future[LedgerEntry]]:
        """Sign `txs` with consecutive nonces and send them in JSON-RPC batches; one future
        per transaction. A transaction the node refuses at once gets its error on its
        future; the nonce it would have used goes to the next transaction sent."""
        # (A refusal at send time is a node's configuration problem, e.g. gas price, and
        # then usually refuses the whole batch.)
        loop = asyncio.get_running_loop()
        prepared = []
        for tx in txs:
            if not tx.signers:
                raise InvalidTransaction(tx.type.value, "unsigned transaction")
            payload = canonical_json(dict(tx.payload))
            prepared.append((tx, call_data(tx, payload), gas_limit(tx, payload)))
        futures: list[asyncio.Future[LedgerEntry]] = []
        for start in range(0, len(prepared), chunk):
            part = prepared[start : start + chunk]
            part_futures = [loop.create_future() for _ in part]
            futures += part_futures
            await self._send_batch(part, part_futures)
        self._ensure_poller()
        self._wake.set()
        return futures

    async def _send_batch(
        self,
        part: list[tuple[Transaction, bytes, int]],
        futures: list[asyncio.Future[LedgerEntry]],
    ) -> None:
        async with self._send_lock:
            for attempt in range(3):
                if self._nonce is None:
                    self._nonce = await self._sync_nonce()
                first = self._nonce
                signed = [
                    self._sign(first + i, self.contract, data, gas)
                    for i, (_, data, gas) in enumerate(part)
                ]
                try:
                    answers = await self._rpc.batch(
                        [("eth_sendRawTransaction", [_hex(raw)]) for raw, _ in signed]
                    )
                except LedgerUnavailable:
                    self._nonce = None
                    raise
                errors = [
                    map_rpc_error(a, tx.type.value) if isinstance(a, RpcError) else None
                    for a, (tx, _, _) in zip(answers, part, strict=True)
                ]
                if isinstance(errors[0], ConflictError) and attempt < 2:
                    self._nonce = None  # our nonce was taken: learn it and sign again
                    continue
                break
            now = time.monotonic()
            refused = False
            for i, ((tx, data, _), (raw, tx_hash), error, future) in enumerate(
                zip(part, signed, errors, futures, strict=True)
            ):
                if error is not None and not isinstance(error, TxAlreadyKnown):
                    future.set_exception(error)
                    refused = True
                    continue
                nonce = first + i
                self._pending[nonce] = _Pending(
                    nonce, tx_hash, raw, tx, data, future, now, now + self._config.receipt_timeout
                )
            # After a refusal the node's pending count says which nonce comes next (the
            # refused one's, so a transaction queued behind it is not stuck).
            self._nonce = None if refused else first + len(part)

    async def _sync_nonce(self) -> int:
        count = await self._rpc.call("eth_getTransactionCount", [self._sender, "pending"])
        return int(count, 16)

    def _sign(self, nonce: int, to: str | None, data: bytes, gas: int) -> tuple[bytes, str]:
        fields: dict[str, Any] = {
            "nonce": nonce,
            "gasPrice": self._config.gas_price,
            "gas": gas,
            "value": 0,
            "data": data,
            "chainId": self._config.chain_id,
        }
        if to is not None:
            fields["to"] = to
        signed = Account.sign_transaction(fields, self._sender_key)
        return bytes(signed.raw_transaction), _hex(bytes(signed.hash))

    async def _send(
        self,
        tx: Transaction | None,
        data: bytes,
        gas: int,
    ) -> _Sent:
        """Sign and send one transaction: a call of the contract, or (no `tx`) its
        deployment."""
        target = self.contract if tx is not None else None
        kind = tx.type.value if tx is not None else "deploy"
        async with self._send_lock:
            for attempt in range(3):
                if self._nonce is None:
                    self._nonce = await self._sync_nonce()
                nonce = self._nonce
                raw, tx_hash = self._sign(nonce, target, data, gas)
                try:
                    await self._rpc.call("eth_sendRawTransaction", [_hex(raw)], raw=True)
                except RpcError as exc:
                    mapped = map_rpc_error(exc, kind)
                    if isinstance(mapped, TxAlreadyKnown):
                        pass
                    elif isinstance(mapped, ConflictError) and attempt < 2:
                        # Another sender used our nonce (a second worker with the same key,
                        # or a node that restarted): learn the node's count and re-sign.
                        self._nonce = None
                        continue
                    else:
                        self._nonce = None
                        raise mapped from exc
                except LedgerUnavailable:
                    self._nonce = None
                    raise
                self._nonce = nonce + 1
                return _Sent(nonce, tx_hash, raw, time.monotonic())
        raise ConflictError(-1, "the sender's nonce kept moving")  # pragma: no cover

    async def _send_and_wait(self, data: bytes, gas: int) -> dict[str, Any]:
        """Deploy outside the pipeline and wait for the receipt."""
        sent = await self._send(None, data, gas)
        deadline = time.monotonic() + self._config.receipt_timeout
        while time.monotonic() < deadline:
            receipt: dict[str, Any] | None = await self._rpc.call(
                "eth_getTransactionReceipt", [sent.tx_hash]
            )
            if receipt is not None:
                return receipt
            await asyncio.sleep(self._config.poll_interval)
        raise LedgerUnavailable(f"no receipt for {sent.tx_hash}")

    # ------------------------------------------------------------------ receipts

    def _ensure_poller(self) -> None:
        if self._poller is None or self._poller.done():
            self._poller = asyncio.get_running_loop().create_task(self._poll())

    async def _poll(self) -> None:
        """Await receipts for everything in flight, oldest nonce first, in batches."""
        while self._pending:
            batch = [self._pending[n] for n in sorted(self._pending)[: self._config.receipt_batch]]
            try:
                receipts = await self._rpc.batch(
                    [("eth_getTransactionReceipt", [p.tx_hash]) for p in batch]
                )
            except LedgerUnavailable as exc:
                self._expire(exc)
                await asyncio.sleep(max(self._config.poll_interval, 0.1))
                continue
            progressed = False
            for pending, receipt in zip(batch, receipts, strict=True):
                if isinstance(receipt, RpcError) or receipt is None:
                    continue
                progressed = True
                del self._pending[pending.nonce]
                await self._settle(pending, receipt)
            if not progressed:
                await self._resubmit_stale(batch[0])
                self._expire(LedgerUnavailable("no receipt before the deadline"))
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self._config.poll_interval)
                except TimeoutError:
                    pass

    def _expire(self, cause: LedgerError) -> None:
        now = time.monotonic()
        for nonce, pending in list(self._pending.items()):
            if now >= pending.deadline:
                del self._pending[nonce]
                # The node may have lost it: learn the nonce afresh before the next send.
                self._nonce = None
                if not pending.future.done():
                    why = getattr(cause, "detail", cause)
                    pending.future.set_exception(
                        LedgerUnavailable(f"{pending.tx.type.value} {pending.tx_hash}: {why}")
                    )

    async def _resubmit_stale(self, oldest: _Pending) -> None:
        """Transactions the node no longer knows (dropped from its pool, or a node that
        restarted without its pool) are sent again, byte for byte, oldest nonce first."""
        if time.monotonic() - oldest.sent_at < self._config.resubmit_after:
            return
        waiting = [self._pending[n] for n in sorted(self._pending)]
        for pending in waiting:
            pending.sent_at = time.monotonic()
        try:
            known = await self._rpc.batch(
                [("eth_getTransactionByHash", [p.tx_hash]) for p in waiting]
            )
            lost = [p for p, k in zip(waiting, known, strict=True) if k is None]
            if not lost:
                return
            log.warning(
                "resubmitting %d dropped transaction(s) from nonce %d", len(lost), lost[0].nonce
            )
            answers = await self._rpc.batch(
                [("eth_sendRawTransaction", [_hex(p.raw)]) for p in lost]
            )
        except LedgerError:
            return  # still unreachable; the deadline decides
        for pending, answer in zip(lost, answers, strict=True):
            if not isinstance(answer, RpcError):
                continue
            mapped = map_rpc_error(answer, pending.tx.type.value)
            if isinstance(mapped, ConflictError) and pending.nonce in self._pending:
                try:
                    receipt = await self._rpc.call("eth_getTransactionReceipt", [pending.tx_hash])
                except LedgerError:
                    continue
                del self._pending[pending.nonce]
                if receipt is not None:  # mined since the last look
                    await self._settle(pending, receipt)
                    continue
                # Its nonce went to another transaction: this one can never be mined.
                self._nonce = None
                if not pending.future.done():
                    pending.future.set_exception(mapped)

    async def _settle(self, pending: _Pending, receipt: dict[str, Any]) -> None:
        future = pending.future
        try:
            if int(receipt["status"], 16) == 1:
                entry = self._entry_from_receipt(receipt)
            else:
                entry = await self._refusal(pending, receipt)
        except LedgerError as exc:
            if not future.done():
                future.set_exception(exc)
            return
        if not future.done():
            future.set_result(entry)

    def _entry_from_receipt(self, receipt: dict[str, Any]) -> LedgerEntry:
        for item in receipt.get("logs", []):
            topics = item.get("topics") or []
            if topics and bytes.fromhex(topics[0][2:]) == RECORDED_TOPIC:
                return entry_from_event(decode_recorded(item))
        raise LedgerUnavailable(f"receipt {receipt['transactionHash']} has no Recorded event")

    async def _refusal(self, pending: _Pending, receipt: dict[str, Any]) -> LedgerEntry:
        """Why the contract reverted: the same call replayed against the state the
        transaction saw. An already recorded transaction is a success (a retry)."""
        block = int(receipt["blockNumber"], 16)
        call = {"from": self._sender, "to": self.contract, "data": _hex(pending.data)}
        error: LedgerError | None = None
        for at in (hex(max(block - 1, 0)), "latest"):
            try:
                await self._rpc.call("eth_call", [call, at], raw=True)
            except RpcError as exc:
                error = map_rpc_error(exc, pending.tx.type.value)
                break
        if isinstance(error, AlreadyRecorded):
            return await self.get(error.seq)
        if error is None:
            gas_used = int(receipt.get("gasUsed", "0x0"), 16)
            error = InvalidTransaction(
                pending.tx.type.value,
                f"reverted on chain (gas used {gas_used}) and the replay did not say why",
            )
        raise error

    # ------------------------------------------------------------------ reading

    async def refresh(self) -> None:
        """Read new Recorded events into the entry list, a page of blocks at a time."""
        async with self._scan_lock:
            latest = int(await self._rpc.call("eth_blockNumber", []), 16)
            start = self._scanned_to + 1
            while start <= latest:
                end = min(start + self._config.log_page_blocks - 1, latest)
                logs = await self._rpc.call(
                    "eth_getLogs",
                    [
                        {
                            "address": self.contract,
                            "topics": [_hex(RECORDED_TOPIC)],
                            "fromBlock": hex(start),
                            "toBlock": hex(end),
                        }
                    ],
                )
                for item in logs:
                    if item.get("removed"):
                        continue
                    event = decode_recorded(item)
                    if event.seq != len(self._entries):
                        raise LedgerUnavailable(
                            f"event for seq {event.seq} where {len(self._entries)} was next"
                        )
                    self._entries.append(entry_from_event(event))
                    self._recorded_by.append((event.tx_hash, event.block_number))
                self._scanned_to = end
                start = end + 1

    async def get(self, seq: int) -> LedgerEntry:
        if seq < 0:
            raise EntryNotFound(seq)
        if seq >= len(self._entries):
            await self.refresh()
        if seq >= len(self._entries):
            raise EntryNotFound(seq)
        return self._entries[seq]

    async def anchor(self, seq: int) -> dict[str, Any]:
        """The chain transaction that recorded entry ``seq`` (see LedgerAdapter.anchor)."""
        await self.get(seq)
        tx_hash, block = self._recorded_by[seq]
        return {
            "kind": "evm",
            "contract": self.contract,
            "chainId": self.domain.chain_id,
            "transactionHash": tx_hash,
            "blockNumber": block,
        }

    async def entries(self, from_seq: int = 0) -> list[LedgerEntry]:
        await self.refresh()
        return self._entries[max(from_seq, 0) :]

    async def head(self) -> LedgerEntry | None:
        await self.refresh()
        return self._entries[-1] if self._entries else None

    async def count(self) -> int:
        """The contract's own count of entries."""
        return int.from_bytes(await self._view("count()"), "big")


class EvmLedger:
    """Synchronous LedgerAdapter over `AsyncEvmLedger`, for the server's worker threads.

    `client_factory` builds the `httpx.AsyncClient` on the adapter's own loop (tests inject
    one with a MockTransport or limits of their choosing).
    """

    def __init__(
        self,
        config: EvmConfig,
        client_factory: Callable[[], httpx.AsyncClient] | None = None,
        *,
        call_timeout: float | None = None,
    ) -> None:
        self._config = config
        self._timeout = call_timeout if call_timeout is not None else config.receipt_timeout + 15
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="evm-ledger", daemon=True
        )
        self._thread.start()
        factory = client_factory or (
            lambda: httpx.AsyncClient(
                timeout=httpx.Timeout(10.0, connect=3.0),
                limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
            )
        )

        async def build() -> tuple[httpx.AsyncClient, AsyncEvmLedger]:
            client = factory()
            return client, AsyncEvmLedger(client, config)

        self._client, self._core = self._run(build())
        try:
            self._run(self._core.start())
        except BaseException:
            self.close()
            raise

    def _run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        future: ThreadFuture[_T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(self._timeout)
        except TimeoutError as exc:
            future.cancel()
            raise LedgerUnavailable("the ledger node did not answer in time") from exc

    @property
    def core(self) -> AsyncEvmLedger:
        return self._core

    @property
    def domain(self) -> LedgerDomain:
        return self._core.domain

    @property
    def contract(self) -> str:
        return self._core.contract

    @property
    def from_block(self) -> int:
        return self._core.from_block

    def hash_entry(self, seq: int, tx: Transaction, prev_hash: bytes, recorded_at: str) -> bytes:
        """How this ledger chains entries (what the contract computes)."""
        return chained_entry_hash(self.domain, seq, tx, prev_hash, recorded_at)

    def anchor(self, seq: int) -> dict[str, Any]:
        return self._run(self._core.anchor(seq))

    def append(self, tx: Transaction, conn: Any = None) -> LedgerEntry:
        """Append and wait until mined. `conn` (the caller's database transaction) is not
        used: the chain cannot join it. The caller writes its rows after this returns and
        rolls them back if it raises, so nothing is half recorded."""
        del conn
        return self._run(self._core.append(tx))

    def append_many(self, txs: list[Transaction]) -> list[LedgerEntry]:
        return self._run(self._core.append_many(txs))

    def get(self, seq: int) -> LedgerEntry:
        return self._run(self._core.get(seq))

    def iterate(self, from_seq: int = 0) -> Iterator[LedgerEntry]:
        return iter(self._run(self._core.entries(from_seq)))

    def head(self) -> LedgerEntry | None:
        return self._run(self._core.head())

    def count(self) -> int:
        return self._run(self._core.count())

    def close(self) -> None:
        if not self._loop.is_running():
            return

        async def shutdown() -> None:
            core = getattr(self, "_core", None)
            if core is not None:
                await core.close()
            client = getattr(self, "_client", None)
            if client is not None:
                await client.aclose()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        except Exception:  # noqa: BLE001 - best effort on shutdown
            log.debug("evm ledger shutdown", exc_info=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
