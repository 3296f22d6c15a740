"""Sample product records and the documented CSV mapping, shared by the inventory tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.samples import documented_record

SAMPLE: dict[str, Any] = documented_record()

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
