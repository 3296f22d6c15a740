"""Seeded pairs of carrier inventories (supplier and customer view of one relation) with the
ground truth a correct engine using the default match profile must produce.

Every service of the relation is an *entity*; each entity gets exactly one noise kind (or none)
and the truth follows from the kind, never from running a matcher. Field values are built so
that the default profile's normalisers and comparators either surely agree (equivalent
notations, tolerances well inside their bounds) or surely disagree (differences well outside).
"""

from __future__ import annotations

import gc
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any

__all__ = [
    "AMBIGUOUS",
    "CLASSES",
    "COMPARED_FIELDS",
    "Expectation",
    "GeneratedPair",
    "GroundTruth",
    "InvalidRates",
    "MATCHED",
    "MISSING_AT_CUSTOMER",
    "MISSING_AT_SUPPLIER",
    "NoiseRates",
    "PARTIAL",
    "RULE_CIRCUIT_ID",
    "RULE_ORDER_REFERENCE",
    "generate_pair",
]

MATCHED = "matched"
PARTIAL = "partial"
MISSING_AT_CUSTOMER = "missingAtCustomer"
MISSING_AT_SUPPLIER = "missingAtSupplier"
AMBIGUOUS = "ambiguous"
CLASSES: tuple[str, ...] = (MATCHED, PARTIAL, MISSING_AT_CUSTOMER, MISSING_AT_SUPPLIER, AMBIGUOUS)

# Identifier-rule and compared-field names of the default profile (docs/records-and-profiles.md).
RULE_CIRCUIT_ID = "supplierCircuitId"
RULE_ORDER_REFERENCE = "orderReference"
COMPARED_FIELDS: tuple[str, ...] = (
    "status",
    "startDate",
    "terminationDate",
    "bandwidth",
    "serviceType",
    "recurringCharge",
    "siteA",
    "siteB",
)
# The fields the generator makes differ (terminationDate is left equal on purpose).
_DIFFERABLE: tuple[str, ...] = (
    "status",
    "bandwidth",
    "recurringCharge",
    "startDate",
    "siteA",
    "siteB",
    "serviceType",
)

DEFAULT_AS_OF = date(2025, 6, 30)
# Share of order-reference links that also carry one differing field (partial, not matched).
_ORDER_REFERENCE_PARTIAL_SHARE = 0.3


@dataclass(frozen=True)
class InvalidRates(ValueError):
    rates: NoiseRates
    reason: str

    def __str__(self) -> str:
        return f"invalid noise rates: {self.reason}"


@dataclass(frozen=True)
class NoiseRates:
    """Probability per service of each noise kind.

    All kinds but ``equivalent_value`` are exclusive per service and must sum to at most 1.
    ``equivalent_value`` is applied on top to linked services: one customer field written
    differently but equal for the default profile (notation, vocabulary, tolerance).
    """

    missing_at_customer: float = 0.03
    missing_at_supplier: float = 0.03
    field_difference: float = 0.05
    identifier_format: float = 0.04
    order_reference: float = 0.02
    duplicate_supplier: float = 0.01
    duplicate_customer: float = 0.01
    equivalent_value: float = 0.10

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise InvalidRates(self, f"{f.name} must be a probability, got {value!r}")
        if sum(self._exclusive().values()) > 1.0 + 1e-9:
            raise InvalidRates(self, "exclusive noise kinds sum to more than 1")

    def _exclusive(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "equivalent_value"}


@dataclass(frozen=True)
class Expectation:
    """What a correct engine says about one record."""

    expected_class: str
    partner: int | None  # the linked record's index on the other side (matched/partial only)
    rule: str | None  # the identifier rule that links it (matched/partial only)
    differing: tuple[str, ...]  # compared-field names that differ (partial only)


