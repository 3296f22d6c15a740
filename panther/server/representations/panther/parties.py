"""A party as /panther/v1 shows it, and the body that registers one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address

from panther.server.services.errors import InvalidInput

__all__ = ["PartyRegistration", "parse_registration", "party_view"]

_PARTY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


@dataclass(frozen=True)
class PartyRegistration:
    """A carrier to register; no ``party_id``: the server picks one; no ``address``: the
    server keeps a key for it (custodial)."""

    party_id: str | None
    name: str
    address: str | None


def parse_registration(body: dict[str, Any]) -> PartyRegistration:
    """The `POST /party` body; the address is returned checksummed (EIP-55)."""
    party_id = body.get("id") or None
    if party_id is not None and not _PARTY_ID.match(party_id):
        raise InvalidInput(
            "id: letters, digits, '.', '_' and '-' only, 64 at most",
            details=[{"pointer": "/id", "message": "invalid party id"}],
        )
    address = body.get("address")
    if address is not None:
        if not _ADDRESS.fullmatch(address):
            raise InvalidInput(
                "address must be a 20-byte hex address",
                details=[{"pointer": "/address", "message": "invalid address"}],
            )
        address = str(to_checksum_address(address))
    return PartyRegistration(party_id=party_id, name=body["name"], address=address)


def party_view(row: dict[str, Any], base_url: str) -> dict[str, Any]:
    return {
        "id": row["id"],
        "href": f"{base_url}/panther/v1/party/{row['id']}",
        "name": row["name"],
        "role": row["role"],
        "address": row["address"],
        "custody": row["custody"],
        "ledgerSeq": row["ledger_seq"],
        "createdAt": row["created_at"],
        "@type": "Party",
    }
