"""The product record of docs/records-and-profiles.md, for every test that needs one."""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["documented_record"]

_DOCUMENTED: dict[str, Any] = {
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
        {"priceType": "nonRecurring", "price": {"dutyFreeAmount": {"unit": "EUR", "value": 500.0}}},
    ],
    "productTerm": [{"name": "initial", "duration": {"amount": 36, "units": "month"}}],
    "productOrderItem": [{"productOrderId": "PO-2024-000123", "orderItemId": "1"}],
    "productCharacteristic": [
        {"name": "bandwidth", "value": "10 Gbps"},
        {"name": "serviceType", "value": "EPL"},
    ],
    "billingAccount": {"id": "BA-4711"},
}


def documented_record(**changes: Any) -> dict[str, Any]:
    """A fresh copy of the documented record, with top-level fields replaced."""
    return {**copy.deepcopy(_DOCUMENTED), **changes}
