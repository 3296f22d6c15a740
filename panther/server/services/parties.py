"""Parties (carriers and the operator), their API clients and their signing keys."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import replace
from pathlib import Path
from typing import Any

import jwt
import sqlalchemy as sa

from panther.adapters.sql import repository as repo
from panther.ledger import eip712
from panther.ledger.transactions import Transaction, TxType

from .context import Caller, now_iso
from .errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from .ports import Ports, UnitOfWork

__all__ = [
    "CARRIER_SCOPES",
    "OPERATOR_SCOPES",
    "authenticate_client",
    "ensure_operator",
    "get_party",
    "issue_token",
    "list_parties",
    "party_view",
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
_PARTY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_JWT_ISSUER = "stone-panther"


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_client(uow: UnitOfWork, party_id: str, scopes: tuple[str, ...]) -> dict[str, str]:
    client_id = f"{party_id}-{secrets.token_hex(4)}"
    client_secret = secrets.token_urlsafe(32)
    repo.insert_row(
        uow.conn,
        repo.T.api_client,
        {
            "client_id": client_id,
            "party_id": party_id,
            "secret_hash": _secret_hash(client_secret),
            "scopes": " ".join(scopes),
            "created_at": now_iso(),
        },
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
    operator: dict[str, Any] | None,
) -> dict[str, Any]:
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
        sealed = repo.get_row(uow.conn, repo.T.custodial_key, party_id=operator["id"])
        assert sealed is not None
        signer_key, signer_addr = ports.keystore.unseal(sealed["sealed_key"]), operator["address"]
    sig = eip712.sign(ports.domain, tx, signer_key)
    tx = replace(tx, signers=(signer_addr,), signatures=(sig,))
    row = {
        "id": party_id,
        "name": name,
        "role": role,
        "address": address,
        "custody": custody,
        "created_at": now_iso(),
        "ledger_seq": None,
    }
    repo.insert_row(uow.conn, repo.T.party, row)
    if key is not None:
        repo.insert_row(
            uow.conn,
            repo.T.custodial_key,
            {"party_id": party_id, "sealed_key": ports.keystore.seal(key)},
        )
    entry = uow.append(tx)
    repo.update_row(uow.conn, repo.T.party, {"id": party_id}, {"ledger_seq": entry.seq})
    row["ledger_seq"] = entry.seq
    return row


def ensure_operator(ports: Ports) -> dict[str, str] | None:
    """Create the operator party and client at first start; write its credentials once."""
    with ports.uow.write() as uow:
        existing = repo.list_rows(uow.conn, repo.T.party, [repo.T.party.c.role == "operator"])
        if existing:
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
        creds = _new_client(uow, "operator", OPERATOR_SCOPES)
    path = Path(ports.settings.data_dir) / "operator-credentials.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(creds, indent=2) + "\n")
    path.chmod(0o600)
    return creds


def party_view(row: dict[str, Any], base: str) -> dict[str, Any]:
    return {
        "id": row["id"],
        "href": f"{base}/panther/v1/party/{row['id']}",
        "name": row["name"],
        "role": row["role"],
        "address": row["address"],
        "custody": row["custody"],
        "ledgerSeq": row["ledger_seq"],
        "createdAt": row["created_at"],
        "@type": "Party",
    }


def register_party(ports: Ports, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    if not caller.is_operator:
        raise Forbidden("only the operator registers parties")
    party_id = body.get("id") or f"carrier-{secrets.token_hex(4)}"
    if not _PARTY_ID.match(party_id):
        raise InvalidInput(
            "id: letters, digits, '.', '_' and '-' only, 64 at most",
            details=[{"pointer": "/id", "message": "invalid party id"}],
        )
    address = body.get("address")
    if address is not None and not re.fullmatch(r"0x[0-9a-fA-F]{40}", address):
        raise InvalidInput(
            "address must be a 20-byte hex address",
            details=[{"pointer": "/address", "message": "invalid address"}],
        )
    if address is not None:
        from eth_utils import to_checksum_address

        address = to_checksum_address(address)
    with ports.uow.write() as uow:
        if repo.get_row(uow.conn, repo.T.party, id=party_id):
            raise Conflict(f"party {party_id} exists")
        if address and repo.get_row(uow.conn, repo.T.party, address=address):
            raise Conflict(f"address {address} belongs to another party")
        operator = repo.get_row(uow.conn, repo.T.party, id=caller.party_id)
        row = _create_party(
            ports,
            uow,
            party_id=party_id,
            name=body["name"],
            role="carrier",
            address=address,
            operator=operator,
        )
        creds = _new_client(uow, party_id, CARRIER_SCOPES)
    return {**party_view(row, ports.settings.public_base_url), "credentials": creds}


def _visible_party_ids(uow: UnitOfWork, caller: Caller) -> set[str] | None:
    if caller.is_operator:
        return None
    rel = repo.T.relation
    rows = uow.conn.execute(
        sa.select(rel.c.supplier_id, rel.c.customer_id).where(
            sa.or_(rel.c.supplier_id == caller.party_id, rel.c.customer_id == caller.party_id)
        )
    )
    seen = {caller.party_id, "operator"}
    for s, c in rows:
        seen.update((s, c))
    return seen


def list_parties(ports: Ports, caller: Caller) -> list[dict[str, Any]]:
    with ports.uow.read() as uow:
        visible = _visible_party_ids(uow, caller)
        rows = repo.list_rows(uow.conn, repo.T.party, order_by=[repo.T.party.c.created_at])
    return [
        party_view(r, ports.settings.public_base_url)
        for r in rows
        if visible is None or r["id"] in visible
    ]


def get_party(ports: Ports, caller: Caller, party_id: str) -> dict[str, Any]:
    with ports.uow.read() as uow:
        visible = _visible_party_ids(uow, caller)
        row = repo.get_row(uow.conn, repo.T.party, id=party_id)
    if row is None or (visible is not None and party_id not in visible):
        raise NotFound(f"no party {party_id}")
    return party_view(row, ports.settings.public_base_url)


def _jwt_secret(ports: Ports) -> str:
    with ports.uow.read() as uow:
        row = repo.get_row(uow.conn, repo.T.server_secret, name="jwt")
    if row:
        return str(row["value"])
    with ports.uow.write() as uow:
        row = repo.get_row(uow.conn, repo.T.server_secret, name="jwt")
        if row:
            return str(row["value"])
        value = secrets.token_hex(32)
        repo.insert_row(uow.conn, repo.T.server_secret, {"name": "jwt", "value": value})
        return value


def authenticate_client(ports: Ports, client_id: str, client_secret: str) -> dict[str, Any]:
    with ports.uow.read() as uow:
        row = repo.get_row(uow.conn, repo.T.api_client, client_id=client_id)
    if row is None or not hmac.compare_digest(row["secret_hash"], _secret_hash(client_secret)):
        raise Unauthorized("unknown client or wrong secret")
    return row


def issue_token(
    ports: Ports, client_id: str, client_secret: str, scope: str | None
) -> dict[str, Any]:
    import time

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
