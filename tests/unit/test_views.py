"""The API views of product records: mapping rules, and validity against the official schemas."""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.fixtures import official_schemas  # noqa: F401  (pytest fixture)
from conformance.official import (
    validate_against_document,
    validate_mef116_product,
    validate_mef116_product_list_item,
    validate_tmf637_product,
)
from panther.inventory.tmf637_schema import PRODUCT_SCHEMAS
from panther.inventory.views import (
    MEF116_STATUSES,
    PANTHER_CONFIGURATION_TYPE,
    TMF637_STATUSES,
    MissingStartDate,
    UnmappableStatus,
    mef116_status,
    select_fields,
    tmf637_status,
    to_mef116_product,
    to_mef116_product_list_item,
    to_tmf637_product,
)
from tests.samples import documented_record

OPENAPI = Path(__file__).resolve().parents[2] / "openapi"
TMF_DOC = OPENAPI / "tmf637-product-inventory-v4.yaml"
MEF_DOC = OPENAPI / "mef116-product-inventory-v7.yaml"

TMF_HREF = "/tmf-api/productInventory/v4/product/CID-000123"
MEF_HREF = "/mefApi/sonata/productInventory/v7/product/CID-000123"
PARTIES = [
    {"id": "carrier-a", "name": "Carrier A", "role": "supplier"},
    {"id": "carrier-b", "name": "Carrier B", "role": "customer"},
]


def sample_record() -> dict[str, Any]:
    """The record of docs/records-and-profiles.md."""
    return documented_record()


def awkward_record() -> dict[str, Any]:
    """A realistic bulk-upload record: plain dates, MEF 81 status, loose price vocabulary."""
    return {
        "id": "LON-FRA-0042",
        "externalId": None,
        "status": "SUSPENDED_PENDING_TERMINATE",
        "startDate": "2023-11-15",
        "terminationDate": "2025-01-31",
        "place": [
            {"role": "A-End", "id": "LON3"},
            {"role": "B-End", "name": "Customer premises, no site id yet"},
        ],
        "productPrice": [
            {
                "priceType": "MRC",
                "recurringChargePeriod": "Monthly",
                "price": {
                    "dutyFreeAmount": {"unit": "GBP", "value": Decimal("899.50")},
                    "taxIncludedAmount": {"unit": "GBP", "value": Decimal("1079.40")},
                    "taxRate": 20,
                },
            },
            {"priceType": "one-time", "price": {"dutyFreeAmount": {"unit": "GBP", "value": 0}}},
            {"priceType": "discount", "price": {"percentage": 10}},
        ],
        "productTerm": [
            {"name": "initial", "duration": {"amount": 2, "units": "years"}},
            {"name": "notice", "duration": {"amount": 1.5, "units": "months"}},
        ],
        "productOrderItem": [{"productOrderId": "PO-9", "orderItemId": "3", "role": "install"}],
        "productRelationship": [
            {"relationshipType": "reliesOn", "product": {"id": "ENNI-7", "href": "/x/ENNI-7"}}
        ],
        "productCharacteristic": [{"name": "bandwidth", "value": 1000, "valueType": "integer"}],
        "billingAccount": {"id": "BA-1", "name": "Wholesale"},
    }


RECORDS = [sample_record, awkward_record]


# ---------------------------------------------------------------- official schemas


@pytest.mark.parametrize("make", RECORDS)
@pytest.mark.usefixtures("official_schemas")
def test_tmf637_view_is_an_official_product(make: Any) -> None:
    product = to_tmf637_product(make(), href=TMF_HREF, related_parties=PARTIES)
    validate_tmf637_product(product)
    validate_against_document(TMF_DOC, "Product", product)


@pytest.mark.parametrize("make", RECORDS)
@pytest.mark.usefixtures("official_schemas")
def test_mef116_views_are_official_products(make: Any) -> None:
    product = to_mef116_product(make(), href=MEF_HREF, last_update_date="2024-03-02T09:30:00Z")
    item = to_mef116_product_list_item(make(), href=MEF_HREF)
    validate_mef116_product(product)
    validate_mef116_product_list_item(item)
    validate_against_document(MEF_DOC, "MEFProduct", product)
    validate_against_document(MEF_DOC, "MEFProduct_Find", item)


@pytest.mark.parametrize("make", RECORDS)
@pytest.mark.usefixtures("official_schemas")
def test_field_selection_stays_valid_against_our_documents(make: Any) -> None:
    product = to_tmf637_product(make(), href=TMF_HREF, related_parties=PARTIES)
    selected = select_fields(product, "status")
    validate_tmf637_product(selected)
    validate_against_document(TMF_DOC, "Product", selected)


