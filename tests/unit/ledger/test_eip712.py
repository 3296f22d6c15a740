"""EIP-712 digests, signatures and recovery."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from panther.ledger.eip712 import (
    LedgerDomain,
    address_of,
    digest,
    endorse,
    new_key,
    recover,
    sign,
    to_checksum,
    typed_data,
    verify,
)
from panther.ledger.errors import InvalidSignature, MalleableSignature
from panther.ledger.transactions import Transaction, TxType

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")


def _tx(relation: str | None = "rel-1", root: bytes | None = bytes(range(32))) -> Transaction:
    return Transaction(TxType.InventoryReported, 1, relation, {"asOf": "2024-06-30", "n": 3}, root)


def _eth_account_hash(domain: LedgerDomain, tx: Transaction) -> bytes:
    msg = encode_typed_data(full_message=typed_data(domain, tx))
    return keccak(b"\x19" + msg.version + msg.header + msg.body)


@pytest.mark.parametrize(
    "domain",
    [LedgerDomain(), LedgerDomain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")],
)
@pytest.mark.parametrize("relation", ["rel-1", None])
@pytest.mark.parametrize("root", [bytes(range(32)), None])
def test_digest_matches_eth_account(
    domain: LedgerDomain, relation: str | None, root: bytes | None
) -> None:
    tx = _tx(relation, root)
    assert digest(domain, tx) == _eth_account_hash(domain, tx)


def test_signature_matches_eth_account_and_recovers() -> None:
    domain, tx = LedgerDomain(), _tx()
    sig = sign(domain, tx, KEY)
    msg = encode_typed_data(full_message=typed_data(domain, tx))
    assert sig == bytes(Account.sign_message(msg, KEY).signature)
    address = Account.from_key(KEY).address
    assert address_of(KEY) == address
    assert Account.recover_message(msg, signature=sig) == address
    assert recover(domain, tx, sig) == address
    assert verify(domain, tx, sig, address)


def test_eth_keys_uses_coincurve() -> None:
    from eth_keys.backends import get_backend

    assert type(get_backend()).__name__ == "CoinCurveECCBackend"


def test_signature_binds_domain_and_content() -> None:
    key, address = new_key()
    tx = _tx()
    sig = sign(LedgerDomain(), tx, key)
    assert not verify(LedgerDomain(chain_id=1), tx, sig, address)
    other = Transaction(
        tx.type, tx.version, tx.relation, {"asOf": "2024-06-30", "n": 4}, tx.merkle_root
    )
    assert not verify(LedgerDomain(), other, sig, address)
    assert recover(LedgerDomain(), other, sig) != address


def test_high_s_is_refused() -> None:
    domain, tx = LedgerDomain(), _tx()
    sig = sign(domain, tx, KEY)
    s = int.from_bytes(sig[32:64], "big")
    assert s <= N // 2
    flipped = sig[:32] + (N - s).to_bytes(32, "big") + bytes([55 - sig[64]])
    with pytest.raises(MalleableSignature):
        recover(domain, tx, flipped)
    assert not verify(domain, tx, flipped, address_of(KEY))


@pytest.mark.parametrize("sig", [b"", b"\x00" * 65, b"\x01" * 64 + b"\x05", b"\xff" * 65, "x"])
def test_garbage_signatures(sig: bytes) -> None:
    with pytest.raises(InvalidSignature):
        recover(LedgerDomain(), _tx(), sig)
    assert verify(LedgerDomain(), _tx(), sig, address_of(KEY)) is False


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=20, max_size=20))
def test_checksum_matches_eth_utils(raw: bytes) -> None:
    from eth_utils import to_checksum_address

    assert to_checksum(raw) == to_checksum_address(raw)


def test_endorse_appends_signer() -> None:
    key, address = new_key()
    tx = endorse(LedgerDomain(), _tx(), key)
    assert tx.signers == (address,)
    assert verify(LedgerDomain(), tx, tx.signatures[0], address)


def test_arbitrary_valid_point_recovers_to_someone_else() -> None:
    sig = b"\x01" * 64 + b"\x1b"
    assert recover(LedgerDomain(), _tx(), sig) != address_of(KEY)
    assert not verify(LedgerDomain(), _tx(), sig, address_of(KEY))
