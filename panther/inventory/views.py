"""API views of stored product records: TMF637 v4 Product, MEF 116 v7 Product and list item.

Pure functions from a record (our TMF637 record shape, docs/records-and-profiles.md) to the
resource a standard API returns, plus TMF630 ``fields=`` selection. No I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from panther.inventory.tmf637_schema import PRODUCT_SCHEMAS

__all__ = [
    "MEF116_STATUSES",
    "PANTHER_CONFIGURATION_TYPE",
    "TMF637_STATUSES",
    "MissingStartDate",
    "UnmappableStatus",
    "conformer",
    "is_date_time",
    "mef116_status",
    "select_fields",
    "tmf637_status",
    "to_mef116_product",
    "to_mef116_product_list_item",
    "to_tmf637_product",
]

Record = Mapping[str, Any]
Resource = dict[str, Any]

TMF637_STATUSES: tuple[str, ...] = tuple(PRODUCT_SCHEMAS["ProductStatusType"]["enum"])
MEF116_STATUSES = (
    "active",
    "active.pendingChange",
    "cancelled",
    "pendingActive",
    "pendingTerminate",
    "suspended",
    "suspendedPendingTerminate",
    "terminated",
)

# The ``@type`` of the MEF ``productConfiguration`` we emit: MEF leaves product payloads to
# product specifications; ours carries the reported TMF characteristics unchanged.
PANTHER_CONFIGURATION_TYPE = "PantherProductConfiguration"


@dataclass(frozen=True)
class UnmappableStatus(ValueError):
    """A record's status has no equivalent in the target vocabulary."""

    status: str
    vocabulary: str

    def __str__(self) -> str:
        return f"status {self.status!r} has no {self.vocabulary} equivalent"


@dataclass(frozen=True)
class MissingStartDate(ValueError):
    """MEF 116 requires ``startDate`` on a Product; the record has neither it nor orderDate."""

    product_id: str

    def __str__(self) -> str:
        return f"product {self.product_id!r} has no startDate (nor orderDate) for MEF 116"


def _status_key(value: str) -> str:
    return re.sub(r"[\s_.\-]", "", value).lower()


# Keys are TMF637, MEF 116 and MEF 81 names, compared without case and separators.
_TO_TMF637 = {
    "created": "created",
    "pending": "pendingActive",
    "pendingactive": "pendingActive",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "active": "active",
    # TMF637 v4 has no "change in progress": the product is still active.
    "activependingchange": "active",
    "pendingterminate": "pendingTerminate",
    "activependingterminate": "pendingTerminate",
    "terminated": "terminated",
    "suspended": "suspended",
    # TMF637 v4 cannot say both; the product is not in service, which is what billing needs.
    "suspendedpendingterminate": "suspended",
    "aborted": "aborted",
}
_TO_MEF116 = {
    # MEF has no "created": the product exists and is not active yet.
    "created": "pendingActive",
    "pending": "pendingActive",
    "pendingactive": "pendingActive",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    # An aborted product never became active: MEF calls that cancelled.
    "aborted": "cancelled",
    "active": "active",
    "activependingchange": "active.pendingChange",
    "pendingterminate": "pendingTerminate",
    "activependingterminate": "pendingTerminate",
    "terminated": "terminated",
    "suspended": "suspended",
    "suspendedpendingterminate": "suspendedPendingTerminate",
}


def _map_status(
    value: Any, table: Mapping[str, str], vocabulary: str, status_map: Mapping[str, str] | None
) -> str:
    raw = str(value)
    if status_map is not None and raw in status_map:
        raw = status_map[raw]
    mapped = table.get(_status_key(raw))
    if mapped is None:
        raise UnmappableStatus(str(value), vocabulary)
    return mapped


def tmf637_status(value: Any, status_map: Mapping[str, str] | None = None) -> str:
    """The TMF637 v4 status for a status in any known vocabulary (``status_map`` first)."""
    return _map_status(value, _TO_TMF637, "TMF637", status_map)