_ALL_STATUSES = sorted(set(TMF637_STATUSES) | set(MEF116_STATUSES) | {"ACTIVE_PENDING_CHANGE"})
_text = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=12)
_dates = st.dates().map(lambda d: d.isoformat()) | st.datetimes().map(
    lambda d: d.isoformat(timespec="seconds") + "Z"
)
_money = st.fixed_dictionaries(
    {
        "unit": st.sampled_from(["EUR", "USD", "GBP"]),
        "value": st.decimals(min_value=0, max_value=10**6, places=2),
    }
)
_records = st.fixed_dictionaries(
    {"id": _text, "status": st.sampled_from(_ALL_STATUSES)},
    optional={
        "externalId": _text | st.none(),
        "startDate": _dates,
        "orderDate": _dates,
        "terminationDate": _dates | st.none(),
        "productOffering": st.fixed_dictionaries({"id": _text}, optional={"name": _text}),
        "place": st.lists(
            st.fixed_dictionaries({"role": _text}, optional={"id": _text, "name": _text}),
            max_size=3,
        ),
        "productPrice": st.lists(
            st.fixed_dictionaries(
                {
                    "priceType": st.sampled_from(["recurring", "nonRecurring", "usage", "rebate"]),
                    "price": st.fixed_dictionaries({}, optional={"dutyFreeAmount": _money}),
                },
                optional={"recurringChargePeriod": st.sampled_from(["month", "quarter", "year"])},
            ),
            max_size=3,
        ),
        "productTerm": st.lists(
            st.fixed_dictionaries(
                {"name": _text},
                optional={
                    "duration": st.fixed_dictionaries(
                        {
                            "amount": st.integers(0, 120) | st.floats(0, 10, allow_nan=False),
                            "units": st.sampled_from(["month", "days", "year", "fortnight"]),
                        }
                    )
                },
            ),
            max_size=2,
        ),
        "productCharacteristic": st.lists(
            st.fixed_dictionaries({"name": _text, "value": _text | st.integers()}), max_size=3
        ),
        "billingAccount": st.fixed_dictionaries({"id": _text}),
    },
)


@pytest.mark.usefixtures("official_schemas")
@settings(max_examples=60, deadline=None)
@given(record=_records)
def test_any_record_maps_to_valid_official_resources(record: dict[str, Any]) -> None:
    before = copy.deepcopy(record)
    validate_tmf637_product(to_tmf637_product(record, href=TMF_HREF, related_parties=PARTIES))
    validate_mef116_product_list_item(to_mef116_product_list_item(record, href=MEF_HREF))
    if "startDate" in record or "orderDate" in record:
        validate_mef116_product(to_mef116_product(record, href=MEF_HREF))
    else:
        with pytest.raises(MissingStartDate):
            to_mef116_product(record, href=MEF_HREF)
    assert record == before  # views never modify the stored record


# ---------------------------------------------------------------- mapping rules


def test_tmf637_view_keeps_every_field_and_adds_identity() -> None:
    record = sample_record()
    product = to_tmf637_product(record, href=TMF_HREF, related_parties=PARTIES)
    assert product["href"] == TMF_HREF
    assert product["@type"] == "Product"
    assert "terminationDate" not in product  # null means absent
    for name, value in record.items():
        if value is not None:
            assert product[name] == value
    assert [p["id"] for p in product["relatedParty"]] == ["carrier-a", "carrier-b"]
    assert all(p["@referredType"] == "Organization" for p in product["relatedParty"])


def test_tmf637_view_normalises_dates_and_status() -> None:
    product = to_tmf637_product(awkward_record(), href=TMF_HREF, related_parties=[])
    assert product["startDate"] == "2023-11-15T00:00:00Z"
    assert product["terminationDate"] == "2025-01-31T00:00:00Z"
    assert product["status"] == "suspended"
    assert "relatedParty" not in product


@pytest.mark.usefixtures("official_schemas")
def test_tmf637_view_completes_the_records_own_parties() -> None:
    record = {**sample_record(), "relatedParty": [{"id": "carrier-b", "role": "customer"}]}
    product = to_tmf637_product(record, href=TMF_HREF, related_parties=[])
    assert product["relatedParty"] == [
        {"@referredType": "Organization", "id": "carrier-b", "role": "customer"}
    ]
    validate_tmf637_product(product)


def test_tmf637_view_result_is_independent_of_the_record() -> None:
    record = sample_record()
    product = to_tmf637_product(record, href=TMF_HREF, related_parties=PARTIES)
    product["place"][0]["id"] = "changed"
    assert record["place"][0]["id"] == "FRA1"


def test_every_tmf637_status_maps_to_itself_and_the_erratum_is_fixed() -> None:
    assert [tmf637_status(s) for s in TMF637_STATUSES] == list(TMF637_STATUSES)
    assert tmf637_status("aborted ") == "aborted"
    assert tmf637_status("active.pendingChange") == "active"


