"""The /panther/v1 relation: its JSON view and the proposal's match profile."""

from __future__ import annotations

import json

import pytest

from panther.matching.profile import DEFAULT_PROFILE
from panther.server.representations.panther.relations import match_profile, relation_view
from panther.server.services.errors import InvalidInput

ROW = {
    "id": "rel-1",
    "supplier_id": "dtgc",
    "customer_id": "vodafone",
    "state": "agreed",
    "profile": json.dumps({"b": 1}),
    "profile_hash": "ab" * 32,
    "terms": json.dumps({"currency": "EUR"}),
    "proposed_by": "operator",
    "ledger_seq": 3,
    "created_at": "2026-11-01T00:00:00.000000Z",
}


def test_relation_view_shows_sides_stored_json_and_who_agreed() -> None:
    view = relation_view(
        ROW,
        [{"party_id": "vodafone"}, {"party_id": "dtgc"}],
        base_url="https://panther.example",
        endorsement_digest=bytes.fromhex("01ff"),
    )
    assert view == {
        "id": "rel-1",
        "href": "https://panther.example/panther/v1/relation/rel-1",
        "@type": "Relation",
        "supplier": "dtgc",
        "customer": "vodafone",
        "state": "agreed",
        "profile": {"b": 1},
        "profileHash": "ab" * 32,
        "terms": {"currency": "EUR"},
        "proposedBy": "operator",
        "agreedBy": ["dtgc", "vodafone"],
        "ledgerSeq": 3,
        "createdAt": "2026-11-01T00:00:00.000000Z",
        "endorsementDigest": "0x01ff",
    }


def test_no_profile_is_the_default_profile() -> None:
    assert match_profile(None) is DEFAULT_PROFILE
    assert match_profile({}) is DEFAULT_PROFILE


def test_a_given_profile_is_parsed() -> None:
    document = DEFAULT_PROFILE.to_dict()
    assert match_profile(document).profile_hash() == DEFAULT_PROFILE.profile_hash()


def test_a_bad_profile_points_into_the_body() -> None:
    with pytest.raises(InvalidInput) as info:
        match_profile({"key": "not a list"})
    assert info.value.status == 422
    assert info.value.details
    assert all(d["pointer"].startswith("/profile") for d in info.value.details)