def mef116_status(value: Any, status_map: Mapping[str, str] | None = None) -> str:
    """The MEF 116 v7 status for a status in any known vocabulary (``status_map`` first)."""
    return _map_status(value, _TO_MEF116, "MEF 116", status_map)


_PLAIN_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date_time(value: Any) -> Any:
    """RFC 3339 date-time: records may carry a plain date, both APIs require a date-time."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00Z"
    if isinstance(value, str) and _PLAIN_DATE.match(value):
        return f"{value}T00:00:00Z"
    return value


def _without_nulls(value: Any) -> Any:
    # Neither standard declares a property nullable: an unknown value is an absent property.
    # Every object and array is a new one: the result shares nothing mutable with the input.
    if type(value) is dict or (type(value) is not list and isinstance(value, Mapping)):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if type(value) is list:
        return [_without_nulls(v) for v in value if v is not None]
    return value


def _dicts(value: Any) -> Iterable[Mapping[str, Any]]:
    if isinstance(value, list):
        return [item for item in value if isinstance(item, Mapping)]
    return []


def to_tmf637_product(
    record: Record,
    *,
    href: str,
    related_parties: list[dict[str, Any]],
    status_map: Mapping[str, str] | None = None,
) -> Resource:
    """The TMF637 v4 ``Product`` for a stored record.

    Keeps every field of the record that the ``Product`` schema allows (``externalId``
    included: TMF637 v4 has no such property but allows extensions), drops nulls, turns
    plain dates into date-times, maps the status to the TMF637 vocabulary, and sets
    ``href``, ``@type`` (``Product`` unless the record names a subclass) and
    ``relatedParty`` (``related_parties``, else the record's own; ``@referredType``
    defaults to ``Organization``, which TMF637 requires). Records are kept as carriers
    sent them: a value the schema cannot take (a number as ``name``, a date that is no
    date) is left out, never served changed (``conformer``). The result shares nothing
    mutable with the record. Raises ``UnmappableStatus``.
    """
    resource: Resource = {"id": record.get("id"), "href": href}
    if resource["id"] is None:
        del resource["id"]
    resource["@type"] = record.get("@type") or "Product"
    for name, value in record.items():
        if name not in _SET_BY_THE_VIEW:
            resource[name] = value
    if resource.get("status") is not None:
        resource["status"] = tmf637_status(resource["status"], status_map)
    parties: Sequence[Mapping[str, Any]] = related_parties
    if not parties:
        parties = list(_dicts(resource.get("relatedParty")))
    if parties:
        resource["relatedParty"] = [{"@referredType": "Organization", **party} for party in parties]
    served: Resource = conformer(PRODUCT_SCHEMAS, "Product")(resource)
    return served


_SET_BY_THE_VIEW = frozenset({"id", "href", "@type"})


# ---- serving only what the schema allows ---------------------------------------------------

_LEFT_OUT: Any = object()
_Conform = Callable[[Any], Any]
_DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-]([0-9]{2}):([0-9]{2}))"
)
# RFC 3986 absolute URIs without a port, user info or IP literal: a strict subset of what
# the schemas' "uri" format accepts, so nothing served under it can be refused.
_URI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.\-]*:(?:[A-Za-z0-9\-._~!$&'()*+,;=/?]|%[0-9A-Fa-f]{2})*"
    r"(?:#(?:[A-Za-z0-9\-._~!$&'()*+,;=/?]|%[0-9A-Fa-f]{2})*)?"
)


def is_date_time(value: Any) -> bool:
    """Whether ``value`` is an RFC 3339 date-time (a real calendar day and time of day)."""
    if type(value) is not str or len(value) > 64:
        return False
    m = _DATE_TIME.fullmatch(value)
    if m is None:
        return False
    year, month, day, hour, minute, second, off_h, off_m = m.groups()
    if int(hour) > 23 or int(minute) > 59 or int(second) > 59:
        return False
    if off_h is not None and (int(off_h) > 23 or int(off_m) > 59):
        return False
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


_COMPILED: dict[tuple[int, str], tuple[Mapping[str, Mapping[str, Any]], _Conform]] = {}


def conformer(schemas: Mapping[str, Mapping[str, Any]], name: str) -> _Conform:
    """A function serving a value as the schema ``name`` of ``schemas`` allows it.

    Records are kept as carriers sent them, so a view may meet anything. What the schema
    cannot take is left out, never changed: a property of the wrong type or format, an
    array item that does not fit, an object missing a required property (and so the
    property holding it). Nulls are absent values (neither standard declares a property
    nullable); a plain date where a date-time is due is that day at midnight UTC.
    Properties the schema does not name are extensions and kept, without their nulls. The
    result shares no container with the value. ``schemas`` uses the keywords of
    ``tmf637_schema`` (``$ref`` by bare name); unknown keywords are refused when compiled.
    """
    key = (id(schemas), name)
    found = _COMPILED.get(key)
    if found is None or found[0] is not schemas:
        found = _COMPILED[key] = (schemas, _Compiler(schemas).ref(name))
    return found[1]


class _Compiler:
    _KEYWORDS = frozenset({"type", "format", "required", "properties", "items", "enum", "$ref"})

    def __init__(self, schemas: Mapping[str, Mapping[str, Any]]) -> None:
        self.schemas = schemas
        self.named: dict[str, _Conform] = {}

    def ref(self, name: str) -> _Conform:
        if name not in self.named:
            # A placeholder first: schemas may refer to themselves (ProductRefOrValue).
            self.named[name] = lambda value: self.named[name](value)
            self.named[name] = self.compile(self.schemas[name])
        return self.named[name]

    def compile(self, schema: Mapping[str, Any]) -> _Conform:
        unknown = set(schema) - self._KEYWORDS
        if unknown:
            raise ValueError(f"schema keywords not supported: {sorted(unknown)}")
        if "$ref" in schema:
            return self.ref(schema["$ref"])
        kind = schema.get("type", "object" if "properties" in schema else None)
        check = self._scalar(kind, schema.get("format"))
        if "enum" in schema:
            allowed = tuple(schema["enum"])
            inner = check
            check = lambda v: inner(v) if v in allowed else _LEFT_OUT  # noqa: E731
        if kind == "array":
            return self._array(self.compile(schema.get("items", {})))
        if kind == "object":
            properties = {k: self.compile(v) for k, v in schema.get("properties", {}).items()}
            return self._object(properties, tuple(schema.get("required", ())))
        return check

    @staticmethod
    def _scalar(kind: str | None, fmt: str | None) -> _Conform:
        if kind is None:
            return _without_nulls
        if kind == "string":
            if fmt == "date-time":
                return _served_date_time
            if fmt == "uri":
                return lambda v: v if type(v) is str and _URI.fullmatch(v) else _LEFT_OUT
            return lambda v: v if type(v) is str else _LEFT_OUT
        if kind == "number":
            return lambda v: v if _is_number(v) else _LEFT_OUT
        if kind == "integer":
            return lambda v: v if type(v) is int else _LEFT_OUT
        if kind == "boolean":
            return lambda v: v if type(v) is bool else _LEFT_OUT
        return _without_nulls  # object and array are compiled apart

    @staticmethod
    def _array(item: _Conform) -> _Conform:
        def conform(value: Any) -> Any:
            if type(value) is not list:
                return _LEFT_OUT
            out = (item(v) for v in value if v is not None)
            return [v for v in out if v is not _LEFT_OUT]

        return conform

    @staticmethod
    def _object(properties: dict[str, _Conform], required: tuple[str, ...]) -> _Conform:
        def conform(value: Any) -> Any:
            if type(value) is not dict:
                return _LEFT_OUT
            out: dict[str, Any] = {}
            for key, child in value.items():
                if child is None:
                    continue
                rule = properties.get(key)
                served = _without_nulls(child) if rule is None else rule(child)
                if served is not _LEFT_OUT:
                    out[key] = served
            for key in required:
                if key not in out:
                    return _LEFT_OUT
            return out

        return conform


def _is_number(value: Any) -> bool:
    if type(value) is int:
        return True
    if type(value) is float:
        return math.isfinite(value)
    return type(value) is Decimal and value.is_finite()


def _served_date_time(value: Any) -> Any:
    served = _date_time(value)
    return served if is_date_time(served) else _LEFT_OUT


def _mef_href(href: str, buyer_id: str | None, seller_id: str | None) -> str:
    # A hub serving several carriers needs buyerId/sellerId to resolve the id (MEF 81 8.3):
    # carry them so the href can be followed as is.
    query = {k: v for k, v in (("buyerId", buyer_id), ("sellerId", seller_id)) if v}
    if not query:
        return href
    return f"{href}{'&' if '?' in href else '?'}{urlencode(query)}"


def _ref(value: Any, names: tuple[str, ...]) -> dict[str, Any] | None:
    if not isinstance(value, Mapping) or not value.get("id"):
        return None
    return {name: str(value[name]) for name in names if value.get(name) is not None}


def _key(value: Any) -> str:
    return re.sub(r"[\s_\-]", "", str(value)).lower()


_PRICE_TYPES = {
    "recurring": "recurring",
    "mrc": "recurring",
    "nonrecurring": "nonRecurring",
    "onetime": "nonRecurring",
    "nrc": "nonRecurring",
    "usagebased": "usageBased",
    "usage": "usageBased",
}
_CHARGE_PERIODS = {
    "hour": "hour",
    "hourly": "hour",
    "day": "day",
    "daily": "day",
    "week": "week",
    "weekly": "week",
    "month": "month",
    "monthly": "month",
    "year": "year",
    "yearly": "year",
    "annual": "year",
    "annually": "year",
}


def _mef_money(value: Any) -> dict[str, Any] | None:
    # MEF requires both unit and value; TMF allows either to be missing. Records are kept
    # as sent: a unit that is no string or a value that is no number cannot be served.
    if (
        not isinstance(value, Mapping)
        or type(value.get("unit")) is not str
        or not _is_number(value.get("value"))
    ):
        return None
    return {"unit": value["unit"], "value": value["value"]}


def _mef_price(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, Mapping):
        return None
    duty_free = _mef_money(value.get("dutyFreeAmount"))
    if duty_free is None:  # required by MEF Price
        return None
    price: dict[str, Any] = {"dutyFreeAmount": duty_free}
    tax_included = _mef_money(value.get("taxIncludedAmount"))
    if tax_included is not None:
        price["taxIncludedAmount"] = tax_included
    if _is_number(value.get("taxRate")):
        price["taxRate"] = value["taxRate"]
    return price


def _mef_product_prices(values: Any) -> list[dict[str, Any]]:
    prices = []
    for item in _dicts(values):
        price_type = _PRICE_TYPES.get(_key(item.get("priceType", "")))
        price = _mef_price(item.get("price"))
        if price_type is None or price is None:
            continue  # MEF cannot express it; leaving it out beats an invalid response
        out: dict[str, Any] = {"priceType": price_type, "price": price}
        for name in ("name", "description", "unitOfMeasure"):
            if item.get(name) is not None:
                out[name] = str(item[name])
        period = _CHARGE_PERIODS.get(_key(item.get("recurringChargePeriod", "")))
        if period is not None:
            out["recurringChargePeriod"] = period
        prices.append(out)
    return prices


# TMF Quantity units to MEF TimeUnit, with the factor that keeps the amount an integer.
_TIME_UNITS: dict[str, tuple[str, int]] = {
    "minute": ("calendarMinutes", 1),
    "hour": ("calendarHours", 1),
    "day": ("calendarDays", 1),
    "week": ("calendarDays", 7),
    "month": ("calendarMonths", 1),
    "year": ("calendarMonths", 12),
    "calendarminute": ("calendarMinutes", 1),
    "calendarhour": ("calendarHours", 1),
    "calendarday": ("calendarDays", 1),
    "calendarmonth": ("calendarMonths", 1),
    "businessday": ("businessDays", 1),
    "businesshour": ("businessHours", 1),
    "businessminute": ("businessMinutes", 1),
}


def _mef_duration(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, Mapping) or value.get("amount") is None:
        return None
    unit = _key(value.get("units", "")).removesuffix("s")
    known = _TIME_UNITS.get(unit)
    if known is None:
        return None
    try:
        amount = Decimal(str(value["amount"])) * known[1]
    except InvalidOperation:
        return None
    if amount != amount.to_integral_value():  # MEF Duration.amount is an integer
        return None
    return {"amount": int(amount), "units": known[0]}


def _mef_terms(values: Any) -> list[dict[str, Any]]:
    terms = []
    for item in _dicts(values):
        term: dict[str, Any] = {}
        for name in ("name", "description"):
            if item.get(name) is not None:
                term[name] = str(item[name])
        duration = _mef_duration(item.get("duration"))
        if duration is not None:
            term["duration"] = duration
        if term:
            terms.append(term)
    return terms


def _mef_sites(values: Any) -> list[dict[str, Any]]:
    # MEF RelatedGeographicSite requires both id and role; a TMF place by value has no id.
    return [
        {
            "id": str(p["id"]),
            "role": str(p["role"]),
            **({"href": p["href"]} if p.get("href") and type(p["href"]) is str else {}),
        }
        for p in _dicts(values)
        if p.get("id") and p.get("role")
    ]


def _mef_order_items(values: Any) -> list[dict[str, Any]]:
    items = []
    for item in _dicts(values):
        if not item.get("productOrderId") or not item.get("orderItemId"):
            continue
        out = {
            "productOrderId": str(item["productOrderId"]),
            "productOrderItemId": str(item["orderItemId"]),
        }
        if item.get("productOrderHref"):
            out["productOrderHref"] = str(item["productOrderHref"])
        items.append(out)
    return items


def _mef_relationships(values: Any) -> list[dict[str, Any]]:
    relationships = []
    for item in _dicts(values):
        product = item.get("product")
        if not isinstance(product, Mapping) or not product.get("id"):
            continue
        if not item.get("relationshipType"):
            continue
        out = {"id": str(product["id"]), "relationshipType": str(item["relationshipType"])}
        if product.get("href"):
            out["href"] = str(product["href"])
        relationships.append(out)
    return relationships


def _mef_configuration(values: Any) -> dict[str, Any] | None:
    characteristics = [
        {
            k: _without_nulls(c[k])
            for k in ("name", "valueType", "value")
            if c.get(k) is not None and (k == "value" or type(c[k]) is str)
        }
        for c in _dicts(values)
        if type(c.get("name")) is str
    ]
    if not characteristics:
        return None
    return {"@type": PANTHER_CONFIGURATION_TYPE, "productCharacteristic": characteristics}


_FIND_FIELDS = (
    "id",
    "href",
    "externalId",
    "status",
    "startDate",
    "lastUpdateDate",
    "productOffering",
    "productSpecification",
    "relatedSite",
    "productRelationship",
    "billingAccount",
    "productOrderItem",
)


def _mef_resource(
    record: Record,
    href: str,
    buyer_id: str | None,
    seller_id: str | None,
    last_update_date: Any,
    status_map: Mapping[str, str] | None,
) -> Resource:
    data = _without_nulls(dict(record))
    resource: Resource = {"id": str(data["id"]), "href": _mef_href(href, buyer_id, seller_id)}
    if data.get("externalId") is not None:
        resource["externalId"] = str(data["externalId"])
    resource["status"] = mef116_status(data.get("status"), status_map)
    # MEF: the start date is when the product first became active; an ordered product not
    # yet started is dated by its order.
    start = data.get("startDate", data.get("orderDate"))
    dates = (
        ("startDate", start),
        ("terminationDate", data.get("terminationDate")),
        ("lastUpdateDate", last_update_date),
    )
    for name, value in dates:
        served = _served_date_time(value)
        if served is not _LEFT_OUT:
            resource[name] = served
    offering = _ref(data.get("productOffering"), ("id", "href"))
    if offering is not None:
        resource["productOffering"] = offering
    specification = _ref(data.get("productSpecification"), ("id", "href"))
    if specification is not None:
        resource["productSpecification"] = specification
    billing_account = _ref(data.get("billingAccount"), ("id",))
    if billing_account is not None:
        resource["billingAccount"] = billing_account
    lists = {
        "relatedSite": _mef_sites(data.get("place")),
        "productPrice": _mef_product_prices(data.get("productPrice")),
        "productTerm": _mef_terms(data.get("productTerm")),
        "productOrderItem": _mef_order_items(data.get("productOrderItem")),
        "productRelationship": _mef_relationships(data.get("productRelationship")),
    }
    resource.update({name: items for name, items in lists.items() if items})
    configuration = _mef_configuration(data.get("productCharacteristic"))
    if configuration is not None:
        resource["productConfiguration"] = configuration
    return resource


def to_mef116_product(
    record: Record,
    *,
    href: str,
    buyer_id: str | None = None,
    seller_id: str | None = None,
    last_update_date: datetime | str | None = None,
    status_map: Mapping[str, str] | None = None,
) -> Resource:
    """The MEF 116 v7 ``MEFProduct`` (``GET /product/{id}``) for the seller's record.

    Maps TMF fields to their MEF counterparts: ``place`` to ``relatedSite`` (places with an
    id), ``productPrice`` to MEF prices (MEF price types and charge periods), ``productTerm``
    to ``MEFItemTerm`` (durations in MEF time units), ``productOrderItem`` to
    ``MEFProductOrderItemRef``, characteristics to a ``productConfiguration`` of type
    ``PantherProductConfiguration``. What MEF cannot express is left out, never sent
    invalid. ``buyer_id``/``seller_id`` are appended to ``href`` as MEF query parameters.
    Raises ``UnmappableStatus`` and ``MissingStartDate`` (MEF requires ``startDate``;
    ``orderDate`` stands in when the product has not started).
    """
    resource = _mef_resource(record, href, buyer_id, seller_id, last_update_date, status_map)
    if "startDate" not in resource:
        raise MissingStartDate(resource["id"])
    return resource


def to_mef116_product_list_item(
    record: Record,
    *,
    href: str,
    buyer_id: str | None = None,
    seller_id: str | None = None,
    last_update_date: datetime | str | None = None,
    status_map: Mapping[str, str] | None = None,
) -> Resource:
    """The MEF 116 v7 ``MEFProduct_Find`` (one item of ``GET /product``) for a record.

    The same mapping as ``to_mef116_product``, limited to the list item's properties;
    ``startDate`` is optional here. Raises ``UnmappableStatus``.
    """
    resource = _mef_resource(record, href, buyer_id, seller_id, last_update_date, status_map)
    return {name: resource[name] for name in _FIND_FIELDS if name in resource}


_ALWAYS_SELECTED = ("id", "href", "@type")


def select_fields(resource: Mapping[str, Any], fields: str | None) -> Resource:
    """TMF630 attribute selection: keep the named top-level properties plus id, href, @type.

    ``fields`` is comma-separated (``"status,place"``); blanks are ignored, a dotted name
    selects its top-level property, unknown names select nothing. ``None`` or an empty
    string selects everything.
    """
    if fields is None:
        return dict(resource)
    wanted = {name.strip().split(".", 1)[0] for name in fields.split(",")}
    wanted.discard("")
    if not wanted:
        return dict(resource)
    wanted.update(_ALWAYS_SELECTED)
    return {name: value for name, value in resource.items() if name in wanted}