def test_every_mef116_status_maps_to_itself() -> None:
    assert [mef116_status(s) for s in MEF116_STATUSES] == list(MEF116_STATUSES)
    assert mef116_status("created") == "pendingActive"
    assert mef116_status("aborted") == "cancelled"
    assert mef116_status("ACTIVE_PENDING_TERMINATE") == "pendingTerminate"


def test_unknown_status_raises_unless_the_relation_maps_it() -> None:
    with pytest.raises(UnmappableStatus) as caught:
        mef116_status("In Service")
    assert caught.value.status == "In Service"
    assert mef116_status("In Service", {"In Service": "active"}) == "active"
    assert tmf637_status("In Service", {"In Service": "ACTIVE"}) == "active"


def test_mef116_view_maps_tmf_fields_to_mef_counterparts() -> None:
    product = to_mef116_product(awkward_record(), href=MEF_HREF)
    assert product["status"] == "suspendedPendingTerminate"
    assert product["startDate"] == "2023-11-15T00:00:00Z"
    # the place without an id cannot be a MEF RelatedGeographicSite
    assert product["relatedSite"] == [{"id": "LON3", "role": "A-End"}]
    assert product["productPrice"] == [
        {
            "priceType": "recurring",
            "price": {
                "dutyFreeAmount": {"unit": "GBP", "value": Decimal("899.50")},
                "taxIncludedAmount": {"unit": "GBP", "value": Decimal("1079.40")},
                "taxRate": 20,
            },
            "recurringChargePeriod": "month",
        },
        {"priceType": "nonRecurring", "price": {"dutyFreeAmount": {"unit": "GBP", "value": 0}}},
    ]
    assert product["productTerm"] == [
        {"name": "initial", "duration": {"amount": 24, "units": "calendarMonths"}},
        {"name": "notice"},  # 1.5 months is not an integral MEF Duration
    ]
    assert product["productOrderItem"] == [{"productOrderId": "PO-9", "productOrderItemId": "3"}]
    assert product["productRelationship"] == [
        {"id": "ENNI-7", "relationshipType": "reliesOn", "href": "/x/ENNI-7"}
    ]
    assert product["billingAccount"] == {"id": "BA-1"}
    assert product["productConfiguration"] == {
        "@type": PANTHER_CONFIGURATION_TYPE,
        "productCharacteristic": [{"name": "bandwidth", "valueType": "integer", "value": 1000}],
    }
    assert "externalId" not in product


def test_mef116_start_date_falls_back_to_the_order_date() -> None:
    record = sample_record()
    del record["startDate"]
    with pytest.raises(MissingStartDate) as caught:
        to_mef116_product(record, href=MEF_HREF)
    assert caught.value.product_id == "CID-000123"
    assert "startDate" not in to_mef116_product_list_item(record, href=MEF_HREF)
    record["orderDate"] = "2024-02-01"
    assert to_mef116_product(record, href=MEF_HREF)["startDate"] == "2024-02-01T00:00:00Z"


def test_mef116_href_carries_buyer_and_seller() -> None:
    product = to_mef116_product(
        sample_record(), href=MEF_HREF, buyer_id="carrier b", seller_id="carrier-a"
    )
    assert product["href"] == f"{MEF_HREF}?buyerId=carrier+b&sellerId=carrier-a"
    assert to_mef116_product(sample_record(), href=MEF_HREF)["href"] == MEF_HREF


def test_mef116_list_item_has_only_list_item_properties() -> None:
    item = to_mef116_product_list_item(sample_record(), href=MEF_HREF)
    full = to_mef116_product(sample_record(), href=MEF_HREF)
    assert set(item) == set(full) - {"productPrice", "productTerm", "productConfiguration"}
    assert all(item[name] == full[name] for name in item)


# ---------------------------------------------------------------- fields selection

_resources = st.dictionaries(
    st.sampled_from(["id", "href", "@type", "status", "name", "place", "startDate", "x"]),
    st.integers() | st.text("abc", max_size=3),
)
_field_lists = st.lists(
    st.sampled_from(["status", "name", "place.id", " startDate ", "unknown", ""]), max_size=4
).map(",".join)


@given(resource=_resources, fields=_field_lists)
def test_select_fields_keeps_identity_and_exactly_what_was_asked(
    resource: dict[str, Any], fields: str
) -> None:
    selected = select_fields(resource, fields)
    asked = {f.strip().split(".")[0] for f in fields.split(",")} - {""}
    if not asked:
        assert selected == resource
        return
    expected = {k for k in resource if k in asked | {"id", "href", "@type"}}
    assert set(selected) == expected
    assert all(selected[k] == resource[k] for k in selected)