@dataclass(frozen=True)
class GroundTruth:
    """Expected class per record of each side, partners and differing fields of linked pairs.

    Indices are 0-based positions in ``GeneratedPair.supplier`` / ``.customer``.
    """

    supplier_classes: tuple[str, ...]
    customer_classes: tuple[str, ...]
    supplier_partners: tuple[int | None, ...]
    customer_partners: tuple[int | None, ...]
    supplier_rules: tuple[str | None, ...]
    differing: Mapping[int, tuple[str, ...]]  # by supplier index, partial pairs only
    entity_kinds: Mapping[str, int]  # how many services got each noise kind

    def supplier(self, index: int) -> Expectation:
        partner = self.supplier_partners[index]
        return Expectation(
            self.supplier_classes[index],
            partner,
            self.supplier_rules[index],
            self.differing.get(index, ()),
        )

    def customer(self, index: int) -> Expectation:
        partner = self.customer_partners[index]
        if partner is None:
            return Expectation(self.customer_classes[index], None, None, ())
        return Expectation(
            self.customer_classes[index],
            partner,
            self.supplier_rules[partner],
            self.differing.get(partner, ()),
        )

    def counts(self) -> dict[str, dict[str, int]]:
        """Records per class, per side."""
        out: dict[str, dict[str, int]] = {}
        sides = (("supplier", self.supplier_classes), ("customer", self.customer_classes))
        for side, classes in sides:
            out[side] = {name: classes.count(name) for name in CLASSES}
        return out


@dataclass(frozen=True)
class GeneratedPair:
    """The two reports and their truth.

    Records share the nested parts the default profile does not compare (productOffering,
    productSpecification, the nonRecurring price, productTerm, billingAccount) with other
    records: ``copy.deepcopy`` a record before changing one of those in place.
    """

    supplier: list[dict[str, Any]]
    customer: list[dict[str, Any]]
    truth: GroundTruth = field(repr=False)


# --- reference data ---------------------------------------------------------------------

_SITES: tuple[tuple[str, str], ...] = (
    ("FRA1", "Frankfurt Kleyerstrasse"),
    ("FRA2", "Frankfurt Hanauer Landstrasse"),
    ("FRA4", "Frankfurt Gutleutstrasse"),
    ("LON1", "London Telehouse North"),
    ("LON3", "London Docklands"),
    ("LON6", "London Slough Trading Estate"),
    ("AMS1", "Amsterdam Science Park"),
    ("AMS2", "Amsterdam Schiphol-Rijk"),
    ("AMS5", "Amsterdam Zuidoost"),
    ("PAR2", "Paris Aubervilliers"),
    ("PAR7", "Paris Pantin"),
    ("PAR3", "Paris Saint-Denis"),
    ("MAD1", "Madrid Alcobendas"),
    ("MAD3", "Madrid San Blas"),
    ("MIL2", "Milan Caldera"),
    ("MIL1", "Milan Via Savona"),
    ("BER1", "Berlin Lichtenberg"),
    ("MUC1", "Munich Riem"),
    ("HAM1", "Hamburg Wendenstrasse"),
    ("ZRH1", "Zurich Glattbrugg"),
    ("VIE1", "Vienna Floridsdorf"),
    ("WAW1", "Warsaw Ochota"),
    ("PRG1", "Prague Chodov"),
    ("STO2", "Stockholm Kista"),
    ("CPH1", "Copenhagen Ballerup"),
    ("BRU1", "Brussels Zaventem"),
    ("DUB1", "Dublin Clonshaugh"),
    ("LIS1", "Lisbon Prior Velho"),
    ("MRS1", "Marseille La Joliette"),
    ("ATH1", "Athens Peristeri"),
)
_SITE_NAME = dict(_SITES)
_SITE_CODES = tuple(code for code, _ in _SITES)

