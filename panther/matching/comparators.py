"""Comparators: whether a supplier and a customer value of one compared field agree.

A comparator names the normaliser it compares through and gives the same predicate twice:
as a SQL expression over the normalised columns (what the set-based engine runs, never per
pair in Python) and as a Python function (what the reference implementation runs).

Missing values are handled once for every comparator (`agree` / `agree_sql`): two missing or
two unparseable-but-identical values agree; a missing or unparseable value against a usable
one differs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

from . import normalisers
from .normalisers import decimal_text

__all__ = [
    "Comparator",
    "UnknownComparator",
    "agree",
    "agree_sql",
    "get",
    "names",
    "normalised_json",
    "normalised_json_sql",
    "register",
]

ParamsCheck = Callable[[Mapping[str, Any]], list[str]]


@dataclass(frozen=True)
class UnknownComparator(KeyError):
    name: str

    def __str__(self) -> str:
        return f"unknown comparator {self.name!r}"


@dataclass(frozen=True)
class Comparator:
    """A registered comparator.

    `sql(s, c, params)` and `python(s, c, params)` decide agreement of two non-missing
    normalised values; `normaliser_params(params)` is what the field's normaliser gets.
    """

    name: str
    normaliser: str
    sql: Callable[[str, str, Mapping[str, Any]], str]
    python: Callable[[Any, Any, Mapping[str, Any]], bool]
    check_params: ParamsCheck
    normaliser_params: Callable[[Mapping[str, Any]], Mapping[str, Any]]


_REGISTRY: dict[str, Comparator] = {}


def register(
    name: str,
    normaliser: str,
    *,
    sql: Callable[[str, str, Mapping[str, Any]], str],
    python: Callable[[Any, Any, Mapping[str, Any]], bool],
    check_params: ParamsCheck | None = None,
    normaliser_params: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
) -> Comparator:
    comparator = Comparator(
        name,
        normaliser,
        sql,
        python,
        check_params or _no_params,
        normaliser_params or _nothing,
    )
    _REGISTRY[name] = comparator
    return comparator


def get(name: str) -> Comparator:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownComparator(name) from None


def names() -> list[str]:
    return sorted(_REGISTRY)


def agree(
    comparator: str,
    supplier: Any,
    customer: Any,
    supplier_raw: str | None,
    customer_raw: str | None,
    params: Mapping[str, Any],
) -> bool:
    """Python form: normalised values plus their raw JSON texts (None when missing)."""
    if supplier is None and customer is None:
        return supplier_raw == customer_raw
    if supplier is None or customer is None:
        return False
    return bool(get(comparator).python(supplier, customer, params))


def agree_sql(
    comparator: str, s: str, c: str, s_raw: str, c_raw: str, params: Mapping[str, Any]
) -> str:
    """SQL form over column expressions (normalised s, c and raw JSON texts)."""
    test = get(comparator).sql(s, c, params)
    return (
        f"(CASE WHEN {s} IS NULL AND {c} IS NULL THEN {s_raw} IS NOT DISTINCT FROM {c_raw}"
        f" WHEN {s} IS NULL OR {c} IS NULL THEN false ELSE coalesce({test}, false) END)"
    )


def normalised_json(normaliser: str, value: Any) -> Any:
    """The JSON form of a normalised value as it appears in a difference."""
    if value is None:
        return None
    if normaliser == "bandwidth":
        return int(value)
    if normaliser == "number":
        return decimal_text(value)
    if normaliser == "money":
        currency, amount = value
        return f"{currency} {decimal_text(amount)}"
    if normaliser == "date":
        return value.isoformat() if isinstance(value, date) else str(value)
    return str(value)


def _decimal_sql(expr: str) -> str:
    # DECIMAL(38,10) text always carries 10 decimals; drop trailing zeros, then a bare dot.
    return f"rtrim(rtrim(CAST({expr} AS VARCHAR), '0'), '.')"


def normalised_json_sql(normaliser: str, expr: str) -> str:
    """SQL producing the JSON text of a normalised value (the literal null when missing)."""
    if normaliser == "bandwidth":
        body = f"CAST({expr} AS VARCHAR)"
    elif normaliser == "number":
        body = f"'\"' || {_decimal_sql(expr)} || '\"'"
    elif normaliser == "money":
        body = f"'\"' || {expr}.currency || ' ' || {_decimal_sql(f'{expr}.value')} || '\"'"
    elif normaliser == "date":
        body = f"'\"' || strftime({expr}, '%Y-%m-%d') || '\"'"
    else:
        body = f"CAST(to_json(CAST({expr} AS VARCHAR)) AS VARCHAR)"
    return f"coalesce({body}, 'null')"


# -- parameters --------------------------------------------------------------------------


def _no_params(params: Mapping[str, Any]) -> list[str]:
    return [f"unknown parameter {key!r}" for key in params]


def _nothing(params: Mapping[str, Any]) -> Mapping[str, Any]:
    return {}


_MAX_TOLERANCE_DECIMALS = 10


def _tolerance(params: Mapping[str, Any], key: str) -> Decimal:
    # A decimal string or a JSON number (a float read as its shortest repr); checked first.
    return normalisers.decimal_param(params.get(key, 0)) or Decimal(0)


def _check_tolerance(params: Mapping[str, Any]) -> list[str]:
    problems = [f"unknown parameter {k!r}" for k in params if k not in ("absolute", "relative")]
    for key, upper in (("absolute", Decimal(10) ** 17), ("relative", Decimal(1))):
        if key not in params:
            continue
        value = normalisers.decimal_param(params[key])
        if value is None:
            problems.append(f"{key} must be a decimal string or a number")
            continue
        exponent = value.as_tuple().exponent
        if not value.is_finite() or not isinstance(exponent, int):
            problems.append(f"{key} must be finite")
        elif value < 0 or value > upper:
            problems.append(f"{key} must be between 0 and {upper}")
        elif -exponent > _MAX_TOLERANCE_DECIMALS:
            problems.append(f"{key} has more than {_MAX_TOLERANCE_DECIMALS} decimals")
    return problems


def _within_sql(s: str, c: str, params: Mapping[str, Any]) -> str:
    absolute, relative = _tolerance(params, "absolute"), _tolerance(params, "relative")
    terms = []
    if absolute:
        terms.append(f"abs({s} - {c}) <= CAST('{absolute:f}' AS DECIMAL(38,10))")
    if relative:
        terms.append(
            f"abs({s} - {c}) <= greatest(abs({s}), abs({c})) "
            f"* CAST('{relative:f}' AS DECIMAL(11,10))"
        )
    if not terms:
        return f"{s} = {c}"
    return "(" + " OR ".join(terms) + ")"


def _within(s: Decimal, c: Decimal, params: Mapping[str, Any]) -> bool:
    # Same rule as math.isclose, exactly: |s - c| <= max(absolute, relative * max(|s|, |c|)).
    with localcontext() as ctx:
        ctx.prec = 100
        difference = abs(s - c)
        limit = max(
            _tolerance(params, "absolute"),
            _tolerance(params, "relative") * max(abs(s), abs(c)),
        )
        return difference <= limit


def _check_days(params: Mapping[str, Any]) -> list[str]:
    problems = [f"unknown parameter {k!r}" for k in params if k not in ("toleranceDays", "day")]
    days = params.get("toleranceDays", 0)
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        problems.append("toleranceDays must be a non-negative integer")
    return problems + normalisers.check_date_params({k: params[k] for k in ("day",) if k in params})


def _equal_sql(s: str, c: str, params: Mapping[str, Any]) -> str:
    return f"{s} = {c}"


def _equal(s: Any, c: Any, params: Mapping[str, Any]) -> bool:
    return bool(s == c)


def _enum_params(params: Mapping[str, Any]) -> Mapping[str, Any]:
    return params


register("exact", "exact", sql=_equal_sql, python=_equal)
register("normalisedText", "text", sql=_equal_sql, python=_equal)
register("bandwidth", "bandwidth", sql=_equal_sql, python=_equal)
register("address", "address", sql=_equal_sql, python=_equal)
register(
    "enum",
    "enum",
    sql=_equal_sql,
    python=_equal,
    check_params=normalisers.get("enum").check_params,
    normaliser_params=_enum_params,
)
register("number", "number", sql=_within_sql, python=_within, check_params=_check_tolerance)
_CONVERSION = ("currency", "rates", "taxRate")


def _check_money(params: Mapping[str, Any]) -> list[str]:
    tolerance = {k: v for k, v in params.items() if k not in _CONVERSION}
    conversion = {k: v for k, v in params.items() if k in _CONVERSION}
    return _check_tolerance(tolerance) + normalisers.check_money_params(conversion)


register(
    "money",
    "money",
    # A currency difference is always a difference, whatever the tolerance: amounts are
    # compared in the relation's currency only when its terms give the rate (params
    # currency and rates; taxRate for a price given with tax included).
    sql=lambda s, c, p: (
        f"({s}.currency = {c}.currency AND {_within_sql(f'{s}.value', f'{c}.value', p)})"
    ),
    python=lambda s, c, p: s[0] == c[0] and _within(s[1], c[1], p),
    check_params=_check_money,
    normaliser_params=lambda p: {k: p[k] for k in _CONVERSION if k in p},
)
register(
    "date",
    "date",
    sql=lambda s, c, p: f"abs(date_diff('day', {s}, {c})) <= {int(p.get('toleranceDays', 0))}",
    python=lambda s, c, p: abs((s - c).days) <= int(p.get("toleranceDays", 0)),
    check_params=_check_days,
    # Which calendar day a date-time is on (as written, or in UTC) is the normaliser's rule.
    normaliser_params=lambda p: {"day": p["day"]} if "day" in p else {},
)
