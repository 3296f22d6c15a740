import copy
import hashlib
import json
import re
from pathlib import Path

import pytest

import panther.matching as matching
from panther.ledger.canonical import canonical_json
from panther.matching import DEFAULT_PROFILE, InvalidProfile, MatchProfile

DOC = Path(__file__).parents[3] / "docs" / "records-and-profiles.md"


def documented_profile():
    text = DOC.read_text()
    block = text.split("## Match profile", 1)[1]
    return json.loads(re.search(r"```json\n(.*?)```", block, re.S).group(1))


def test_default_profile_is_the_documented_one():
    assert DEFAULT_PROFILE.to_dict() == documented_profile()
    assert DEFAULT_PROFILE == MatchProfile.from_dict(documented_profile())


def test_profile_hash_is_sha256_of_canonical_json():
    expected = hashlib.sha256(canonical_json(documented_profile())).hexdigest()
    assert DEFAULT_PROFILE.profile_hash() == expected
    changed = copy.deepcopy(documented_profile())
    changed["version"] = 2
    assert MatchProfile.from_dict(changed).profile_hash() != expected


def test_round_trip_and_side_specific_fields():
    doc = {
        "name": "cross",
        "version": 3,
        "identifierRules": [
            {
                "name": "site+order",
                "supplier": [
                    {"field": "place[role=A-End].id", "normaliser": "text"},
                    {
                        "field": "id",
                        "normaliser": "identifier",
                        "params": {"stripPrefixes": ["CID"]},
                    },
                ],
                "customer": [
                    {"field": "place[role=A-End].id", "normaliser": "text"},
                    {"field": "externalId", "normaliser": "identifier"},
                ],
            }
        ],
        "comparedFields": [
            {"name": "mrc", "supplierField": "a.b", "customerField": "c", "comparator": "money"}
        ],
        "csvMapping": {},
    }
    profile = MatchProfile.from_dict(doc)
    assert profile.to_dict() == doc
    assert MatchProfile.from_dict(profile.to_dict()) == profile


def test_mirrored_swaps_sides():
    mirrored = DEFAULT_PROFILE.mirrored()
    first = DEFAULT_PROFILE.identifier_rules[0]
    assert mirrored.identifier_rules[0].supplier == first.customer
    assert mirrored.identifier_rules[0].customer == first.supplier
    assert mirrored.mirrored() == DEFAULT_PROFILE
    assert mirrored.profile_hash() != DEFAULT_PROFILE.profile_hash()


def problems_of(doc):
    with pytest.raises(InvalidProfile) as info:
        MatchProfile.from_dict(doc)
    return {(p.pointer, p.message) for p in info.value.problems}


def test_every_problem_is_reported_with_its_pointer():
    doc = documented_profile()
    doc["extra"] = 1
    doc["version"] = "1"
    doc["identifierRules"][0]["supplier"][0]["normaliser"] = "soundex"
    doc["identifierRules"][1]["customer"][0]["field"] = "productOrderItem[0"
    doc["identifierRules"][1]["name"] = "supplierCircuitId"
    doc["comparedFields"][1]["params"] = {"toleranceDays": "1"}
    doc["comparedFields"][2]["comparator"] = "fuzzy"
    doc["comparedFields"][5]["params"]["absolute"] = [0.01]
    doc["csvMapping"]["a/b"] = "x..y"
    pointers = {p for p, _ in problems_of(doc)}
    assert pointers == {
        "/extra",
        "/version",
        "/identifierRules/0/supplier/0/normaliser",
        "/identifierRules/1/customer/0/field",
        "/identifierRules/1/name",
        "/comparedFields/1/params",
        "/comparedFields/2/comparator",
        "/comparedFields/5/params",
        "/csvMapping/a~1b",
    }


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        (lambda d: d.pop("identifierRules"), ""),
        (lambda d: d.__setitem__("identifierRules", []), "/identifierRules"),
        (lambda d: d["identifierRules"][0]["customer"].append({"field": "id"}),
         "/identifierRules/0"),
        (lambda d: d["identifierRules"][0]["supplier"][0].__setitem__("normaliser", "money"),
         "/identifierRules/0/supplier/0/normaliser"),
        (lambda d: d["comparedFields"][0].__setitem__("supplierField", "x"), "/comparedFields/0"),
        (lambda d: d["comparedFields"][0].pop("field"), "/comparedFields/0"),
        (lambda d: d["comparedFields"].append(dict(d["comparedFields"][0])),
         "/comparedFields/8/name"),
        (lambda d: d["identifierRules"][0]["supplier"][0].__setitem__(
            "params", {"stripPrefixes": "CID"}), "/identifierRules/0/supplier/0/params"),
        (lambda d: d.__setitem__("name", " "), "/name"),
    ],
)  # fmt: skip
def test_single_problems(change, pointer):
    doc = documented_profile()
    change(doc)
    assert pointer in {p for p, _ in problems_of(doc)}


def test_not_an_object():
    assert problems_of([1]) == {("", "a profile must be a JSON object")}


def test_exported_names():
    assert set(matching.__all__) == {
        "DEFAULT_PROFILE",
        "ITEMS_SCHEMA",
        "ComparedField",
        "ExtractMismatch",
        "IdentifierRule",
        "InvalidProfile",
        "KeyComponent",
        "MatchProfile",
        "MatchResult",
        "ProfileProblem",
        "Side",
        "extract",
        "match",
        "match_records",
    }