_SERVICES = ("EPL", "EVPL", "IPT", "WAVELENGTH")
_SERVICE_WEIGHTS = (35, 25, 20, 20)
_SERVICE_NAME = {
    "EPL": "Ethernet Private Line",
    "EVPL": "Ethernet Virtual Private Line",
    "IPT": "IP Transit",
    "WAVELENGTH": "Managed Wavelength",
}
_SPECIFICATION = {
    "EPL": ("carrier-ethernet", "Carrier Ethernet"),
    "EVPL": ("carrier-ethernet", "Carrier Ethernet"),
    "IPT": ("internet-access", "Internet Access"),
    "WAVELENGTH": ("optical-transport", "Optical Transport"),
}
# Customer spellings the default serviceType map sends to the supplier's value.
_SERVICE_ALIASES = {
    "EPL": ("E-LINE", "ETHERNET PRIVATE LINE"),
    "EVPL": (),
    "IPT": ("IP TRANSIT",),
    "WAVELENGTH": ("WAVE",),
}
# The customer's own catalogue codes (productOffering is not compared).
_CUSTOMER_OFFERING = {
    "EPL": ("ETH-P2P", "Ethernet point-to-point"),
    "EVPL": ("ETH-VP2P", "Ethernet virtual point-to-point"),
    "IPT": ("IPT-WHS", "Wholesale IP transit"),
    "WAVELENGTH": ("OPT-WAVE", "Optical wave"),
}
# Bandwidth tiers in Mbps with weights, and a list price in EUR per month for each.
_TIERS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "EPL": ((100, 20, 450), (1000, 50, 900), (10000, 30, 2200)),
    "EVPL": ((100, 30, 350), (1000, 50, 700), (10000, 20, 1800)),
    "IPT": ((1000, 40, 600), (10000, 45, 2500), (100000, 15, 9000)),
    "WAVELENGTH": ((10000, 40, 2800), (100000, 50, 6500), (400000, 10, 16000)),
}
_ALL_TIERS = (100, 1000, 10000, 100000, 400000)
_SETUP_FEE = {"EPL": 500.0, "EVPL": 500.0, "IPT": 250.0, "WAVELENGTH": 1500.0}
_TERMS = (12, 24, 36, 60)
_TERM_WEIGHTS = (15, 30, 40, 15)

_SUP_STATUSES = ("active", "suspended", "pendingTerminate")
_SUP_STATUS_WEIGHTS = (93, 4, 3)
# MEF 116 value the default status map treats as TMF637 "active".
_MEF_EQUIVALENT = {"active": "active.pendingChange"}
_STATUS_DIFFERENT = {
    "active": ("suspended", "terminated", "pendingTerminate"),
    "suspended": ("active", "terminated"),
    "pendingTerminate": ("active", "terminated"),
}

_SUPPLIER_PREFIX = "DTGC"
_CUSTOMER_PREFIX = "VF"
_BILLING_ACCOUNTS = tuple(f"BA-{4700 + k}" for k in range(12))

_KINDS = (
    "clean",
    "missing_at_customer",
    "missing_at_supplier",
    "field_difference",
    "identifier_format",
    "order_reference",
    "duplicate_supplier",
    "duplicate_customer",
)


def _notations(mbps: int) -> tuple[str, ...]:
    if mbps < 1000:
        return (f"{mbps} Mbps", f"{mbps}M")
    g = mbps // 1000
    return (f"{g}G", f"{g} Gbps", f"{mbps} Mbps", f"{g}GE")


_NOTATIONS = {mbps: _notations(mbps) for mbps in _ALL_TIERS}


def _circuit_id(number: int) -> str:
    return f"{_SUPPLIER_PREFIX}-{number:08d}"


def _circuit_variants(number: int) -> tuple[str, ...]:
    """Other spellings of one circuit id that the ``identifier`` normaliser maps to its key.

    Digit runs are never split or joined, so the key is the same whichever order the
    normaliser drops separators and strips leading zeros in.
    """
    digits = f"{number:08d}"
    bare = str(number)
    canonical = _circuit_id(number)
    spellings = (
        f"{_SUPPLIER_PREFIX.lower()}-{digits}",
        f"{_SUPPLIER_PREFIX}-{bare}",
        f"{_SUPPLIER_PREFIX} {digits}",
        f"{_SUPPLIER_PREFIX}_{digits}",
        f"{_SUPPLIER_PREFIX}{digits}",
        f"{_SUPPLIER_PREFIX}.{bare}",
        f"{_SUPPLIER_PREFIX}/{digits}",
        f"Dtgc-0{bare}",
    )
    return tuple(text for text in spellings if text != canonical)


