"""The TMF678 billing use cases under one name, for callers that import `billing` (benches,
conformance tests). They live by capability: `statements` (generating and issuing a statement,
customerBillOnDemand), `bills` (customerBill reads, PDF and lifecycle), `bill_rates`
(appliedCustomerBillingRate), `billing_events` (the hub); `billing_mef` is the MEF 141 view.
"""

from __future__ import annotations

from ..representations.tmf678 import TMF_BASE, etag
from .bill_rates import get_rate, list_rates
from .billing_events import register_listener, unregister_listener
from .bills import bill_document, get_bill, list_bills, patch_bill
from .statements import get_bill_request, list_bill_requests, request_statement

__all__ = [
    "TMF_BASE",
    "bill_document",
    "etag",
    "get_bill",
    "get_bill_request",
    "get_rate",
    "list_bill_requests",
    "list_bills",
    "list_rates",
    "patch_bill",
    "register_listener",
    "request_statement",
    "unregister_listener",
]
