"""Seeded pairs of carrier inventories (supplier and customer view of one relation) with the
ground truth a correct engine using the default match profile must produce.

`generate_pair` keeps to what the default profile handles; `generate_noisy_pair` adds every
kind of noise carriers produce (prefixed identifiers, swapped ends, other currencies and
tax-included prices, own status words, links by site/service/bandwidth only) and returns the
relation's profile that reconciles it.

Every service of the relation is an *entity*; each entity gets exactly one noise kind (or none)
and the truth follows from the kind, never from running a matcher. Field values are built so
that the default profile's normalisers and comparators either surely agree (equivalent
notations, tolerances well inside their bounds) or surely disagree (differences well outside).
"""

from __future__ import annotations

import gc
import json
import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any

__all__ = [
    "AMBIGUOUS",
    "CLASSES",
    "COMPARED_FIELDS",
    "ENDS_SWAPPED",
    "Expectation",
    "GeneratedPair",
    "GroundTruth",
    "InvalidRates",
    "LINK_NOISE",
    "MATCHED",
    "MISSING_AT_CUSTOMER",
    "MISSING_AT_SUPPLIER",
    "NOISE_KINDS",
    "NoiseRates",
    "NoisyPair",
    "PARTIAL",
    "RULE_CIRCUIT_ID",
    "RULE_COMPOSITE",
    "RULE_ORDER_REFERENCE",
    "UnknownNoiseKind",
    "VALUE_NOISE",
    "generate_noisy_pair",
    "generate_pair",
    "noisy_profile",
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
RULE_COMPOSITE = "siteServiceBandwidth"
# The reason of a matched or partial item whose A-end and B-end agree only when crossed.
ENDS_SWAPPED = "endsSwapped"
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
    # The customer mistyped one digit of the circuit id (or swapped two) and kept no order
    # reference: both records are left over, and the fuzzy rule proposes them as a candidate
    # pair (``GroundTruth.candidates``).
    identifier_typo: float = 0.01
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
    reason: str | None = None  # ENDS_SWAPPED on a linked pair whose ends are crossed
    noise: str = ""  # the noise kinds that touched the record, comma-separated (noisy pairs)


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
    entity_kinds: Mapping[str, int]  # how many services got each (exclusive) noise kind
    # By supplier index, linked pairs with a reason only (ENDS_SWAPPED).
    reasons: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))
    # How many linked services got each value noise kind (noisy pairs).
    value_kinds: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    # Per record, the noise kinds that touched it, comma-separated (noisy pairs; else empty).
    supplier_noise: tuple[str, ...] = ()
    customer_noise: tuple[str, ...] = ()
    # Supplier index -> customer index of the left-over records whose circuit ids differ by a
    # typo: the default profile's fuzzy rule proposes each as a candidate pair (they stay
    # missingAtCustomer and missingAtSupplier: a candidate is never a match).
    candidates: Mapping[int, int] = field(default_factory=lambda: MappingProxyType({}))

    def supplier(self, index: int) -> Expectation:
        partner = self.supplier_partners[index]
        return Expectation(
            self.supplier_classes[index],
            partner,
            self.supplier_rules[index],
            self.differing.get(index, ()),
            self.reasons.get(index),
            self.supplier_noise[index] if self.supplier_noise else "",
        )

    def customer(self, index: int) -> Expectation:
        partner = self.customer_partners[index]
        noise = self.customer_noise[index] if self.customer_noise else ""
        if partner is None:
            return Expectation(self.customer_classes[index], None, None, (), None, noise)
        return Expectation(
            self.customer_classes[index],
            partner,
            self.supplier_rules[partner],
            self.differing.get(partner, ()),
            self.reasons.get(partner),
            noise,
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
# A wider catalogue (FRA1 ... FRA400 in every city above) for the records a composite
# site/service/bandwidth rule must not link by chance: services reported by one side only,
# and the noisy pair's services linked by that rule. Thirty sites give a few thousand
# composite keys; these give hundreds of millions.
_CITY_NAMES: dict[str, str] = {}
for _code, _name in _SITES:
    _CITY_NAMES.setdefault(_code.rstrip("0123456789"), _name.split()[0])
_WIDE_SITE_CODES = tuple(f"{city}{k}" for city in _CITY_NAMES for k in range(1, 401))
for _code in _WIDE_SITE_CODES:
    _SITE_NAME.setdefault(_code, f"{_CITY_NAMES[_code.rstrip('0123456789')]} {_code}")
del _code, _name

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
# Separators are folded by the enum normaliser: "Ethernet-Private-Line" is "ETHERNET PRIVATE
# LINE", "E_VPL" is "EVPL".
_SERVICE_ALIASES = {
    "EPL": ("E-LINE", "ETHERNET PRIVATE LINE", "Ethernet-Private-Line", "ethernet_private_line"),
    "EVPL": ("E_VPL", "Ethernet-Virtual-Private-Line"),
    "IPT": ("IP TRANSIT", "ip-transit", "IP_Transit"),
    "WAVELENGTH": ("WAVE", "Managed-Wavelength"),
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
# MEF 116 value the default status map treats as TMF637 "active", and other separators (the
# enum normaliser drops hyphens, underscores and spaces and ignores case).
_MEF_EQUIVALENT = {
    "active": ("active.pendingChange", "Active"),
    "suspended": ("SUSPENDED",),
    "pendingTerminate": ("pending-terminate", "PENDING_TERMINATE", "Pending Terminate"),
}
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
    "identifier_typo",
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
        # Unicode dashes (hyphen, en dash, minus sign) and full-width forms, as a word
        # processor or an Asian-locale system writes them: folded by the normaliser.
        f"{_SUPPLIER_PREFIX}\u2010{digits}",
        f"{_SUPPLIER_PREFIX}\u2013{digits}",
        f"{_SUPPLIER_PREFIX}\u2212{bare}",
        _full_width(f"{_SUPPLIER_PREFIX}-{digits}"),
    )
    return tuple(text for text in spellings if text != canonical)


def _full_width(text: str) -> str:
    """ASCII letters, digits and '-' as their full-width forms (U+FF01..U+FF5E)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _typo(number: int, rand: Any, taken: set[int]) -> int:
    """Another circuit number one or two edits away from ``number`` (one significant digit
    changed, or two adjacent different digits swapped) that is none of ``taken``."""
    digits = list(str(number))
    while True:
        out = digits[:]
        at = int(rand() * len(out))
        if rand() < 0.5 and at + 1 < len(out) and out[at] != out[at + 1]:
            out[at], out[at + 1] = out[at + 1], out[at]
        else:
            out[at] = "0123456789"[(int(out[at]) + 1 + int(rand() * 9)) % 10]
        if out[0] != "0":  # a leading zero would be stripped: a deletion, not a typo
            typo = int("".join(out))
            if typo not in taken:
                return typo


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
    unit: str = "EUR",
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
                "price": {"dutyFreeAmount": {"unit": unit, "value": mrc}},
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


class _OpenKeys:
    """Site pairs from the wide catalogue whose composite key (unordered sites, service,
    bandwidth) no other record drawn here has."""

    def __init__(self, rng: random.Random) -> None:
        self._rand = rng.random
        self._used: set[tuple[str, str, str, int]] = set()

    def draw(self, svc: str, mbps: int) -> tuple[str, str]:
        codes, size, rand = _WIDE_SITE_CODES, len(_WIDE_SITE_CODES), self._rand
        while True:
            a = int(rand() * size)
            b = (a + 1 + int(rand() * (size - 1))) % size
            site_a, site_b = codes[a], codes[b]
            key = (min(site_a, site_b), max(site_a, site_b), svc, mbps)
            if key not in self._used:
                self._used.add(key)
                return site_a, site_b

    def draw_two(self, svc: str, mbps: int, other_mbps: int) -> tuple[str, str]:
        """Sites open for both bandwidths (the two keys of a service each side records
        with its own bandwidth)."""
        while True:
            site_a, site_b = self.draw(svc, mbps)
            other = (min(site_a, site_b), max(site_a, site_b), svc, other_mbps)
            if other not in self._used:
                self._used.add(other)
                return site_a, site_b


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
    candidates: dict[int, int] = {}
    taken: set[int] | None = None  # every circuit number and typo, once a typo is drawn
    s_next = c_next = 0  # records generated so far on each side

    n_sites = len(_SITE_CODES)
    n_accounts = len(_BILLING_ACCOUNTS)
    equivalent_rate = rates.equivalent_value
    # One-sided services take their sites from a stream of their own, so every other record
    # is what it was before the composite rule existed.
    one_sided = _OpenKeys(random.Random(f"one-sided-{seed}"))

    for i in range(n):
        kind = kinds[i]
        svc = services[i]
        mbps, _, list_price = _TIERS[svc][tier_index[svc][i]]
        status = statuses[i]
        a_idx = int(rand() * n_sites)
        b_idx = (a_idx + 1 + int(rand() * (n_sites - 1))) % n_sites
        site_a, site_b = _SITE_CODES[a_idx], _SITE_CODES[b_idx]
        other_mbps = mbps
        if kind == "missing_at_customer" or kind == "missing_at_supplier":
            # Left open by the identifier rules: a composite key of its own, or the
            # site/service/bandwidth rule would link it to another side's leftover.
            site_a, site_b = one_sided.draw(svc, mbps)
        elif kind == "identifier_typo":
            # The customer records another bandwidth too (the service before an upgrade),
            # so the site/service/bandwidth rule does not link the pair either.
            other_mbps = choice([t[0] for t in _TIERS[svc] if t[0] != mbps])
            site_a, site_b = one_sided.draw_two(svc, mbps, other_mbps)
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
        values: tuple[Any, ...] = (status, start, sup_bw, svc, mrc, site_a, site_b, "EUR")
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
            elif kind == "identifier_typo":
                if taken is None:
                    taken = set(circuits)
                typo = _typo(number, rand, taken)
                taken.add(typo)
                spelled = _circuit_id(typo)
                if rand() < 0.5:
                    spelled = choice(_circuit_variants(typo))
                c = dict(zip(_VALUE_NAMES, values, strict=True))
                c["bandwidth"] = choice(_NOTATIONS[other_mbps])
                typo_record = _customer_record(
                    customer_ids[c_next],
                    spelled,
                    tuple([c[name] for name in _VALUE_NAMES]),
                    termination,
                    cus_shared,
                    order_id,
                )
                del typo_record["productOrderItem"]  # nor the order reference
                s_at, c_at = sup_at[s_next], cus_at[c_next]
                s_next += 1
                c_next += 1
                supplier[s_at], sup_class[s_at] = sup_record, MISSING_AT_CUSTOMER
                customer[c_at], cus_class[c_at] = typo_record, MISSING_AT_SUPPLIER
                candidates[s_at] = c_at
                continue
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
        candidates=MappingProxyType(candidates),
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
    "currency",  # the recurring price's unit (part of recurringCharge)
)


def _customer_record(
    ident: str,
    external_id: str | None,
    values: tuple[Any, ...],
    termination: str | None,
    shared: _Shared,
    order_id: str,
) -> dict[str, Any]:
    status, start, bandwidth, service_type, mrc, site_a, site_b, unit = values
    return _record(
        ident, external_id, status, start, termination, shared,
        site_a, site_b, mrc, order_id, bandwidth, service_type, unit,
    )  # fmt: skip


def _order_variant(order_id: str, rand: Any) -> str:
    # Case and separator changes only: digit runs stay as they are (see _circuit_variants).
    pick = int(rand() * 4)
    if pick == 0:
        return order_id.lower()
    if pick == 1:
        return order_id.replace("-", "_")
    if pick == 2:
        return order_id.replace("-", "\u2013")  # an en dash: folded to "-"
    return order_id.replace("-", " ")


def _equivalent(
    c: dict[str, Any], svc: str, status: str, mbps: int, rand: Any, choice: Any, avoid: str | None
) -> None:
    """Write one customer field differently but equal for the default profile."""
    options = ["bandwidth", "recurringCharge", "startDate", "siteA", "siteB", "currency"]
    if status in _MEF_EQUIVALENT:
        options.append("status")
    if _SERVICE_ALIASES[svc]:
        options.append("serviceType")
    if avoid in options:
        options.remove(avoid)
    if avoid == "recurringCharge":
        options.remove("currency")
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
        c["status"] = choice(_MEF_EQUIVALENT[status])
    elif target == "currency":
        # ISO 4217 codes are upper case; carriers' exports are not always.
        c["currency"] = choice(("eur", "Eur"))
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


# --- the noisy pair ---------------------------------------------------------------------

# How a service's records link (one kind per service, like NoiseRates' exclusive kinds).
LINK_NOISE: tuple[str, ...] = (
    "missing_at_customer",
    "missing_at_supplier",
    "field_difference",  # one compared field differs: partial
    "identifier_format",  # the customer spells the circuit id differently
    "identifier_prefix",  # the customer's system prefixes the circuit id (stripPrefixes)
    "order_reference",  # no circuit id at the customer: linked by the order reference
    "composite_key",  # neither: linked by A/B sites, service type and bandwidth
    "duplicate_supplier",  # the supplier reports the circuit twice: ambiguous
    "duplicate_customer",  # two customer records claim the circuit: ambiguous
    "composite_ambiguous",  # two customer records without ids fit one service: ambiguous
)
# Values a linked customer record writes differently but equal for the relation's profile
# (any number per service, each drawn on its own).
VALUE_NOISE: tuple[str, ...] = (
    "ends_swapped",  # A-end and B-end crossed (point-to-point services): reason endsSwapped,
    # also with one end changed (then that end alone differs)
    "bandwidth_notation",  # 10G / 10 Gbps / 10000 Mbps / 10GE
    "service_alias",  # the customer's name for the service type
    "site_format",  # site code case and surrounding whitespace
    "status_vocabulary",  # MEF 116 values and the customer's own status words
    "currency",  # the price in USD or GBP at the relation's rates
    "tax_included",  # only taxIncludedAmount, at the relation's tax rate
    "price_rounding",  # four decimals, inside the money tolerance
    "start_time",  # the start date as a date-time, another offset
)
NOISE_KINDS: tuple[str, ...] = LINK_NOISE + VALUE_NOISE


@dataclass(frozen=True)
class UnknownNoiseKind(ValueError):
    kind: str

    def __str__(self) -> str:
        return f"unknown noise kind {self.kind!r}; known: {', '.join(NOISE_KINDS)}"


@dataclass(frozen=True)
class NoisyPair(GeneratedPair):
    """A generated pair plus the match profile document (a dict) of its relation: the
    default profile with this relation's prefixes, currency, rates, tax rate, the
    customer's status words and service aliases."""

    profile: dict[str, Any] = field(default_factory=dict, repr=False)


_RELATION_CURRENCY = "EUR"
_RATES = {"USD": "0.92", "GBP": "1.17"}  # one unit in EUR
_RATE_FLOAT = {unit: float(rate) for unit, rate in _RATES.items()}
_TAX_RATE = "0.19"
_TAX_FACTOR = 1 + float(_TAX_RATE)
# An amount the customer writes in another currency or gross of tax is rounded to cents;
# kept only when it is back within this much of the supplier's EUR amount (half the 0.01
# tolerance: it still agrees if an engine rounds the converted amount to cents).
_CONVERSION_SLACK = 0.005

_CUSTOMER_ID_PREFIX = "VF"
_PREFIX_SPELLINGS = ("VF-", "VF ", "vf-", "VF/", "VF_")
# The customer's own status words, mapped by the relation's profile; MEF 116 values the
# default status map already knows.
_OWN_STATUS = {
    "active": ("In Service", "LIVE"),
    "suspended": ("On Hold",),
    "pendingTerminate": ("Cease Pending",),
    "terminated": ("Ceased",),
}
_OWN_STATUS_MAP = {
    "IN SERVICE": "active",
    "LIVE": "active",
    "ON HOLD": "suspended",
    "CEASE PENDING": "pendingTerminate",
    "CEASED": "terminated",
}
_MEF_STATUS = {"active": "active.pendingChange", "suspended": "suspendedPendingTerminate"}
_NOISY_SERVICE_ALIASES = {
    "EPL": ("E-Line", "ETHERNET PRIVATE LINE"),
    "EVPL": ("EVP-Line", "Ethernet Virtual Private Line"),
    "IPT": ("IP Transit", "Internet Transit"),
    "WAVELENGTH": ("Wave", "Lambda", "Optical Wavelength"),
}
_EXTRA_SERVICE_MAP = {
    "EVP-LINE": "EVPL",
    "ETHERNET VIRTUAL PRIVATE LINE": "EVPL",
    "INTERNET TRANSIT": "IPT",
    "LAMBDA": "WAVELENGTH",
    "OPTICAL WAVELENGTH": "WAVELENGTH",
}
_POINT_TO_POINT = frozenset({"EPL", "EVPL", "WAVELENGTH"})
# Fields a composite-linked pair may differ in: not its key's.
_NON_KEY_DIFFERABLE = ("status", "startDate", "recurringCharge")
_PATH_SERVICE_TYPE = "productCharacteristic[name=serviceType].value"
_PATH_RECURRING = "productPrice[priceType=recurring].price"


def noisy_profile() -> dict[str, Any]:
    """The match profile document for `generate_noisy_pair`'s relation.

    The default profile (its three identifier rules and swappable ends) plus what this
    relation agreed: the prefix the customer's system puts before circuit ids, the
    customer's status words and service aliases, and prices compared in EUR at the
    relation's rates and tax rate.
    """
    from importlib import resources

    text = resources.files("panther.matching").joinpath("default_profile.json").read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    doc["name"] = "noisy-relation"
    rules = {rule["name"]: rule for rule in doc["identifierRules"]}
    for component in rules[RULE_CIRCUIT_ID]["customer"]:
        component.setdefault("params", {})["stripPrefixes"] = [_CUSTOMER_ID_PREFIX]
    for rule in doc["identifierRules"]:
        for component in rule["supplier"] + rule["customer"]:
            if component["field"] == _PATH_SERVICE_TYPE and component.get("normaliser") == "enum":
                component.setdefault("params", {}).setdefault("map", {}).update(_EXTRA_SERVICE_MAP)
    for compared in doc["comparedFields"]:
        params = compared.setdefault("params", {})
        if compared["name"] == "status":
            params.setdefault("map", {}).update(_OWN_STATUS_MAP)
        elif compared["name"] == "serviceType":
            params.setdefault("map", {}).update(_EXTRA_SERVICE_MAP)
        elif compared["name"] == "recurringCharge":
            compared.pop("supplierField", None)
            compared.pop("customerField", None)
            compared["field"] = _PATH_RECURRING
            params.update(currency=_RELATION_CURRENCY, rates=dict(_RATES), taxRate=_TAX_RATE)
        if not params:
            del compared["params"]
    doc.setdefault("swappablePairs", [["siteA", "siteB"]])
    return doc


def generate_noisy_pair(
    n: int,
    *,
    seed: int = 7,
    kinds: Iterable[str] = NOISE_KINDS,
    share: float = 0.03,
    as_of: date = DEFAULT_AS_OF,
) -> NoisyPair:
    """``n`` services with every noise kind in `kinds`, each on about `share` of them.

    Link kinds (`LINK_NOISE`) are exclusive per service; value kinds (`VALUE_NOISE`) are
    drawn independently for each linked service. The truth holds for the returned
    ``profile``; same arguments give the same pair.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    chosen = tuple(dict.fromkeys(kinds))
    for kind in chosen:
        if kind not in NOISE_KINDS:
            raise UnknownNoiseKind(kind)
    exclusive = sum(1 for kind in chosen if kind in LINK_NOISE)
    if not 0.0 <= share <= 1.0 or share * exclusive > 1.0 + 1e-9:
        raise ValueError(f"share {share!r} is not a probability for {exclusive} exclusive kinds")
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _NoisyGenerator(n, seed, frozenset(chosen), share, as_of).run()
    finally:
        if gc_was_enabled:
            gc.enable()


def _price_object(eur: float, currency: str, gross: bool) -> dict[str, Any]:
    value = eur if currency == _RELATION_CURRENCY else eur / _RATE_FLOAT[currency]
    if gross:
        value *= _TAX_FACTOR
    member = "taxIncludedAmount" if gross else "dutyFreeAmount"
    return {member: {"unit": currency, "value": round(value, 2)}}


def _back_in_eur(price: dict[str, Any]) -> float:
    ((member, amount),) = price.items()
    value = float(amount["value"])
    if member == "taxIncludedAmount":
        value /= _TAX_FACTOR
    if amount["unit"] != _RELATION_CURRENCY:
        value *= _RATE_FLOAT[amount["unit"]]
    return value


class _NoisyGenerator:
    """One run of `generate_noisy_pair` (state shared by the per-service steps)."""

    def __init__(
        self, n: int, seed: int, chosen: frozenset[str], share: float, as_of: date
    ) -> None:
        self.n, self.chosen, self.share = n, chosen, share
        self.rng = rng = random.Random(f"noisy-{seed}")
        self.rand, self.choice = rng.random, rng.choice
        link = [kind for kind in LINK_NOISE if kind in chosen]
        weights = [share] * len(link) + [max(0.0, 1.0 - share * len(link))]
        self.kinds = rng.choices([*link, "clean"], weights=weights, k=n) if n else []
        self.values = [kind for kind in VALUE_NOISE if kind in chosen]
        self.kind_count = dict.fromkeys(("clean", *LINK_NOISE), 0)
        for kind in self.kinds:
            self.kind_count[kind] += 1
        self.value_count = dict.fromkeys(VALUE_NOISE, 0)
        count = self.kind_count
        self.n_supplier = n - count["missing_at_supplier"] + count["duplicate_supplier"]
        self.n_customer = (
            n
            - count["missing_at_customer"]
            + count["duplicate_customer"]
            + count["composite_ambiguous"]
        )
        span_days = 6 * 365
        first_day = as_of - timedelta(days=span_days)
        self.days = [first_day + timedelta(days=k) for k in range(span_days)]
        self.termination_texts = [
            f"{(as_of + timedelta(days=k)).isoformat()}T00:00:00Z" for k in range(91)
        ]
        self.circuits = _distinct_numbers(rng, n, 9_999_991 if n < 9_999_991 else 99_999_989, 1)
        width = max(7, len(str(3 * n + 10)))
        self.orders = _distinct_numbers(rng, n, 9 * 10 ** (width - 1), 10 ** (width - 1))
        self.customer_ids = [
            f"{_CUSTOMER_PREFIX}-{number}"
            for number in _distinct_numbers(
                rng, self.n_customer, 9 * 10 ** (width - 1), 10 ** (width - 1)
            )
        ]
        self.shared = {
            side: {
                (svc, term, account): _shared_parts(
                    offering(svc), svc, term, account, _SETUP_FEE[svc]
                )
                for svc in _SERVICES
                for term in _TERMS
                for account in _BILLING_ACCOUNTS
            }
            for side, offering in (
                ("supplier", lambda svc: (svc, _SERVICE_NAME[svc])),
                ("customer", lambda svc: _CUSTOMER_OFFERING[svc]),
            )
        }
        self.open_keys = _OpenKeys(rng)
        self.sup_at = _shuffled_positions(rng, self.n_supplier)
        self.cus_at = _shuffled_positions(rng, self.n_customer)
        self.supplier: list[dict[str, Any]] = [{}] * self.n_supplier
        self.customer: list[dict[str, Any]] = [{}] * self.n_customer
        self.sup_class = [""] * self.n_supplier
        self.cus_class = [""] * self.n_customer
        self.sup_noise = [""] * self.n_supplier
        self.cus_noise = [""] * self.n_customer
        self.sup_partner: list[int | None] = [None] * self.n_supplier
        self.cus_partner: list[int | None] = [None] * self.n_customer
        self.sup_rule: list[str | None] = [None] * self.n_supplier
        self.differing: dict[int, tuple[str, ...]] = {}
        self.reasons: dict[int, str] = {}
        self.s_next = self.c_next = 0

    # -- placing records ---------------------------------------------------------------

    def put_supplier(self, record: dict[str, Any], klass: str, noise: str) -> int:
        at = self.sup_at[self.s_next]
        self.s_next += 1
        self.supplier[at], self.sup_class[at], self.sup_noise[at] = record, klass, noise
        return at

    def put_customer(self, record: dict[str, Any], klass: str, noise: str) -> int:
        at = self.cus_at[self.c_next]
        self.c_next += 1
        self.customer[at], self.cus_class[at], self.cus_noise[at] = record, klass, noise
        return at

    def next_customer_id(self) -> str:
        return self.customer_ids[self.c_next]

    # -- one service -------------------------------------------------------------------

    def run(self) -> NoisyPair:
        rng, rand = self.rng, self.rand
        n = self.n
        services = rng.choices(_SERVICES, weights=_SERVICE_WEIGHTS, k=n)
        terms = rng.choices(_TERMS, weights=_TERM_WEIGHTS, k=n)
        statuses = rng.choices(_SUP_STATUSES, weights=_SUP_STATUS_WEIGHTS, k=n)
        n_wide = len(_WIDE_SITE_CODES)
        for i in range(n):
            kind = self.kinds[i]
            svc = services[i]
            tiers = _TIERS[svc]
            mbps, _, list_price = tiers[rng.choices(range(3), weights=[t[1] for t in tiers])[0]]
            if kind in ("missing_at_customer", "missing_at_supplier", "composite_key",
                        "composite_ambiguous"):  # fmt: skip
                # Open when the composite rule runs: a composite key no other record has.
                site_a, site_b = self.open_keys.draw(svc, mbps)
            else:
                a = int(rand() * n_wide)
                site_a = _WIDE_SITE_CODES[a]
                site_b = _WIDE_SITE_CODES[(a + 1 + int(rand() * (n_wide - 1))) % n_wide]
            day = self.days[int(rand() * len(self.days))]
            status = statuses[i]
            termination = None
            if status == "pendingTerminate":
                termination = self.termination_texts[30 + int(rand() * 61)]
            service = _Service(
                kind=kind,
                svc=svc,
                mbps=mbps,
                status=status,
                day=day,
                termination=termination,
                site_a=site_a,
                site_b=site_b,
                mrc=round(list_price * (0.8 + 0.5 * rand()), 2),
                term=terms[i],
                account=_BILLING_ACCOUNTS[int(rand() * len(_BILLING_ACCOUNTS))],
                number=self.circuits[i],
                order_id=f"PO-{day.year}-{self.orders[i]}",
                bandwidth=self.choice(_NOTATIONS[mbps]),
            )
            if kind in ("clean", "field_difference", "identifier_format", "identifier_prefix",
                        "order_reference", "composite_key"):  # fmt: skip
                self.linked(service)
            else:
                self.unlinked(service)
        assert self.s_next == self.n_supplier and self.c_next == self.n_customer
        truth = GroundTruth(
            supplier_classes=tuple(self.sup_class),
            customer_classes=tuple(self.cus_class),
            supplier_partners=tuple(self.sup_partner),
            customer_partners=tuple(self.cus_partner),
            supplier_rules=tuple(self.sup_rule),
            differing=MappingProxyType(self.differing),
            entity_kinds=MappingProxyType(self.kind_count),
            reasons=MappingProxyType(self.reasons),
            value_kinds=MappingProxyType(self.value_count),
            supplier_noise=tuple(self.sup_noise),
            customer_noise=tuple(self.cus_noise),
        )
        return NoisyPair(self.supplier, self.customer, truth, noisy_profile())

    def supplier_record(self, s: _Service) -> dict[str, Any]:
        return _record(
            _circuit_id(s.number), None, s.status, f"{s.day.isoformat()}T00:00:00Z",
            s.termination, self.shared["supplier"][s.svc, s.term, s.account],
            s.site_a, s.site_b, s.mrc, s.order_id, s.bandwidth, s.svc,
        )  # fmt: skip

    def customer_record(
        self, s: _Service, external_id: str | None, order_id: str | None, v: _Values | None = None
    ) -> dict[str, Any]:
        v = v or _Values.of(s)
        record = _record(
            self.next_customer_id(), external_id, v.status, v.start, s.termination,
            self.shared["customer"][s.svc, s.term, s.account],
            v.site_a, v.site_b, 0.0, order_id or "", v.bandwidth, v.service_type,
        )  # fmt: skip
        record["productPrice"][0]["price"] = v.price
        if order_id is None:
            del record["productOrderItem"]
        return record

    def linked(self, s: _Service) -> None:
        rand, choice = self.rand, self.choice
        kind = s.kind
        circuit = _circuit_id(s.number)
        external_id: str | None = circuit
        order_id: str | None = s.order_id
        rule = RULE_CIRCUIT_ID
        target: str | None = None
        if kind == "identifier_format":
            external_id = choice(_circuit_variants(s.number))
        elif kind == "identifier_prefix":
            spelled = circuit if rand() < 0.5 else choice(_circuit_variants(s.number))
            external_id = choice(_PREFIX_SPELLINGS) + spelled
        elif kind == "field_difference":
            target = choice(_DIFFERABLE)
        elif kind == "order_reference":
            rule, external_id = RULE_ORDER_REFERENCE, None
            if rand() < 0.5:
                order_id = _order_variant(s.order_id, rand)
            if rand() < _ORDER_REFERENCE_PARTIAL_SHARE:
                target = choice(_DIFFERABLE)
        elif kind == "composite_key":  # the customer kept neither circuit id nor order
            rule, external_id, order_id = RULE_COMPOSITE, None, None
            if rand() < _ORDER_REFERENCE_PARTIAL_SHARE:
                target = choice(_NON_KEY_DIFFERABLE)
        applied = [kind for kind in self.values if rand() < self.share]
        v = _Values.of(s)
        if target is not None:
            self.differ(v, s, target)
        applied = self.respell(v, s, applied, target)
        noise = ",".join((kind, *applied)) if kind != "clean" or applied else ""
        cus_record = self.customer_record(s, external_id, order_id, v)
        if external_id is None and rule == RULE_ORDER_REFERENCE and rand() < 0.5:
            cus_record["externalId"] = None  # an explicit null as well as an absent key
        klass = PARTIAL if target else MATCHED
        s_at = self.put_supplier(self.supplier_record(s), klass, noise)
        c_at = self.put_customer(cus_record, klass, noise)
        self.sup_partner[s_at], self.cus_partner[c_at] = c_at, s_at
        self.sup_rule[s_at] = rule
        if target:
            self.differing[s_at] = (target,)
        if "ends_swapped" in applied:
            self.reasons[s_at] = ENDS_SWAPPED
        for name in applied:
            self.value_count[name] += 1

    def differ(self, v: _Values, s: _Service, target: str) -> None:
        """Make one customer value differ beyond every tolerance of the profile."""
        choice, rand = self.choice, self.rand
        if target == "status":
            v.status_value = choice(_STATUS_DIFFERENT[s.status])
            v.status = v.status_value
        elif target == "bandwidth":
            v.mbps = choice([t for t in _ALL_TIERS if t != s.mbps])
            v.bandwidth = choice(_NOTATIONS[v.mbps])
        elif target == "recurringCharge":
            factor = 1 + (0.05 + 0.2 * rand()) * (1 if rand() < 0.5 else -1)
            value = round(s.mrc * factor, 2)
            if abs(value - s.mrc) < 1:
                value = round(s.mrc + 25, 2)
            v.eur = value
            v.price = _price_object(value, _RELATION_CURRENCY, False)
        elif target == "startDate":
            shift = (3 + int(rand() * 58)) * (1 if rand() < 0.5 else -1)
            v.start = f"{(s.day + timedelta(days=shift)).isoformat()}T00:00:00Z"
            v.start_shifted = True
        elif target in ("siteA", "siteB"):
            # Never the other end: a difference, not a pair whose ends are merely crossed.
            while True:
                code = _WIDE_SITE_CODES[int(rand() * len(_WIDE_SITE_CODES))]
                if code not in (s.site_a, s.site_b):
                    break
            if target == "siteA":
                v.site_a = code
            else:
                v.site_b = code
        else:
            v.service = choice([x for x in _SERVICES if x != s.svc])
            v.service_type = v.service

    def respell(self, v: _Values, s: _Service, wanted: list[str], target: str | None) -> list[str]:
        """Apply the wanted value noise that fits this service; returns what was applied."""
        choice, rand = self.choice, self.rand
        applied = []
        for kind in wanted:
            if kind == "ends_swapped":
                if s.svc not in _POINT_TO_POINT:
                    continue
                # With a changed end (target siteA or siteB) the pair is half-crossed: the
                # match reports the ends swapped and only the changed end as differing.
                v.site_a, v.site_b = v.site_b, v.site_a
            elif kind == "bandwidth_notation":
                v.bandwidth = choice([t for t in _NOTATIONS[v.mbps] if t != v.bandwidth])
            elif kind == "service_alias":
                v.service_type = choice(_NOISY_SERVICE_ALIASES[v.service])
            elif kind == "site_format":
                which = int(rand() * 3)
                if which != 1:
                    v.site_a = v.site_a.lower() if rand() < 0.6 else f" {v.site_a} "
                if which != 0:
                    v.site_b = v.site_b.lower() if rand() < 0.6 else f"  {v.site_b}"
            elif kind == "status_vocabulary":
                words = _OWN_STATUS[v.status_value]
                mef = _MEF_STATUS.get(v.status_value)
                v.status = choice((*words, mef) if mef else words)
            elif kind == "start_time":
                if v.start_shifted:
                    continue
                day_text = s.day.isoformat()
                v.start = choice((f"{day_text}T09:30:00Z", f"{day_text}T01:00:00+01:00"))
            elif kind == "currency" or kind == "tax_included":
                currency = v.price_currency()
                if kind == "currency":
                    currency = choice(sorted(_RATES))
                gross = kind == "tax_included" or v.price_gross()
                price = _price_object(v.eur, currency, gross)
                if abs(_back_in_eur(price) - v.eur) > _CONVERSION_SLACK:
                    if kind == "tax_included":
                        continue
                    price = _price_object(v.eur, "USD", gross)  # 0.92: always close enough
                v.price = price
            elif kind == "price_rounding":
                if target == "recurringCharge" or v.price_currency() != _RELATION_CURRENCY:
                    continue
                if v.price_gross():
                    continue
                # Four decimals (annual price / 12): well inside the 0.01 EUR tolerance.
                delta = (1 + int(rand() * 49)) / 10_000 * (1 if rand() < 0.5 else -1)
                v.price = {
                    "dutyFreeAmount": {"unit": _RELATION_CURRENCY, "value": round(v.eur + delta, 4)}
                }
            applied.append(kind)
        return applied

    def unlinked(self, s: _Service) -> None:
        kind = s.kind
        circuit = _circuit_id(s.number)
        if kind == "missing_at_customer":
            self.put_supplier(self.supplier_record(s), MISSING_AT_CUSTOMER, kind)
        elif kind == "missing_at_supplier":
            # The customer still holds a circuit the supplier no longer reports.
            record = self.customer_record(s, circuit, s.order_id)
            self.put_customer(record, MISSING_AT_SUPPLIER, kind)
        elif kind == "duplicate_supplier":
            for _ in range(2):
                self.put_supplier(self.supplier_record(s), AMBIGUOUS, kind)
            self.put_customer(self.customer_record(s, circuit, s.order_id), AMBIGUOUS, kind)
        elif kind == "duplicate_customer":
            self.put_supplier(self.supplier_record(s), AMBIGUOUS, kind)
            other = self.choice(_circuit_variants(s.number))
            if self.rand() < 0.5:
                other = self.choice(_PREFIX_SPELLINGS) + other
            for spelled in (circuit, other):
                record = self.customer_record(s, spelled, s.order_id)
                self.put_customer(record, AMBIGUOUS, kind)
        else:  # composite_ambiguous: two circuits between the same sites, neither with ids
            self.put_supplier(self.supplier_record(s), AMBIGUOUS, kind)
            for crossed in (False, s.svc in _POINT_TO_POINT):
                v = _Values.of(s)
                if crossed:
                    v.site_a, v.site_b = v.site_b, v.site_a
                self.put_customer(self.customer_record(s, None, None, v), AMBIGUOUS, kind)


@dataclass(frozen=True)
class _Service:
    """One service of the relation as the supplier reports it."""

    kind: str
    svc: str
    mbps: int
    status: str
    day: date
    termination: str | None
    site_a: str
    site_b: str
    mrc: float
    term: int
    account: str
    number: int
    order_id: str
    bandwidth: str


@dataclass
class _Values:
    """The customer's compared values of one service: canonical, then as written."""

    status_value: str  # canonical (TMF637) status
    status: str
    start: str
    mbps: int
    bandwidth: str
    service: str  # canonical service code
    service_type: str
    site_a: str
    site_b: str
    eur: float
    price: dict[str, Any]
    start_shifted: bool = False

    @classmethod
    def of(cls, s: _Service) -> _Values:
        return cls(
            status_value=s.status,
            status=s.status,
            start=f"{s.day.isoformat()}T00:00:00Z",
            mbps=s.mbps,
            bandwidth=s.bandwidth,
            service=s.svc,
            service_type=s.svc,
            site_a=s.site_a,
            site_b=s.site_b,
            eur=s.mrc,
            price=_price_object(s.mrc, _RELATION_CURRENCY, False),
        )

    def price_currency(self) -> str:
        ((_, amount),) = self.price.items()
        return str(amount["unit"])

    def price_gross(self) -> bool:
        return "taxIncludedAmount" in self.price
