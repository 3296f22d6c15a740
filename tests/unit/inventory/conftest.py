"""Sample product records and the documented CSV mapping, shared by the inventory tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

SAMPLE: dict[str, Any] = {
    "id": "CID-000123",
    "externalId": "ORD77-000123",
    "status": "active",
    "startDate": "2024-03-01T00:00:00Z",
    "terminationDate": None,
    "productOffering": {"id": "EPL", "name": "Ethernet Private Line"},
    "productSpecification": {"id": "carrier-ethernet", "name": "Carrier Ethernet"},
    "place": [
        {"role": "A-End", "id": "FRA1", "name": "Frankfurt Kleyerstrasse"},
        {"role": "B-End", "id": "LON3", "name": "London Docklands"},
    ],
    "productPrice": [
        {
            "priceType": "recurring",
            "recurringChargePeriod": "month",
            "price": {"dutyFreeAmount": {"unit": "EUR", "value": 1250.0}},
        },
        {"priceType": "nonRecurring", "price": {"dutyFreeAmount": {"unit": "EUR", "value": 500}}},
    ],
    "productTerm": [{"name": "initial", "duration": {"amount": 36, "units": "month"}}],
    "productOrderItem": [{"productOrderId": "PO-2024-000123", "orderItemId": "1"}],
    "productCharacteristic": [
        {"name": "bandwidth", "value": "10 Gbps"},
        {"name": "serviceType", "value": "EPL"},
    ],
    "billingAccount": {"id": "BA-4711"},
}

# The csvMapping of docs/records-and-profiles.md.
DOC_MAPPING: dict[str, str] = {
    "id": "id",
    "external_id": "externalId",
    "status": "status",
    "start_date": "startDate",
    "termination_date": "terminationDate",
    "offering": "productOffering.id",
    "bandwidth": "productCharacteristic[name=bandwidth].value",
    "service_type": "productCharacteristic[name=serviceType].value",
    "site_a": "place[role=A-End].id",
    "site_b": "place[role=B-End].id",
    "mrc": "productPrice[priceType=recurring].price.dutyFreeAmount.value",
    "currency": "productPrice[priceType=recurring].price.dutyFreeAmount.unit",
    "order_id": "productOrderItem[0].productOrderId",
    "billing_account": "billingAccount.id",
}


def sample_record(i: int = 0, **changes: Any) -> dict[str, Any]:
    """A valid record with its own identifiers (a fresh deep copy every time)."""
    record = copy.deepcopy(SAMPLE)
    record["id"] = f"CID-{i:06d}"
    record["externalId"] = f"ORD77-{i:06d}"
    record.update(changes)
    return record


@pytest.fixture
def make_record() -> Callable[..., dict[str, Any]]:
    """`make_record(i, **changes)`: a valid record, a fresh deep copy every call."""
    return sample_record


@pytest.fixture
def doc_mapping() -> dict[str, str]:
    return dict(DOC_MAPPING)
