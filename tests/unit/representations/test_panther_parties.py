"""The /panther/v1 party: its JSON view and the registration body's checks."""

from __future__ import annotations

import pytest

from panther.server.representations.panther.parties import parse_registration, party_view
from panther.server.services.errors import InvalidInput

ROW = {
    "id": "dtgc",
    "name": "Deutsche Telekom Global Carrier",
    "role": "carrier",
    "address": "0x52908400098527886E0F7030069857D2E4169EE7",
    "custody": "external",
    "ledger_seq": 7,
    "created_at": "2026-11-01T00:00:00.000000Z",
}


def test_party_view_names_every_field_and_links_itself() -> None:
    assert party_view(ROW, "https://panther.example") == {
        "id": "dtgc",
        "href": "https://panther.example/panther/v1/party/dtgc",
        "name": "Deutsche Telekom Global Carrier",
        "role": "carrier",
        "address": "0x52908400098527886E0F7030069857D2E4169EE7",
        "custody": "external",
        "ledgerSeq": 7,
        "createdAt": "2026-11-01T00:00:00.000000Z",
        "@type": "Party",
    }


def test_registration_without_id_or_address_leaves_both_to_the_server() -> None:
    wanted = parse_registration({"name": "Colt", "id": ""})
    assert (wanted.party_id, wanted.name, wanted.address) == (None, "Colt", None)


def test_registration_checksums_the_address() -> None:
    wanted = parse_registration(
        {"name": "Colt", "id": "colt.1", "address": "0x52908400098527886e0f7030069857d2e4169ee7"}
    )
    assert wanted.party_id == "colt.1"
    assert wanted.address == "0x52908400098527886E0F7030069857D2E4169EE7"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"name": "x", "id": "-starts-with-a-dash"}, "/id"),
        ({"name": "x", "id": "a" * 65}, "/id"),
        ({"name": "x", "id": "has space"}, "/id"),
        ({"name": "x", "address": "0x1234"}, "/address"),
        ({"name": "x", "address": "52908400098527886E0F7030069857D2E4169EE7"}, "/address"),
    ],
)
def test_registration_refuses_bad_ids_and_addresses(body: dict[str, str], pointer: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_registration(body)
    assert info.value.status == 422
    assert [d["pointer"] for d in info.value.details] == [pointer]
