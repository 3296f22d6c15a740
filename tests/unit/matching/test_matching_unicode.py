"""Unicode folding, enum separators, dates as written, numeric tolerances, the broadened
default aliases and code points in explanations (issue 11)."""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal

import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panther.ledger.canonical import canonical_json
from panther.matching import DEFAULT_PROFILE, MatchProfile, comparators, normalisers
from panther.matching.explain import code_points, explain, format_explanation
from panther.matching.fastpath import extract_json
from panther.matching.normalisers import DASHES, fold_unicode, normalise, normalise_column
from panther.matching.reference import key_text

ALL_DASHES = "-" + DASHES
# Spaces a carrier's export may carry: NBSP, en/em/thin/figure spaces, narrow NBSP,
# ideographic space, Ogham space mark, line and paragraph separators.
SPACES = " \u00a0\u2002\u2003\u2007\u2009\u202f\u205f\u3000\u1680\u2028\u2029"
# Format characters that do not show: zero-width space, ZWNJ, ZWJ, word joiner, BOM,
# soft hyphen, left-to-right mark.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e"


def full_width(text: str) -> str:
    """The full-width form of every printable ASCII character but the space."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def test_the_issue_examples_are_one_key():
    plain = normalise("identifier", "CID-000123")
    assert plain == "CID123"
    assert normalise("identifier", "CID\u2010000123") == plain
    assert normalise("identifier", full_width("CID-000123")) == plain
    assert (
        full_width("CID-000123") == "\uff23\uff29\uff24\uff0d\uff10\uff10\uff10\uff11\uff12\uff13"
    )


def test_every_dash_is_folded_and_documented_as_pd_or_minus():
    for dash in DASHES:
        assert fold_unicode(f"a{dash}b") == "a-b", f"U+{ord(dash):04X}"
        assert unicodedata.category(dash) == "Pd" or dash == "\u2212"
    # Superscript and subscript minus reach U+2212 through NFKC, then "-".
    assert fold_unicode("a\u207bb\u208bc") == "a-b-c"


def test_spaces_and_format_characters():
    for space in SPACES:
        assert fold_unicode(f"a{space}b") == "a b", f"U+{ord(space):04X}"
    for char in INVISIBLE:
        assert fold_unicode(f"CID{char}123") == "CID123", f"U+{ord(char):04X}"
    # NFKC composes what a removed format character separated.
    assert fold_unicode("e\u200b\u0301") == "\u00e9"
    assert normalise("text", "Frankfurt\u00a0\u00a0Main\u200b") == "frankfurt main"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_folding_is_idempotent_and_keeps_ascii(text):
    once = fold_unicode(text)
    assert fold_unicode(once) == once
    if text.isascii():
        assert once is text


identifier_parts = st.lists(
    st.text(alphabet="ABCXYZabcxyz0123456789", min_size=1, max_size=6), min_size=1, max_size=4
)


@settings(max_examples=300, deadline=None)
@given(identifier_parts, st.data())
def test_every_dash_and_full_width_form_of_an_identifier_is_one_key(parts, data):
    plain = normalise("identifier", "-".join(parts))
    dashes = [data.draw(st.sampled_from(ALL_DASHES)) for _ in parts[1:]]
    written = parts[0] + "".join(d + p for d, p in zip(dashes, parts[1:], strict=True))
    assert normalise("identifier", written) == plain
    assert normalise("identifier", full_width(written)) == plain
    spaced = data.draw(st.sampled_from(SPACES)).join(parts)
    assert normalise("identifier", spaced) == plain
    # An invisible character is removed, not a separator: the text reads as written.
    hidden = data.draw(st.sampled_from(INVISIBLE)).join(parts)
    assert normalise("identifier", hidden) == normalise("identifier", "".join(parts))
    prefixed = {"stripPrefixes": [full_width("CID") + "\u2011"]}
    assert normalise("identifier", "CID-" + written, prefixed) == plain


@pytest.mark.parametrize(
    "raw",
    [
        "ethernet-private-line",
        "Ethernet Private Line",
        "ETHERNET_PRIVATE_LINE",
        "ethernet\u2013private\u00a0line",
        "\uff25\uff54\uff48\uff45\uff52\uff4e\uff45\uff54 Private-Line",
        " Ethernet  private__line ",
    ],
)
def test_enum_folds_separators(raw):
    assert normalise("enum", raw, {"defaultMap": False}) == "ethernetprivateline"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(alphabet="abcdefXYZ09", min_size=1, max_size=5), min_size=1, max_size=4),
    st.data(),
)
def test_enum_separator_folding_property(words, data):
    separators = st.text(alphabet="-_ \t\u00a0\u2010\u2014\u3000", min_size=1, max_size=3)
    joined = words[0]
    for word in words[1:]:
        joined += data.draw(separators) + word
    cased = "".join(data.draw(st.sampled_from([c.lower(), c.upper()])) for c in joined)
    assert normalise("enum", cased, {"defaultMap": False}) == "".join(words).lower()


def test_enum_map_keys_fold_alike_and_status_words():
    params = {"map": {"Ethernet Private Line": "E-P-L"}}
    assert normalise("enum", "ETHERNET_PRIVATE-LINE", params) == "epl"
    assert normalise("enum", "pending_active") == normalise("enum", "pendingActive")
    assert normalise("enum", "Pending Terminate") == "pendingterminate"
    assert normalise("enum", "active.pendingChange") == "active"


def _service_type(rule_side: str) -> dict[str, object]:
    rule = DEFAULT_PROFILE.identifier_rules[2]
    component = next(c for c in getattr(rule, rule_side) if c.normaliser == "enum")
    return dict(component.params)


@pytest.mark.parametrize(
    ("spellings", "canonical"),
    [
        (["EPL", "E-Line", "Ethernet Private Line", "ethernet-private-line", "EPL service"], "epl"),
        (
            ["EVPL", "E-VPL", "EVP-Line", "Ethernet Virtual Private Line", "evpl_service"],
            "evpl",
        ),
        (["IPT", "IP Transit", "ip-transit", "Internet Transit"], "ipt"),
        (
            ["Wavelength", "wave", "wavelength service", "Managed Wavelength", "Lambda"],
            "wavelength",
        ),
    ],
)
def test_default_aliases(spellings, canonical):
    field = next(f for f in DEFAULT_PROFILE.compared_fields if f.name == "serviceType")
    for params in (_service_type("supplier"), _service_type("customer"), field.normaliser_params):
        assert {normalise("enum", s, params) for s in spellings} == {canonical}


# -- the vectorised paths give the normalisers' keys ------------------------------------

unicode_text = st.one_of(
    st.text(max_size=12),
    st.text(alphabet="CIDcid0123 -_./" + ALL_DASHES + SPACES + INVISIBLE, max_size=12),
    identifier_parts.map(lambda p: full_width("\u2010".join(p))),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), unicode_text), max_size=25))
def test_columns_equal_the_scalar_normalisers_on_unicode_text(values):
    for name, params in (
        ("identifier", {"stripPrefixes": ["CID", "\uff38"]}),
        ("text", {}),
        ("enum", {"map": {"c-i-d": "x"}}),
    ):
        column = normalise_column(name, values, params).to_pylist()
        assert column == [normalise(name, v, params) for v in values], name


KEYS_PROFILE = MatchProfile.from_dict(
    {
        "name": "unicode",
        "version": 1,
        "identifierRules": [
            {"name": "id", "supplier": [{"field": "id"}], "customer": [{"field": "id"}]},
            {
                "name": "site",
                "supplier": [{"field": "site", "normaliser": "text"}],
                "customer": [{"field": "site", "normaliser": "text"}],
            },
            {
                "name": "kind",
                "supplier": [{"field": "kind", "normaliser": "enum"}],
                "customer": [{"field": "kind", "normaliser": "enum"}],
            },
        ],
        "comparedFields": [
            {"name": "site", "field": "site", "comparator": "normalisedText"},
            {"name": "kind", "field": "kind", "comparator": "enum"},
            {"name": "day", "field": "day", "comparator": "date", "params": {"day": "utc"}},
        ],
    }
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {"id": unicode_text, "site": unicode_text, "kind": unicode_text},
            optional={
                "day": st.sampled_from(
                    ["2020-01-01T00:30:00+02:00", "2020\u201001\u201001", "2020-01-01"]
                )
            },
        ),
        min_size=1,
        max_size=8,
    )
)
def test_fast_path_keys_equal_the_normalisers(records):
    bodies = pa.array([canonical_json(r).decode() for r in records], pa.string())
    table = extract_json(bodies, KEYS_PROFILE, "supplier")
    decoded = [orjson.loads(b) for b in bodies.to_pylist()]
    for r, (field, name) in enumerate((("id", "identifier"), ("site", "text"), ("kind", "enum"))):
        expected = [key_text(normalise(name, d.get(field))) for d in decoded]
        assert table.column(f"key{r}").to_pylist() == expected, field
    days = [normalise("date", d.get("day"), {"day": "utc"}) for d in decoded]
    assert table.column("f2").to_pylist() == days


# -- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "as_written", "utc"),
    [
        ("2020-01-01T00:30:00+02:00", date(2020, 1, 1), date(2019, 12, 31)),
        ("2020-01-01T23:30:00-02:00", date(2020, 1, 1), date(2020, 1, 2)),
        ("2020-01-01T12:00:00Z", date(2020, 1, 1), date(2020, 1, 1)),
        ("2020-01-01T23:59:59", date(2020, 1, 1), date(2020, 1, 1)),  # no offset: as written
        ("2020-01-01", date(2020, 1, 1), date(2020, 1, 1)),
        ("\uff12\uff10\uff12\uff10-01-01", date(2020, 1, 1), date(2020, 1, 1)),
    ],
)
def test_date_day_rule(raw, as_written, utc):
    assert normalise("date", raw) == as_written
    assert normalise("date", raw, {"day": "as-written"}) == as_written
    assert normalise("date", raw, {"day": "utc"}) == utc


def test_date_day_rule_is_a_field_setting():
    def profile(params):
        return MatchProfile.from_dict(
            {
                "name": "d",
                "version": 1,
                "identifierRules": [
                    {"name": "id", "supplier": [{"field": "id"}], "customer": [{"field": "id"}]}
                ],
                "comparedFields": [
                    {"name": "start", "field": "startDate", "comparator": "date", "params": params}
                ],
            }
        )

    assert profile({"day": "utc"}).compared_fields[0].normaliser_params == {"day": "utc"}
    assert profile({"toleranceDays": 1}).compared_fields[0].normaliser_params == {}
    assert comparators.get("date").check_params({"day": "local"})
    assert not comparators.get("date").check_params({"day": "as-written", "toleranceDays": 0})
    assert normalisers.get("date").check_params({"day": "UTC"})
    assert not normalisers.get("date").check_params({"day": "utc"})


# -- tolerances --------------------------------------------------------------------------


def test_decimal_param_reads_numbers_exactly():
    assert normalisers.decimal_param(0.005) == Decimal("0.005")
    assert normalisers.decimal_param(0.1) == Decimal("0.1")  # not 0.1000000000000000055...
    assert normalisers.decimal_param(1) == Decimal(1)
    assert normalisers.decimal_param("0.01") == Decimal("0.01")
    assert normalisers.decimal_param(True) is None
    assert normalisers.decimal_param("abc") is None
    assert normalisers.decimal_param([1]) is None


def test_tolerances_as_numbers_parse_and_compare():
    check = comparators.get("money").check_params
    assert not check({"absolute": 0.01, "relative": 0.005})
    assert not check({"absolute": 1, "relative": "0.005"})
    assert not check({"currency": "EUR", "rates": {"USD": 0.92}, "taxRate": 0.19})
    assert check({"relative": 1e-11})
    assert check({"absolute": -0.01})


def test_profile_accepts_number_tolerances_and_hashes_them_as_written():
    doc = DEFAULT_PROFILE.to_dict()
    field = next(f for f in doc["comparedFields"] if f["name"] == "recurringCharge")
    field["params"] = {"absolute": 0.01, "relative": 0.005}
    profile = MatchProfile.from_dict(doc)
    assert profile.to_dict() == doc
    assert profile.profile_hash() != DEFAULT_PROFILE.profile_hash()


def eur(value):
    return {"unit": "EUR", "value": value}


@pytest.mark.parametrize(
    "params",
    [{"absolute": 0.01, "relative": 0.005}, {"absolute": "0.01", "relative": "0.005"}],
)
def test_relative_money_tolerance(params):
    from tests.unit.matching.test_matching_comparators import verdicts

    pairs = [
        (eur(1000), eur("1005")),  # 0.5 % of 1005: within
        (eur(1000), eur("1005.03")),  # 5.03 > 0.005 * 1005.03 = 5.025: beyond
        (eur(1), eur("1.01")),  # the absolute tolerance
        (eur(1), eur("1.02")),
        (eur(1000), {"unit": "USD", "value": 1000}),  # a currency difference always differs
    ]
    assert verdicts("money", params, pairs) == [True, False, True, False, False]


def test_rates_and_tax_rate_as_numbers_convert_like_strings():
    as_numbers = {"currency": "EUR", "rates": {"USD": 0.92}, "taxRate": 0.19}
    as_strings = {"currency": "EUR", "rates": {"USD": "0.92"}, "taxRate": "0.19"}
    for value in ({"unit": "USD", "value": 100}, {"taxIncludedAmount": eur(119)}):
        assert normalise("money", value, as_numbers) == normalise("money", value, as_strings)
    assert normalise("money", {"unit": "usd", "value": "\u2212100"}, as_numbers) == (
        "EUR",
        Decimal("-92.0000000000"),
    )


# -- explanations ------------------------------------------------------------------------


def test_code_points_of_values():
    assert code_points("CID-000123") == []
    assert code_points(None) == []
    assert code_points("CID\u2010000123") == [{"index": 3, "codePoint": "U+2010", "name": "HYPHEN"}]
    assert code_points("a\u200bb") == [
        {"index": 1, "codePoint": "U+200B", "name": "ZERO WIDTH SPACE"}
    ]
    assert code_points("x\ty") == [{"index": 1, "codePoint": "U+0009", "name": "<Cc>"}]
    assert code_points({"unit": "EUR", "value": "1\u00a0000"})[0]["codePoint"] == "U+00A0"


def _record(site_a: str) -> dict[str, object]:
    return {
        "id": "P1",
        "externalId": "CID-1",
        "status": "active",
        "place": [{"role": "A-End", "id": site_a}, {"role": "B-End", "id": "PAR1"}],
    }


ITEM = {
    "class": "partial",
    "reason": None,
    "rule": "supplierCircuitId",
    "supplierRefs": [0],
    "customerRefs": [0],
}


def test_explanation_shows_code_points_of_look_alike_differences():
    # A Cyrillic small a (U+0430) looks like the Latin a: the values look the same.
    explanation = explain(DEFAULT_PROFILE, [_record("FRA1")], [_record("FR\u04101")], ITEM)
    site = next(f for f in explanation["fields"] if f["name"] == "siteA")
    assert site["verdict"] == "differ"
    assert site["supplierCodePoints"] == []
    assert site["customerCodePoints"] == [
        {"index": 2, "codePoint": "U+0410", "name": "CYRILLIC CAPITAL LETTER A"}
    ]
    assert "siteA (customer U+0410)" in explanation["summary"]
    text = format_explanation(explanation)
    assert "U+0410 CYRILLIC CAPITAL LETTER A at 2" in text


def test_explanation_leaves_plain_and_folded_values_alone():
    # An ASCII difference needs no code points; a U+2010 hyphen is folded, so agrees.
    plain = explain(DEFAULT_PROFILE, [_record("FRA1")], [_record("FRA2")], ITEM)
    site = next(f for f in plain["fields"] if f["name"] == "siteA")
    assert site["verdict"] == "differ" and "supplierCodePoints" not in site
    folded = explain(DEFAULT_PROFILE, [_record("FRA-1")], [_record("FRA\u20101")], ITEM)
    site = next(f for f in folded["fields"] if f["name"] == "siteA")
    assert site["verdict"] == "agree" and "customerCodePoints" not in site


def test_explanation_of_a_missing_record_shows_its_key_code_points():
    record = _record("FRA1") | {"id": "CID\u2011X\u200b"}
    item = {
        "class": "mismatch",
        "reason": "missingAtCustomer",
        "rule": None,
        "supplierRefs": [0],
        "customerRefs": [],
    }
    explanation = explain(DEFAULT_PROFILE, [record], [], item)
    component = explanation["records"][0]["keys"][0]["components"][0]
    assert [p["codePoint"] for p in component["codePoints"]] == ["U+2011", "U+200B"]
    assert "U+2011 NON-BREAKING HYPHEN at 3" in format_explanation(explanation)