def test_select_fields_without_selection_is_a_copy() -> None:
    resource = {"id": "1", "href": "/p/1", "status": "active"}
    selected = select_fields(resource, None)
    assert selected == resource
    assert selected is not resource
    assert select_fields(resource, "status,name") == resource
    assert select_fields(resource, "name") == {"id": "1", "href": "/p/1"}


# ---------------------------------------------------------------- records kept as sent


def _schema_closure(name: str) -> dict[str, Any]:
    """``name`` and every schema it refers to in our TMF637 document, with only the keywords
    that decide validity (what panther.inventory.tmf637_schema holds)."""
    schemas = yaml.safe_load(TMF_DOC.read_text())["components"]["schemas"]
    kept = {"type", "format", "required", "properties", "items", "enum", "$ref"}

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "properties":
                    out[key] = {k: strip(v) for k, v in value.items()}
                elif key == "$ref":
                    out[key] = value.rsplit("/", 1)[-1]
                elif key in kept:
                    out[key] = strip(value)
            return out
        return [strip(v) for v in node] if isinstance(node, list) else node

    closure: dict[str, Any] = {}
    todo = [name]
    while todo:
        current = todo.pop()
        if current in closure:
            continue
        closure[current] = strip(schemas[current])
        todo.extend(re.findall(r"'\$ref': '([^']+)'", repr(closure[current])))
    return closure


def test_the_product_schema_the_views_serve_is_the_documents() -> None:
    assert _schema_closure("Product") == PRODUCT_SCHEMAS


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(
        ["2024-01-01", "2024-01-01T00:00:00Z", "eur", "http://x", "not a uri", "31/12/2024"]
    ),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "name",
                    "role",
                    "unit",
                    "value",
                    "price",
                    "priceType",
                    "href",
                    "@schemaLocation",
                    "validFor",
                    "startDateTime",
                    "amount",
                    "product",
                    "relationshipType",
                    "orderItemId",
                    "productOrderId",
                    "x",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
_PRODUCT_FIELDS = sorted(PRODUCT_SCHEMAS["Product"]["properties"])
_lenient_records = st.fixed_dictionaries(
    {"id": _text, "status": st.sampled_from(_ALL_STATUSES)},
    optional={name: _json_values for name in _PRODUCT_FIELDS if name not in ("id", "status")},
)


@pytest.mark.usefixtures("official_schemas")
@settings(max_examples=150, deadline=None)
@given(record=_lenient_records)
def test_records_kept_as_sent_are_served_as_valid_official_resources(
    record: dict[str, Any],
) -> None:
    """Ingest keeps whatever shape a carrier sent; the views serve only what fits."""
    before = copy.deepcopy(record)
    product = to_tmf637_product(record, href=TMF_HREF, related_parties=PARTIES)
    validate_tmf637_product(product)
    validate_against_document(TMF_DOC, "Product", product)
    item = to_mef116_product_list_item(record, href=MEF_HREF)
    validate_mef116_product_list_item(item)
    validate_against_document(MEF_DOC, "MEFProduct_Find", item)
    try:
        full = to_mef116_product(record, href=MEF_HREF)
    except MissingStartDate:
        pass
    else:
        validate_mef116_product(full)
        validate_against_document(MEF_DOC, "MEFProduct", full)
    assert record == before


@pytest.mark.usefixtures("official_schemas")
def test_what_the_schema_cannot_take_is_left_out_never_changed() -> None:
    record = sample_record()
    record["name"] = 7  # TMF637 Product.name is a string
    record["startDate"] = "01/03/2024"
    record["productOffering"] = "EPL"
    record["productPrice"][0]["price"]["dutyFreeAmount"] = {"unit": "eur", "value": "1250,00"}
    record["place"].append({"id": "no role"})
    product = to_tmf637_product(record, href=TMF_HREF, related_parties=PARTIES)
    validate_tmf637_product(product)
    assert "name" not in product and "startDate" not in product
    assert "productOffering" not in product
    assert product["productPrice"][0]["price"]["dutyFreeAmount"] == {"unit": "eur"}
    assert [p["id"] for p in product["place"]] == ["FRA1", "LON3"]
    record["name"] = "7"
    assert to_tmf637_product(record, href=TMF_HREF, related_parties=PARTIES)["name"] == "7"
    mef = to_mef116_product(documented_record(startDate="2024-03-01"), href=MEF_HREF)
    record["startDate"] = "2024-03-01"
    lenient = to_mef116_product(record, href=MEF_HREF)
    validate_mef116_product(lenient)
    assert "productPrice" in mef
    assert [p["priceType"] for p in lenient["productPrice"]] == ["nonRecurring"]
