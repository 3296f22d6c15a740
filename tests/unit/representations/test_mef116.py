"""MEF 116 representations: the buyer's view of a seller's record, and the list filters."""

from __future__ import annotations

from panther.server.representations import mef116

BASE = "https://panther.example"
RELATION = {"id": "rel-1", "supplier_id": "sup", "customer_id": "cus"}
REPORT = {"id": "rpt-1", "created_at": "2026-11-01T10:00:00.000000Z"}
RECORD = {
    "id": "P1",
    "status": "active",
    "startDate": "2025-01-01",
    "productOffering": {"id": "PO-1"},
    "productSpecification": {"id": "PS-1"},
}


def test_product_view_names_buyer_and_seller_in_the_href() -> None:
    view = mef116.product_view(RECORD, RELATION, REPORT, {}, base_url=BASE, full=True)
    assert view is not None
    assert view["href"] == (
        f"{BASE}/mefApi/sonata/productInventory/v7/product/P1?buyerId=cus&sellerId=sup"
    )
    assert view["status"] == "active"
    assert view["lastUpdateDate"].startswith("2026-11-01T10:00:00")


def test_a_product_without_start_date_is_listed_but_not_shown_in_full() -> None:
    record = {k: v for k, v in RECORD.items() if k != "startDate"}
    assert mef116.product_view(record, RELATION, REPORT, {}, base_url=BASE, full=True) is None
    item = mef116.product_view(record, RELATION, REPORT, {}, base_url=BASE, full=False)
    assert item is not None and item["id"] == "P1"


def test_a_status_mef_cannot_say_is_no_mef_product() -> None:
    record = {**RECORD, "status": "no-such-status"}
    assert mef116.product_view(record, RELATION, REPORT, {}, base_url=BASE, full=False) is None
    mapped = mef116.product_view(
        record, RELATION, REPORT, {"no-such-status": "active"}, base_url=BASE, full=False
    )
    assert mapped is not None and mapped["status"] == "active"


def test_matches_the_view_filters() -> None:
    view = mef116.product_view(RECORD, RELATION, REPORT, {}, base_url=BASE, full=False)
    assert view is not None
    assert mef116.matches(view, {"status": "active", "externalId": "ignored here"})
    assert mef116.matches(view, {"productOfferingId": "PO-1", "productSpecificationId": "PS-1"})
    assert not mef116.matches(view, {"status": "terminated"})
    assert not mef116.matches(view, {"productOfferingId": "PO-2"})
    assert not mef116.matches(view, {"productSpecificationId": "PS-2"})
