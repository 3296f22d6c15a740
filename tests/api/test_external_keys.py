"""Parties that keep their own keys: they sign the digest the API shows, the server checks it."""

from __future__ import annotations

import secrets
from typing import Any

from eth_account import Account

from panther.server.services.ports import Ports

from .world import Actor, operator_actor, token_for


async def _external_carrier(http: Any, operator: Actor, name: str) -> tuple[Actor, Any]:
    account = Account.create()
    r = await operator.post(
        "/panther/v1/party",
        {"name": name, "address": account.address, "id": f"{name}-{secrets.token_hex(4)}"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["custody"] == "external" and body["address"] == account.address
    token = await token_for(
        http, body["credentials"]["clientId"], body["credentials"]["clientSecret"]
    )
    return Actor(http, body["id"], token, body["address"]), account


def _sign(account: Any, digest_hex: str) -> str:
    signed = Account.unsafe_sign_hash(bytes.fromhex(digest_hex[2:]), account.key)
    return "0x" + bytes(signed.signature).hex()


async def test_external_parties_agree_with_their_own_signatures(http: Any, ports: Ports) -> None:
    operator = await operator_actor(http, ports)
    sup, sup_key = await _external_carrier(http, operator, "pccw")
    cus, cus_key = await _external_carrier(http, operator, "colt")
    rel = (
        await operator.post(
            "/panther/v1/relation", {"supplier": sup.party_id, "customer": cus.party_id}
        )
    ).json()
    path = f"/panther/v1/relation/{rel['id']}/agreement"

    r = await sup.post(path, {})
    assert r.status_code == 400 and rel["endorsementDigest"][2:] in r.json()["message"]

    r = await sup.post(path, {"signature": _sign(cus_key, rel["endorsementDigest"])})
    assert r.status_code == 422  # the customer's key is not the supplier's

    r = await sup.post(path, {"signature": _sign(sup_key, rel["endorsementDigest"])})
    assert r.status_code == 200 and r.json()["agreedBy"] == [sup.party_id]
    r = await cus.post(path, {"signature": _sign(cus_key, rel["endorsementDigest"])})
    agreed = r.json()
    assert agreed["state"] == "agreed"
    entry = (await cus.get(f"/panther/v1/ledger/entry/{agreed['ledgerSeq']}")).json()
    assert entry["signers"] == [sup_key.address, cus_key.address]
    assert (await operator.post("/panther/v1/ledger/verification")).json()["ok"]
