"""TMF637 representations: Product resources around a record, filters, change bodies, events."""

from __future__ import annotations

from panther.server.representations import tmf637

BASE = "https://panther.example"
RELATION = {"id": "rel-1", "supplier_id": "sup", "customer_id": "cus"}


def test_product_view_sets_href_type_and_both_carriers() -> None:
    view = tmf637.product_view(
        {"id": "P1", "status": "active", "name": "n"}, RELATION, {}, base_url=BASE
    )
    assert view["href"] == f"{BASE}/tmf-api/productInventory/v4/product/P1"
    assert view["@type"] == "Product"
    assert view["status"] == "active"
    assert [(p["id"], p["role"]) for p in view["relatedParty"]] == [
        ("sup", "supplier"),
        ("cus", "customer"),
    ]


def test_product_view_maps_the_relations_own_status() -> None:
    view = tmf637.product_view(
        {"id": "P1", "status": "LIVE"}, RELATION, {"LIVE": "active"}, base_url=BASE
    )
    assert view["status"] == "active"


def test_an_unmappable_stored_status_is_left_out_not_an_error() -> None:
    view = tmf637.product_view(
        {"id": "P1", "status": "no-such-status"}, RELATION, {}, base_url=BASE
    )
    assert "status" not in view
    assert view["id"] == "P1"


def test_matches_checks_only_the_view_filters() -> None:
    view = {"status": "active", "name": "n", "productOffering": {"id": "PO"}}
    assert tmf637.matches(view, {"status": "active", "productOffering.id": "PO", "id": "other"})
    assert not tmf637.matches(view, {"status": "terminated"})
    assert not tmf637.matches(view, {"name": "m"})
    assert not tmf637.matches({"status": "active"}, {"productOffering.id": "PO"})


def test_change_bodies_drop_what_the_server_sets() -> None:
    body = {"id": "P1", "href": "x", "@type": "Product", "relatedParty": [], "status": "active"}
    assert tmf637.new_product_record(body) == {"id": "P1", "status": "active"}
    assert tmf637.product_patch(body) == {"id": "P1", "relatedParty": [], "status": "active"}


def test_partners_are_the_related_parties_other_than_the_caller() -> None:
    body = {
        "relatedParty": [
            {"id": "sup", "role": "supplier"},
            {"id": "cus", "role": "Customer"},
            {"id": "x"},
            {"role": "buyer"},
            "not a party",
        ]
    }
    assert tmf637.partners(body, "sup") == [("cus", "customer"), ("x", "")]
    assert tmf637.partners({}, "sup") == []


def test_product_event_wraps_the_product() -> None:
    event = tmf637.product_event("e1", "2026-01-01T00:00:00Z", "ProductDeleteEvent", {"id": "P"})
    assert event == {
        "eventId": "e1",
        "eventTime": "2026-01-01T00:00:00Z",
        "eventType": "ProductDeleteEvent",
        "event": {"product": {"id": "P"}},
    }