def _distinct_numbers(rng: random.Random, count: int, modulus: int, offset: int) -> list[int]:
    """``count`` distinct, scattered-looking numbers: an affine permutation of ``range(modulus)``
    shifted by ``offset``."""
    if count > modulus:
        raise ValueError(f"cannot draw {count} distinct numbers out of {modulus}")
    while True:
        step = rng.randrange(modulus // 3, modulus - 1)
        if math.gcd(step, modulus) == 1:
            break
    start = rng.randrange(modulus)
    return [offset + (start + step * k) % modulus for k in range(count)]


# The parts of a record the default profile does not compare (offering, specification,
# setup price, term, billing account) are shared between records: at a million records per
# side that halves the memory. Compared parts are always the record's own.
_Shared = tuple[dict[str, Any], dict[str, Any], dict[str, Any], list[Any], dict[str, Any]]


def _shared_parts(
    offering: tuple[str, str], svc: str, term: int, account: str, setup_fee: float
) -> _Shared:
    spec = _SPECIFICATION[svc]
    return (
        {"id": offering[0], "name": offering[1]},
        {"id": spec[0], "name": spec[1]},
        {
            "priceType": "nonRecurring",
            "price": {"dutyFreeAmount": {"unit": "EUR", "value": setup_fee}},
        },
        [{"name": "initial", "duration": {"amount": term, "units": "month"}}],
        {"id": account},
    )


def _site_name(code: str) -> str:
    return _SITE_NAME.get(code) or _SITE_NAME.get(code.strip().upper(), code)


def _record(
    ident: str,
    external_id: str | None,
    status: str,
    start: str,
    termination: str | None,
    shared: _Shared,
    site_a: str,
    site_b: str,
    mrc: float,
    order_id: str,
    bandwidth: str,
    service_type: str,
) -> dict[str, Any]:
    offering, specification, setup_price, term, account = shared
    record: dict[str, Any] = {
        "id": ident,
        "externalId": external_id,
        "status": status,
        "startDate": start,
        "terminationDate": termination,
        "productOffering": offering,
        "productSpecification": specification,
        "place": [
            {"role": "A-End", "id": site_a, "name": _SITE_NAME.get(site_a) or _site_name(site_a)},
            {"role": "B-End", "id": site_b, "name": _SITE_NAME.get(site_b) or _site_name(site_b)},
        ],
        "productPrice": [
            {
                "priceType": "recurring",
                "recurringChargePeriod": "month",
                "price": {"dutyFreeAmount": {"unit": "EUR", "value": mrc}},
            },
            setup_price,
        ],
        "productTerm": term,
        "productOrderItem": [{"productOrderId": order_id, "orderItemId": "1"}],
        "productCharacteristic": [
            {"name": "bandwidth", "value": bandwidth},
            {"name": "serviceType", "value": service_type},
        ],
        "billingAccount": account,
    }
    if external_id is None:
        del record["externalId"]
    return record


def _shuffled_positions(rng: random.Random, size: int) -> list[int]:
    positions = list(range(size))
    rng.shuffle(positions)
    return positions


def generate_pair(
    n: int,
    *,
    seed: int = 7,
    rates: NoiseRates = NoiseRates(),  # noqa: B008 - frozen, so a shared default is safe
    as_of: date = DEFAULT_AS_OF,
) -> GeneratedPair:
    """Generate ``n`` services of one relation as the supplier and the customer report them.

    Each side holds about ``n`` records (fewer by the one-sided services, more by the
    duplicates). Same ``n``, ``seed``, ``rates`` and ``as_of`` give the same pair.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    # Millions of small containers: the cyclic collector would rescan them over and over.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate(n, seed, rates, as_of)
    finally:
        if gc_was_enabled:
            gc.enable()


def _generate(n: int, seed: int, rates: NoiseRates, as_of: date) -> GeneratedPair:
    rng = random.Random(seed)
    rand = rng.random
    choice = rng.choice

    exclusive = rates._exclusive()
    kind_weights = [exclusive.get(kind, 0.0) for kind in _KINDS]
    kind_weights[0] = max(0.0, 1.0 - sum(kind_weights[1:]))
    kinds = rng.choices(_KINDS, weights=kind_weights, k=n) if n else []
    services = rng.choices(_SERVICES, weights=_SERVICE_WEIGHTS, k=n)
    terms = rng.choices(_TERMS, weights=_TERM_WEIGHTS, k=n)
    statuses = rng.choices(_SUP_STATUSES, weights=_SUP_STATUS_WEIGHTS, k=n)
    tier_index = {
        svc: rng.choices(range(3), weights=[t[1] for t in tiers], k=n)
        for svc, tiers in _TIERS.items()
    }
    kind_count = dict.fromkeys(_KINDS, 0)
    for kind in kinds:
        kind_count[kind] += 1
    n_supplier = n - kind_count["missing_at_supplier"] + kind_count["duplicate_supplier"]
    n_customer = n - kind_count["missing_at_customer"] + kind_count["duplicate_customer"]

    span_days = 6 * 365
    first_day = as_of - timedelta(days=span_days)
    days = [first_day + timedelta(days=k) for k in range(span_days)]
    day_texts = [f"{d.isoformat()}T00:00:00Z" for d in days]
    years = [str(d.year) for d in days]
    termination_texts = [f"{(as_of + timedelta(days=k)).isoformat()}T00:00:00Z" for k in range(91)]

    # Circuit numbers are printed with 8 digits; up to 7 significant ones leave leading
    # zeros to strip. Never 0, whose key would be empty.
    circuits = _distinct_numbers(rng, n, 9_999_991 if n < 9_999_991 else 99_999_989, 1)
    width = max(7, len(str(3 * n + 10)))
    orders = _distinct_numbers(rng, n, 9 * 10 ** (width - 1), 10 ** (width - 1))
    customer_ids = [
        f"{_CUSTOMER_PREFIX}-{number}"
        for number in _distinct_numbers(rng, n_customer, 9 * 10 ** (width - 1), 10 ** (width - 1))
    ]

    sup_shared_parts = {
        (svc, term, account): _shared_parts(
            (svc, _SERVICE_NAME[svc]), svc, term, account, _SETUP_FEE[svc]
        )
        for svc in _SERVICES
        for term in _TERMS
        for account in _BILLING_ACCOUNTS
    }
    cus_shared_parts = {
        (svc, term, account): _shared_parts(
            _CUSTOMER_OFFERING[svc], svc, term, account, _SETUP_FEE[svc]
        )
        for svc in _SERVICES
        for term in _TERMS
        for account in _BILLING_ACCOUNTS
    }

    # Records go straight to their shuffled positions: the k-th supplier record generated
    # lands at sup_at[k], so partners are known in final positions when a pair is linked.
    sup_at = _shuffled_positions(rng, n_supplier)
    cus_at = _shuffled_positions(rng, n_customer)
    supplier: list[dict[str, Any]] = [{}] * n_supplier
    customer: list[dict[str, Any]] = [{}] * n_customer
    sup_class: list[str] = [""] * n_supplier
    cus_class: list[str] = [""] * n_customer
    sup_partner: list[int | None] = [None] * n_supplier
    cus_partner: list[int | None] = [None] * n_customer
    sup_rule: list[str | None] = [None] * n_supplier
    differing_by_supplier: dict[int, tuple[str, ...]] = {}
    s_next = c_next = 0  # records generated so far on each side

    n_sites = len(_SITE_CODES)
    n_accounts = len(_BILLING_ACCOUNTS)
    equivalent_rate = rates.equivalent_value

    for i in range(n):
        kind = kinds[i]
        svc = services[i]
        mbps, _, list_price = _TIERS[svc][tier_index[svc][i]]
        status = statuses[i]
        a_idx = int(rand() * n_sites)
        b_idx = (a_idx + 1 + int(rand() * (n_sites - 1))) % n_sites
        site_a, site_b = _SITE_CODES[a_idx], _SITE_CODES[b_idx]
        day_index = int(rand() * span_days)
        start = day_texts[day_index]
        termination = None
        if status == "pendingTerminate":
            termination = termination_texts[30 + int(rand() * 61)]
        # List price times a route/discount factor, kept to whole cents.
        mrc = round(list_price * (0.8 + 0.5 * rand()), 2)
        term = terms[i]
        account = _BILLING_ACCOUNTS[int(rand() * n_accounts)]
        number = circuits[i]
        circuit = f"{_SUPPLIER_PREFIX}-{number:08d}"
        order_id = f"PO-{years[day_index]}-{orders[i]}"  # orders[i] has `width` digits
        notations = _NOTATIONS[mbps]
        sup_bw = notations[int(rand() * len(notations))]
        sup_shared = sup_shared_parts[svc, term, account]
        cus_shared = cus_shared_parts[svc, term, account]
        sup_record = _record(
            circuit, None, status, start, termination, sup_shared,
            site_a, site_b, mrc, order_id, sup_bw, svc,
        )  # fmt: skip
        # The customer's compared values start as an exact copy of the supplier's.
        values: tuple[Any, ...] = (status, start, sup_bw, svc, mrc, site_a, site_b)
        external_id: str | None = circuit
        cus_order = order_id
        rule = RULE_CIRCUIT_ID
        differing: tuple[str, ...] = ()

        if kind == "clean":
            if rand() < equivalent_rate:
                c = dict(zip(_VALUE_NAMES, values, strict=True))
                _equivalent(c, svc, status, mbps, rand, choice, avoid=None)
                values = tuple([c[name] for name in _VALUE_NAMES])
        elif kind == "identifier_format":
            external_id = choice(_circuit_variants(number))
        elif kind == "field_difference" or kind == "order_reference":
            differ = kind == "field_difference"
            if kind == "order_reference":
                rule = RULE_ORDER_REFERENCE
                external_id = None
                if rand() < 0.5:
                    cus_order = _order_variant(order_id, rand)
                differ = rand() < _ORDER_REFERENCE_PARTIAL_SHARE
            target = choice(_DIFFERABLE) if differ else None
            c = dict(zip(_VALUE_NAMES, values, strict=True))
            if rand() < equivalent_rate:
                _equivalent(c, svc, status, mbps, rand, choice, avoid=target)
            if target is not None:
                _differ(c, target, svc, status, mbps, days[day_index], rand, choice)
                differing = (target,)
            values = tuple([c[name] for name in _VALUE_NAMES])
        else:
            # One-sided and duplicated services: no links, every record has one class.
            sup_records: list[dict[str, Any]] = []
            cus_records: list[dict[str, Any]] = []
            if kind == "missing_at_customer":
                klass = MISSING_AT_CUSTOMER
                sup_records.append(sup_record)
            elif kind == "missing_at_supplier":
                # The customer still holds a circuit the supplier no longer reports.
                klass = MISSING_AT_SUPPLIER
                cus_records.append(
                    _customer_record(
                        customer_ids[c_next], circuit, values, termination, cus_shared, order_id
                    )
                )
            elif kind == "duplicate_supplier":
                # Reported twice: two separate but equal records.
                klass = AMBIGUOUS
                twin = _record(
                    circuit, None, status, start, termination, sup_shared,
                    site_a, site_b, mrc, order_id, sup_bw, svc,
                )  # fmt: skip
                sup_records += (sup_record, twin)
                cus_records.append(
                    _customer_record(
                        customer_ids[c_next], circuit, values, termination, cus_shared, order_id
                    )
                )
            else:  # duplicate_customer: two customer records claim the circuit and its order
                klass = AMBIGUOUS
                sup_records.append(sup_record)
                for k, spelled in enumerate((circuit, choice(_circuit_variants(number)))):
                    cus_records.append(
                        _customer_record(
                            customer_ids[c_next + k],
                            spelled,
                            values,
                            termination,
                            cus_shared,
                            order_id,
                        )
                    )
            for record in sup_records:
                at = sup_at[s_next]
                s_next += 1
                supplier[at] = record
                sup_class[at] = klass
            for record in cus_records:
                at = cus_at[c_next]
                c_next += 1
                customer[at] = record
                cus_class[at] = klass
            continue

        cus_record = _customer_record(
            customer_ids[c_next], external_id, values, termination, cus_shared, cus_order
        )
        if external_id is None and rand() < 0.5:
            cus_record["externalId"] = None  # an explicit null as well as an absent key
        klass = PARTIAL if differing else MATCHED
        s_at, c_at = sup_at[s_next], cus_at[c_next]
        s_next += 1
        c_next += 1
        supplier[s_at] = sup_record
        sup_class[s_at] = klass
        sup_partner[s_at] = c_at
        sup_rule[s_at] = rule
        customer[c_at] = cus_record
        cus_class[c_at] = klass
        cus_partner[c_at] = s_at
        if differing:
            differing_by_supplier[s_at] = differing

    assert s_next == n_supplier and c_next == n_customer  # the counts above are exact
    truth = GroundTruth(
        supplier_classes=tuple(sup_class),
        customer_classes=tuple(cus_class),
        supplier_partners=tuple(sup_partner),
        customer_partners=tuple(cus_partner),
        supplier_rules=tuple(sup_rule),
        differing=MappingProxyType(differing_by_supplier),
        entity_kinds=MappingProxyType(kind_count),
    )
    return GeneratedPair(supplier, customer, truth)


# The customer's compared values, in the order the generator carries them.
_VALUE_NAMES = (
    "status",
    "startDate",
    "bandwidth",
    "serviceType",
    "recurringCharge",
    "siteA",
    "siteB",
)


def _customer_record(
    ident: str,
    external_id: str | None,
    values: tuple[Any, ...],
    termination: str | None,
    shared: _Shared,
    order_id: str,
) -> dict[str, Any]:
    status, start, bandwidth, service_type, mrc, site_a, site_b = values
    return _record(
        ident, external_id, status, start, termination, shared,
        site_a, site_b, mrc, order_id, bandwidth, service_type,
    )  # fmt: skip


def _order_variant(order_id: str, rand: Any) -> str:
    # Case and separator changes only: digit runs stay as they are (see _circuit_variants).
    pick = int(rand() * 3)
    if pick == 0:
        return order_id.lower()
    if pick == 1:
        return order_id.replace("-", "_")
    return order_id.replace("-", " ")


def _equivalent(
    c: dict[str, Any], svc: str, status: str, mbps: int, rand: Any, choice: Any, avoid: str | None
) -> None:
    """Write one customer field differently but equal for the default profile."""
    options = ["bandwidth", "recurringCharge", "startDate", "siteA", "siteB"]
    if status in _MEF_EQUIVALENT:
        options.append("status")
    if _SERVICE_ALIASES[svc]:
        options.append("serviceType")
    if avoid in options:
        options.remove(avoid)
    target = choice(options)
    if target == "bandwidth":
        c["bandwidth"] = choice([t for t in _NOTATIONS[mbps] if t != c["bandwidth"]])
    elif target == "recurringCharge":
        # Four-decimal price (annual list price / 12): well inside the 0.01 EUR tolerance.
        delta = (1 + int(rand() * 49)) / 10_000 * (1 if rand() < 0.5 else -1)
        c["recurringCharge"] = round(c["recurringCharge"] + delta, 4)
    elif target == "startDate":
        day_text = c["startDate"][:10]
        c["startDate"] = choice((day_text, f"{day_text}T09:30:00Z", f"{day_text}T01:00:00+01:00"))
    elif target in ("siteA", "siteB"):
        c[target] = c[target].lower() if rand() < 0.7 else f" {c[target]} "
    elif target == "status":
        c["status"] = _MEF_EQUIVALENT[status]
    else:
        c["serviceType"] = choice(_SERVICE_ALIASES[svc])


def _differ(
    c: dict[str, Any],
    target: str,
    svc: str,
    status: str,
    mbps: int,
    start_day: date,
    rand: Any,
    choice: Any,
) -> None:
    """Make one customer field differ beyond every tolerance of the default profile."""
    if target == "status":
        c["status"] = choice(_STATUS_DIFFERENT[status])
    elif target == "bandwidth":
        other = choice([t for t in _ALL_TIERS if t != mbps])
        c["bandwidth"] = choice(_NOTATIONS[other])
    elif target == "recurringCharge":
        sup = c["recurringCharge"]
        factor = 1 + (0.05 + 0.2 * rand()) * (1 if rand() < 0.5 else -1)
        value = round(sup * factor, 2)
        if abs(value - sup) < 1:
            value = round(sup + 25, 2)
        c["recurringCharge"] = value
    elif target == "startDate":
        shift = (3 + int(rand() * 58)) * (1 if rand() < 0.5 else -1)
        c["startDate"] = f"{(start_day + timedelta(days=shift)).isoformat()}T00:00:00Z"
    elif target in ("siteA", "siteB"):
        current = c[target].strip().upper()
        c[target] = choice([code for code in _SITE_CODES if code != current])
    else:
        c["serviceType"] = choice([s for s in _SERVICES if s != svc])
