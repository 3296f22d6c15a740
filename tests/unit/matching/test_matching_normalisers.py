from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panther.matching import normalisers
from panther.matching.normalisers import normalise, normalise_column


@pytest.mark.parametrize(
    "raw", ["CID-000123", "cid 123", "CID_000123", "c.i.d/0123", " CID123 ", "Cid\t000123"]
)
def test_identifier_spellings_become_one(raw):
    assert normalise("identifier", raw) == "CID123"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0", "0"),
        ("000", "0"),
        ("A00B00C", "A0B0C"),
        ("PO-2024-000123", "PO2024123"),
        ("100", "100"),
        ("X1000", "X1000"),
        (123, "123"),
        (12.0, "12"),
        ("", None),
        (" -- ", None),
        (None, None),
    ],
)
def test_identifier_edge_cases(raw, expected):
    assert normalise("identifier", raw) == expected


def test_identifier_strip_prefixes_after_canonicalisation():
    params = {"stripPrefixes": ["cid-", "CIDX"]}
    assert normalise("identifier", "CID-000123", params) == "123"
    assert normalise("identifier", "cidx 7", params) == "7"  # longest prefix first
    assert normalise("identifier", "ORD-5", params) == "ORD5"
    assert normalise("identifier", "CID", params) is None  # nothing left


def test_text():
    assert normalise("text", "  Frankfurt \n  KLEYERstrasse ") == "frankfurt kleyerstrasse"
    assert normalise("text", "Straße") == "strasse"
    assert normalise("text", "   ") is None
    assert normalise("text", 5) == "5"


@pytest.mark.parametrize(
    ("raw", "bps"),
    [
        ("10G", 10_000_000_000),
        ("10 Gbps", 10_000_000_000),
        ("10000 Mbps", 10_000_000_000),
        ("10GE", 10_000_000_000),
        ("10 GbE", 10_000_000_000),
        ("100M", 100_000_000),
        ("1.5 Gbit/s", 1_500_000_000),
        ("2 kbps", 2_000),
        ("1 Tbps", 10**12),
        (1000, 1000),
        ("2x10G", None),
        ("1.5 bps", None),
        ("fast", None),
        (True, None),
        (-5, None),
        (None, None),
    ],
)
def test_bandwidth(raw, bps):
    assert normalise("bandwidth", raw) == bps


def test_enum_default_status_vocabularies():
    assert normalise("enum", "created") == normalise("enum", "pendingActive")
    assert normalise("enum", "active.pendingChange") == normalise("enum", "active")
    assert normalise("enum", "aborted ") == normalise("enum", "aborted")
    assert normalise("enum", "aborted") == normalise("enum", "cancelled")
    assert normalise("enum", "pendingTerminate") != normalise("enum", "terminated")
    assert normalise("enum", "created", {"defaultMap": False}) == "created"


def test_enum_map_uses_normalised_keys_and_values():
    params = {"map": {"E-LINE": "EPL", "Ethernet  Private Line": "EPL"}}
    assert normalise("enum", "e-line", params) == normalise("enum", "EPL", params)
    assert normalise("enum", "ethernet private line", params) == "epl"
    assert normalise("enum", "EVPL", params) == "evpl"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-01", date(2024, 3, 1)),
        ("2024-03-01T00:00:00Z", date(2024, 3, 1)),
        # The day as written, in the date-time's own offset.
        ("2024-03-01T23:30:00-02:00", date(2024, 3, 1)),
        ("2024-03-01T00:30:00+02:00", date(2024, 3, 1)),
        ("2024\u201003\u201001", date(2024, 3, 1)),
        ("2024-02-30", None),
        ("yesterday", None),
        (20240301, None),
        (None, None),
    ],
)
def test_date(raw, expected):
    assert normalise("date", raw) == expected


def test_money_and_number():
    assert normalise("money", {"unit": "eur ", "value": 1250.0}) == ("EUR", Decimal("1250"))
    assert normalise("money", {"unit": "EUR", "value": "0.10"}) == ("EUR", Decimal("0.1"))
    assert normalise("money", {"unit": "EURO", "value": 1}) is None
    assert normalise("money", {"unit": "EUR", "value": "n/a"}) is None
    assert normalise("money", {"unit": "EUR", "value": True}) is None
    assert normalise("money", 12) is None
    assert normalise("number", 0.1) == Decimal("0.1")
    assert normalise("number", "1e3") == Decimal(1000)
    assert normalise("number", "NaN") is None
    assert normalise("number", 10**20) is None  # beyond the supported magnitude
    assert str(normalise("number", "-0")) == "0E-10"  # no negative zero


def test_exact_keeps_values():
    assert normalise("exact", "Active ") == "Active "
    assert normalise("exact", 1) == "1"
    assert normalise("exact", "  ") is None


def test_raw_json_and_decimal_text():
    assert normalisers.raw_json("a") == '"a"'
    assert normalisers.raw_json({"unit": "EUR", "value": 1.5}) == '{"unit":"EUR","value":1.5}'
    assert normalisers.raw_json(" ") is None
    assert normalisers.decimal_text(Decimal("12.5000000000")) == "12.5"
    assert normalisers.decimal_text(Decimal("100.0000")) == "100"
    assert normalisers.decimal_text(Decimal("0E-10")) == "0"


def test_registry():
    def shout(value, params):
        return None if value is None else str(value).upper() + "!"

    normalisers.register("shoutTest", shout, arrow_type=pa.string())
    try:
        assert normalise("shoutTest", "hi") == "HI!"
        assert normalise_column("shoutTest", ["a", None]).to_pylist() == ["A!", None]
        assert "shoutTest" in normalisers.names()
    finally:
        normalisers._REGISTRY.pop("shoutTest")
    with pytest.raises(normalisers.UnknownNormaliser) as info:
        normalisers.get("shoutTest")
    assert info.value.name == "shoutTest"


def test_param_checks():
    assert normalisers.get("identifier").check_params({"stripPrefixes": "CID"})
    assert normalisers.get("identifier").check_params({"stripPrefixes": ["--"]})
    assert normalisers.get("identifier").check_params({"other": 1})
    assert not normalisers.get("identifier").check_params({"stripPrefixes": ["CID"]})
    assert normalisers.get("enum").check_params({"map": {"a": 1}})
    assert normalisers.get("text").check_params({"x": 1})


_values = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.text(alphabet="0aA -_./\\\t\x1cß0123", max_size=12),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(["identifier", "text", "enum", "bandwidth", "date", "exact"]),
    values=st.lists(_values, max_size=20),
)
def test_column_equals_scalar(name, values):
    params = {"stripPrefixes": ["CID"]} if name == "identifier" else {}
    column = normalise_column(name, values, params).to_pylist()
    assert column == [normalise(name, v, params) for v in values]


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.text(alphabet="CIDcid0123 -_./\t", max_size=10), max_size=30))
def test_identifier_fast_path_equals_scalar(values):
    # ASCII-only string columns take the pyarrow.compute path.
    params = {"stripPrefixes": ["cid", "C"]}
    column = normalise_column("identifier", values, params).to_pylist()
    assert column == [normalise("identifier", v, params) for v in values]
    texts = normalise_column("text", values).to_pylist()
    assert texts == [normalise("text", v) for v in values]


def test_column_memoises_money_by_key():
    values = [{"unit": "EUR", "value": 1}, {"unit": "EUR", "value": 1}, None]
    keys = [normalisers.raw_json(v) for v in values]
    out = normalise_column("money", values, keys=keys).to_pylist()
    assert out[0] == out[1] == {"currency": "EUR", "value": Decimal(1)}
    assert out[2] is None
