"""Parties (carriers and the operator), their API clients and their signing keys."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import jwt

from panther.ledger import eip712
from panther.ledger.transactions import Transaction, TxType

from ..representations.panther.parties import parse_registration, party_view
from .context import Caller
from .errors import Conflict, Forbidden, NotFound, Unauthorized
from .ports import Ports, Row, UnitOfWork

__all__ = [
    "CARRIER_SCOPES",
    "OPERATOR_SCOPES",
    "authenticate_client",
    "ensure_operator",
    "get_party",
    "issue_token",
    "list_parties",
    "read_token",
    "register_party",
]

CARRIER_SCOPES = (
    "inventory:read",
    "inventory:write",
    "match:read",
    "match:write",
    "relation:read",
    "relation:write",
    "ledger:read",
    "bill:read",
    "bill:write",
    "dispute:read",
    "dispute:write",
)
OPERATOR_SCOPES = (*CARRIER_SCOPES, "admin")
_JWT_ISSUER = "stone-panther"
_JWT_SECRET = "jwt"  # the server secret that signs access tokens


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_client(
    ports: Ports, uow: UnitOfWork, party_id: str, scopes: tuple[str, ...]
) -> dict[str, str]:
    client_id = f"{party_id}-{secrets.token_hex(4)}"
    client_secret = secrets.token_urlsafe(32)
    uow.parties.add_client(
        client_id=client_id,
        party_id=party_id,
        secret_hash=_secret_hash(client_secret),
        scopes=" ".join(scopes),
        created_at=ports.clock.now_iso(),
    )
    return {"clientId": client_id, "clientSecret": client_secret}


def _create_party(
    ports: Ports,
    uow: UnitOfWork,
    *,
    party_id: str,
    name: str,
    role: str,
    address: str | None,
    operator: Row | None,
) -> Row:
    key: bytes | None = None
    if address is None:
        key, address = eip712.new_key()
    custody = "custodial" if key is not None else "external"
    tx = Transaction(
        type=TxType.PartyRegistered,
        version=1,
        relation=None,
        payload={"partyId": party_id, "address": address, "name": name, "role": role},
        merkle_root=None,
        signers=(),
        signatures=(),
    )
    if operator is None:  # the operator registers itself: the ledger's first entry
        assert key is not None
        signer_key, signer_addr = key, address
    else:
        sealed = uow.parties.sealed_key(operator["id"])
        assert sealed is not None
        signer_key, signer_addr = ports.keystore.unseal(sealed), operator["address"]
    sig = eip712.sign(ports.domain, tx, signer_key)
    tx = replace(tx, signers=(signer_addr,), signatures=(sig,))
    row: Row = {
        "id": party_id,
        "name": name,
        "role": role,
        "address": address,
        "custody": custody,
        "created_at": ports.clock.now_iso(),
        "ledger_seq": None,
    }
    uow.parties.add(row)
    if key is not None:
        uow.parties.add_sealed_key(party_id, ports.keystore.seal(key))
    entry = uow.append(tx)
    uow.parties.set_ledger_seq(party_id, entry.seq)
    row["ledger_seq"] = entry.seq
    return row


def ensure_operator(ports: Ports) -> dict[str, str] | None:
    """Create the operator party and client at first start; write its credentials once."""
    with ports.uow.write() as uow:
        if uow.parties.operator() is not None:
            return None
        _create_party(
            ports,
            uow,
            party_id="operator",
            name="Stone Panther operator",
            role="operator",
            address=None,
            operator=None,
        )
        creds = _new_client(ports, uow, "operator", OPERATOR_SCOPES)
    path = Path(ports.settings.data_dir) / "operator-credentials.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(creds, indent=2) + "\n")
    path.chmod(0o600)
    return creds


def register_party(ports: Ports, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    if not caller.is_operator:
        raise Forbidden("only the operator registers parties")
    wanted = parse_registration(body)
    party_id = wanted.party_id or f"carrier-{secrets.token_hex(4)}"
    with ports.uow.write() as uow:
        if uow.parties.get(party_id):
            raise Conflict(f"party {party_id} exists")
        if wanted.address and uow.parties.by_address(wanted.address):
            raise Conflict(f"address {wanted.address} belongs to another party")
        row = _create_party(
            ports,
            uow,
            party_id=party_id,
            name=wanted.name,
            role="carrier",
            address=wanted.address,
            operator=uow.parties.get(caller.party_id),
        )
        creds = _new_client(ports, uow, party_id, CARRIER_SCOPES)
    return {**party_view(row, ports.settings.public_base_url), "credentials": creds}


def _viewer(caller: Caller) -> str | None:
    """Whose view of the parties the caller gets: the operator sees every party."""
    return None if caller.is_operator else caller.party_id


def list_parties(
    ports: Ports, caller: Caller, *, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of the parties the caller may see, oldest first, and how many there are."""
    with ports.uow.read() as uow:
        rows, total = uow.parties.list_visible(_viewer(caller), offset, limit)
    return [party_view(r, ports.settings.public_base_url) for r in rows], total


def get_party(ports: Ports, caller: Caller, party_id: str) -> dict[str, Any]:
    with ports.uow.read() as uow:
        row = uow.parties.get_visible(_viewer(caller), party_id)
    if row is None:
        raise NotFound(f"no party {party_id}")
    return party_view(row, ports.settings.public_base_url)


def _jwt_secret(ports: Ports) -> str:
    with ports.uow.read() as uow:
        value = uow.parties.secret(_JWT_SECRET)
    if value is not None:
        return value
    with ports.uow.write() as uow:
        value = uow.parties.secret(_JWT_SECRET)
        if value is not None:
            return value
        value = secrets.token_hex(32)
        uow.parties.add_secret(_JWT_SECRET, value)
        return value


def authenticate_client(ports: Ports, client_id: str, client_secret: str) -> Row:
    with ports.uow.read() as uow:
        row = uow.parties.client(client_id)
    if row is None or not hmac.compare_digest(row["secret_hash"], _secret_hash(client_secret)):
        raise Unauthorized("unknown client or wrong secret")
    return row


def issue_token(
    ports: Ports, client_id: str, client_secret: str, scope: str | None
) -> dict[str, Any]:
    client = authenticate_client(ports, client_id, client_secret)
    allowed = client["scopes"].split()
    granted = allowed if not scope else [s for s in scope.split() if s in allowed]
    if scope and len(granted) != len(scope.split()):
        raise Forbidden("invalid_scope")
    now = int(time.time())
    ttl = ports.settings.token_ttl_seconds
    claims = {
        "iss": _JWT_ISSUER,
        "sub": client["party_id"],
        "client_id": client_id,
        "scope": " ".join(granted),
        "iat": now,
        "exp": now + ttl,
    }
    token = jwt.encode(claims, _jwt_secret(ports), algorithm="HS256")
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": " ".join(granted),
    }


def read_token(ports: Ports, token: str) -> Caller:
    try:
        claims = jwt.decode(
            token,
            _jwt_secret(ports),
            algorithms=["HS256"],
            issuer=_JWT_ISSUER,
            options={"require": ["exp", "sub", "iss"]},
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"invalid token: {exc}") from exc
    scopes = frozenset(str(claims.get("scope", "")).split())
    return Caller(
        party_id=claims["sub"],
        client_id=str(claims.get("client_id", "")),
        scopes=scopes,
        is_operator="admin" in scopes,
    )
