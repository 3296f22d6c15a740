"""Vectorised twins of the match pipeline's per-record Python, for reports of millions of rows.

`extract_json` equals `engine.extract` over `orjson.loads` of stored record texts, and
`item_columns` equals the per-item canonical JSON and columns a match run stores; both do
the common rows in DuckDB and Arrow and hand only unusual values to the Python definitions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from panther.inventory.paths import FieldPath, compile_path, fold_selector
from panther.ledger.canonical import canonical_json

from . import normalisers
from .engine import (
    _META_PROFILE,
    _META_SIDE,
    MatchResult,
    Side,
    _key_text,
    _rule_key,
    extract,
)
from .profile import MatchProfile

__all__ = ["InvalidRecordText", "ItemColumns", "extract_json", "item_columns", "item_leaves"]


@dataclass(frozen=True)
class InvalidRecordText(ValueError):
    """A stored record text is not valid JSON (`position` counts from the first body given)."""

    position: int
    reason: str

    def __str__(self) -> str:
        return f"record {self.position}: {self.reason}"


# -- extract_json ------------------------------------------------------------------------
#
# Every field path of the profile is evaluated in one DuckDB pass: `json_transform` parses
# each record once into a struct shaped after the paths (leaves typed JSON, so a leaf keeps
# its JSON type), and list selectors become `list_filter(...)[1]`. Where paths disagree on the
# shape of a node (a leaf in one path and an object in another, or a list in one and an object
# in another), that node stays JSON text and the rest of the path runs on the text with
# `json_extract`. Each path yields the JSON text of its value, null when missing or JSON null.
#
# Arrow then turns the texts into what `engine.extract` gets from the Python values. A JSON
# string without a backslash is its content between quotes; everything else (escapes,
# numbers, objects) is decoded with orjson, once per distinct text.


@dataclass
class _Node:
    """One object level of the paths: key -> how paths continue below that key."""

    children: dict[str, _Child] = field(default_factory=dict)

    def child(self, key: str) -> _Child:
        return self.children.setdefault(key, _Child())

    def typed(self) -> bool:
        # DuckDB struct field names are case-insensitive: "id" and "ID" cannot be siblings.
        lowered = {key.lower() for key in self.children}
        return len(lowered) == len(self.children)


@dataclass
class _Child:
    leaf: bool = False
    obj: _Node | None = None  # continued by a plain key step
    elem: _Node | None = None  # continued through a list index or selector

    def is_json(self) -> bool:
        shapes = int(self.leaf) + int(self.obj is not None) + int(self.elem is not None)
        if shapes != 1:
            return True
        below = self.obj or self.elem
        return below is not None and not below.typed()


def _tree(paths: Sequence[FieldPath]) -> _Node:
    root = _Node()
    for path in paths:
        node = root
        for position, step in enumerate(path.steps):
            child = node.child(step.key)
            last = position == len(path.steps) - 1
            if step.index is None and step.attr is None:
                if last:
                    child.leaf = True
                    break
                node = child.obj = child.obj or _Node()
                continue
            node = child.elem = child.elem or _Node()
            if step.attr is not None:
                node.child(step.attr).leaf = True
            if last:  # paths.py refuses a path ending in a list element; keep the text
                child.leaf = True
    return root


def _structure(node: _Node) -> str:
    parts = []
    for key, child in node.children.items():
        if child.is_json():
            kind = '"JSON"'
        elif child.obj is not None:
            kind = _structure(child.obj)
        elif child.elem is not None:
            kind = "[" + _structure(child.elem) + "]"
        else:
            kind = '"JSON"'
        parts.append(json.dumps(key) + ":" + kind)
    return "{" + ",".join(parts) + "}"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _json_key(key: str) -> str:
    # Path keys are [A-Za-z0-9@_-] (paths.py), so a quoted JSONPath member needs no escaping.
    return _lit(f'$."{key}"')


_UPPER, _LOWER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"


def _select(elements: str, attr_of: Callable[[str], str], value: str, var: str) -> str:
    """SQL: the element of the list `elements` that paths.py selects by `attr_of(element)`
    (JSON) and `value`: the first one that is exactly the string `value`, else the first one
    equal to it with ASCII letters folded.

    Folding (`translate`) over every element of every record doubled the cost of an extract;
    COALESCE evaluates its second argument only for the rows where the first is null, so the
    fold is paid only by records without an exact match. Both JSON texts are folded, so
    escapes spelt in either case compare equal.
    """
    exact_json = f"to_json(CAST({_lit(value)} AS VARCHAR))"
    folded_json = f"CAST(to_json(CAST({_lit(fold_selector(value))} AS VARCHAR)) AS VARCHAR)"
    exact, near = f"{var}a", f"{var}b"

    def folded(expr: str) -> str:
        return f"translate({expr}, {_lit(_UPPER)}, {_lit(_LOWER)})"

    found = folded(f"CAST({attr_of(near)} AS VARCHAR)")
    return (
        f"coalesce(list_filter({elements}, lambda {exact}: {attr_of(exact)} = {exact_json})[1], "
        f"list_filter({elements}, lambda {near}: {found} = {folded(folded_json)})[1])"
    )


def _struct_field(attr: str) -> Callable[[str], str]:
    def field_of(element: str) -> str:
        return f"struct_extract({element}, {_lit(attr)})"

    return field_of


def _json_select(expr: str, attr: str, value: str, var: str) -> str:
    """The first element of JSON list `expr` whose `attr` is the JSON string `value`."""
    selected = _select(
        f"CAST({expr} AS JSON[])",
        lambda element: f"json_extract({element}, {_json_key(attr)})",
        value,
        var,
    )
    return f"(CASE WHEN json_type({expr}) = 'ARRAY' THEN {selected} END)"


def _path_sql(path: FieldPath, root: _Node, root_typed: bool, counter: list[int]) -> str:
    expr, node, typed = "r", root, root_typed
    for step in path.steps:
        counter[0] += 1
        var = f"x{counter[0]}"
        if typed:
            child = node.children[step.key]
            expr = f"struct_extract({expr}, {_lit(step.key)})"
            if child.is_json():
                typed = False
            elif step.index is not None:
                expr = f"list_extract({expr}, {step.index + 1})"
                node = child.elem or _Node()
                continue
            elif step.attr is not None and step.value is not None:
                expr = _select(expr, _struct_field(step.attr), step.value, var)
                node = child.elem or _Node()
                continue
            else:
                node = child.obj or _Node()
                continue
        else:
            expr = f"json_extract({expr}, {_json_key(step.key)})"
        # Untyped from here on: the rest of this step runs on JSON text.
        if step.index is not None:
            expr = f"json_extract({expr}, {_lit(f'$[{step.index}]')})"
        elif step.attr is not None and step.value is not None:
            expr = _json_select(expr, step.attr, step.value, var)
    return f"nullif(CAST({expr} AS VARCHAR), 'null')"


@dataclass(frozen=True)
class _Values:
    """One path's values over the report: JSON text, and the content of plain strings."""

    text: pa.Array  # string; null when missing or JSON null
    is_string: pa.Array  # bool, never null
    escaped: pa.Array  # bool, never null: the text holds a backslash
    plain: pa.Array  # bool, never null: a JSON string without escapes
    content: pa.Array  # string between the quotes where `plain`, else null

    @classmethod
    def of(cls, text: pa.Array) -> _Values:
        is_string = pc.fill_null(pc.starts_with(text, '"'), False)
        escaped = pc.fill_null(pc.match_substring(text, "\\"), False)
        plain = pc.and_(is_string, pc.invert(escaped))
        content = pc.utf8_slice_codeunits(pc.if_else(plain, text, None), 1, -1)
        return cls(text, is_string, escaped, plain, content)

    def all_plain(self) -> bool:
        return int(self.text.null_count) + _count(self.plain) == len(self.text)


def _count(mask: pa.Array) -> int:
    return int(pc.sum(mask).as_py() or 0)


def _decode_all(texts: list[str | None]) -> list[Any]:
    loads = orjson.loads
    return [None if t is None else loads(t) for t in texts]


def _by_distinct(texts: pa.Array, fn: Callable[[list[Any]], pa.Array], *, decode: bool) -> pa.Array:
    """`fn` over the distinct values of `texts` (JSON texts if `decode`), spread back."""
    encoded = pc.dictionary_encode(texts)
    distinct: list[Any] = encoded.dictionary.to_pylist()
    if decode:
        distinct = _decode_all(distinct)
    distinct.append(None)  # the missing value, for null rows
    mapped = fn(distinct)
    indices = pc.fill_null(encoded.indices, len(distinct) - 1)
    return pc.take(mapped, indices)


def _patch(
    fast: pa.Array, slow: pa.Array, texts: pa.Array, fn: Callable[[list[Any]], pa.Array]
) -> pa.Array:
    """`fast` with the rows flagged `slow` replaced by `fn` over their decoded texts."""
    if not _count(slow):
        return fast
    replacement = _by_distinct(pc.filter(texts, slow), fn, decode=True)
    return _replace(fast, slow, replacement)


def _replace(base: pa.Array, mask: pa.Array, replacement: pa.Array) -> pa.Array:
    """`base` with its `mask` rows replaced by `replacement` in order (any Arrow type)."""
    flagged = pc.cast(mask, pa.int64())
    others = pc.cast(pc.invert(mask), pa.int64())
    own = pc.subtract(pc.cumulative_sum(pc.add(flagged, others)), 1)
    moved = pc.add(pc.cumulative_sum(flagged), len(base) - 1)
    positions = pc.if_else(mask, moved, own)
    return pa.concat_arrays([base, replacement.cast(base.type)]).take(positions)


# Number tokens orjson and DuckDB's writer may spell differently (exponents, long digit runs).
_RISKY_NUMBER = r"[0-9][eE]|[0-9]{16}"


def _raw(values: _Values) -> pa.Array:
    """`normalisers.raw_json` of every row's value."""
    text = values.text
    # A plain string is its own raw JSON unless blank; a first character that is visible
    # ASCII proves it is not (anything else is left to Python, which knows str.strip).
    first = pc.utf8_slice_codeunits(values.content, 0, 1)
    visible = pc.fill_null(pc.and_(pc.greater_equal(first, "!"), pc.less_equal(first, "~")), False)
    keep = pc.and_(values.plain, visible)
    other = pc.and_(pc.is_valid(text), pc.invert(values.is_string))
    if _count(other):
        # Numbers, objects and lists: DuckDB wrote the text; it is orjson's text unless it
        # holds escapes or a number the two spell differently.
        other_text = pc.if_else(other, text, pa.scalar(None, pa.string()))
        risky = pc.fill_null(pc.match_substring_regex(other_text, _RISKY_NUMBER), False)
        clean = pc.invert(pc.or_(values.escaped, risky))
        keep = pc.or_(keep, pc.and_(other, clean))
    fast = pc.if_else(keep, text, pa.scalar(None, pa.string()))
    slow = pc.and_(pc.is_valid(text), pc.invert(keep))
    return _patch(fast, slow, text, _raw_texts)


def _raw_texts(values: list[Any]) -> pa.Array:
    return pa.array([normalisers.raw_json(v) for v in values], pa.string())


def _python_column(name: str, params: Mapping[str, Any]) -> Callable[[list[Any]], pa.Array]:
    def apply(values: list[Any]) -> pa.Array:
        return normalisers.normalise_column(name, values, params)

    return apply


# Decimal values as `normalisers._decimal` gives them, where Arrow's cast is provably equal.
_INT_TOKEN = r"^-?(0|[1-9][0-9]{0,16})$"
_FLOAT_TOKEN = r"^-?[0-9]{1,17}\.[0-9]{1,10}$"
_DECIMAL_STRING = r"^ *-?[0-9]{1,17}(\.[0-9]{1,10})? *$"
_NUMBER_START = r"^[-0-9]"


@dataclass(frozen=True)
class _Decided:
    """A vectorised result: values where decided, and the rows left to Python."""

    values: pa.Array
    none: pa.Array  # bool: surely None
    slow: pa.Array  # bool: undecided


def _decimals(values: _Values) -> _Decided:
    text, content, plain = values.text, values.content, values.plain
    number = pc.fill_null(pc.match_substring_regex(text, _NUMBER_START), False)
    integer = pc.fill_null(pc.match_substring_regex(text, _INT_TOKEN), False)
    floating = pc.fill_null(pc.match_substring_regex(text, _FLOAT_TOKEN), False)
    # orjson reads a float token to the same double DuckDB wrote it from; with at most 15
    # significant digits (here: at most 16 characters) Decimal(repr(that float)) is the
    # token's own value (DBL_DIG), so the cast below cannot differ from Python's route.
    short = pc.fill_null(pc.less_equal(pc.binary_length(text), 16), False)
    floating = pc.and_(floating, short)
    numeric_string = pc.and_(
        plain, pc.fill_null(pc.match_substring_regex(content, _DECIMAL_STRING), False)
    )
    token = pc.if_else(
        numeric_string,
        pc.utf8_trim(content, " "),
        pc.if_else(pc.or_(integer, floating), text, pa.scalar(None, pa.string())),
    )
    decided = pc.or_(numeric_string, pc.or_(integer, floating))
    # Strings, numbers and nothing else can become a decimal: true, false, objects, lists
    # and missing values are None.
    is_string = pc.fill_null(pc.starts_with(text, '"'), False)
    none = pc.invert(pc.or_(number, is_string))
    none = pc.or_(none, pc.is_null(text))
    slow = pc.invert(pc.or_(decided, none))
    cast = pc.cast(token, normalisers.DECIMAL_TYPE)
    return _Decided(cast, none, slow)


def _number_column(values: _Values, params: Mapping[str, Any]) -> pa.Array:
    decided = _decimals(values)
    return _patch(decided.values, decided.slow, values.text, _python_column("number", params))


def _money_column(
    values: _Values, unit: _Values, amount: _Values, params: Mapping[str, Any]
) -> pa.Array:
    is_object = pc.fill_null(pc.starts_with(values.text, "{"), False)
    currency_ok = pc.and_(
        unit.plain, pc.fill_null(pc.match_substring_regex(unit.content, "^ *[A-Za-z]{3} *$"), False)
    )
    ascii_unit = pc.and_(unit.plain, pc.fill_null(pc.string_is_ascii(unit.content), False))
    # A string unit with escapes or beyond ASCII goes to Python (str.strip and str.upper
    # know more than ASCII); any other unit (number, missing, ...) is surely not a currency.
    unit_string = pc.fill_null(pc.starts_with(unit.text, '"'), False)
    unit_slow = pc.and_(unit_string, pc.invert(ascii_unit))
    unit_none = pc.invert(pc.or_(currency_ok, unit_slow))
    # An object without a unit may be a TMF Price (dutyFreeAmount / taxIncludedAmount):
    # the scalar normaliser reads it.
    price_like = pc.and_(is_object, pc.is_null(unit.text))
    decided = _decimals(amount)
    none = pc.and_(
        pc.or_(pc.invert(is_object), pc.or_(unit_none, decided.none)), pc.invert(price_like)
    )
    slow = pc.or_(price_like, pc.and_(pc.invert(none), pc.or_(unit_slow, decided.slow)))
    ok = pc.invert(pc.or_(none, slow))
    currency = pc.utf8_upper(pc.utf8_trim(unit.content, " "))
    fast = pa.StructArray.from_arrays(
        [
            pc.if_else(ok, currency, pa.scalar(None, pa.string())),
            pc.if_else(ok, decided.values, pa.scalar(None, normalisers.DECIMAL_TYPE)),
        ],
        fields=list(normalisers.MONEY_TYPE),
        mask=pc.invert(ok),
    )
    return _patch(fast, slow, values.text, _python_column("money", params))


def _normalised(
    name: str,
    params: Mapping[str, Any],
    values: _Values,
    money_parts: tuple[_Values, _Values] | None,
) -> pa.Array:
    normaliser = normalisers.get(name)
    if money_parts is not None and not params:
        return _money_column(values, *money_parts, params)
    if normaliser.scalar is normalisers.number:
        return _number_column(values, params)
    if values.all_plain():
        strings = values.content
        # The built-in string normalisers take an Arrow string array as it is: their column
        # paths run Arrow compute on ASCII rows and the scalar definition (Unicode folding
        # first) on the distinct values of the others. Any other goes by distinct values.
        if normaliser.scalar in _ARROW_READY and normaliser.column is not None:
            fast = normaliser.column(strings, params)
            if fast is not None:
                return fast
        return _by_distinct(strings, _python_column(name, params), decode=False)
    return _by_distinct(values.text, _python_column(name, params), decode=True)


_ARROW_READY = (normalisers.identifier, normalisers.text, normalisers.enum)


def _is_builtin_money(name: str) -> bool:
    return normalisers.get(name).scalar is normalisers.money


def _bodies_table(bodies: pa.Array | pa.ChunkedArray) -> pa.Table:
    kind = bodies.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        raise TypeError(f"bodies must be a string or large_string array, not {kind}")
    return pa.table({"body": bodies})


def _first_invalid(bodies: pa.Array | pa.ChunkedArray) -> InvalidRecordText:
    for position, body in enumerate(bodies.to_pylist()):
        try:
            orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return InvalidRecordText(position, str(exc))
        except TypeError:
            return InvalidRecordText(position, "missing record text")
    return InvalidRecordText(-1, "not valid JSON")


def extract_json(
    bodies: pa.Array | pa.ChunkedArray,
    profile: MatchProfile,
    side: Side,
    *,
    first_ref: int = 0,
    workers: int | None = None,
) -> pa.Table:
    """`engine.extract` of the decoded JSON record texts `bodies`, without decoding them.

    The table equals ``extract([orjson.loads(b) for b in bodies], profile, side)`` with
    ``ref`` counting from `first_ref` (so a report can be extracted in chunks and the chunks
    concatenated). Texts are expected to be canonical JSON (unique object keys); a text that
    is not JSON raises `InvalidRecordText`. Slices of the bodies run on `workers` threads
    (default: one per core, at least 50k records each); DuckDB and Arrow release the GIL.
    """
    if side not in ("supplier", "customer"):
        raise ValueError(f"side must be 'supplier' or 'customer', not {side!r}")
    _bodies_table(bodies)  # type check up front
    count = len(bodies)
    if count == 0:
        empty = extract([], profile, side)
        return empty.set_column(0, "ref", pa.array([], type=pa.int64()))
    plan = _Plan.of(profile, side)
    if workers is None:
        threads = max(1, min(os.cpu_count() or 1, 8, count // _MIN_SLICE))
    else:
        threads = max(1, min(workers, count))
    size = -(-count // threads)
    starts = range(0, count, size)
    if threads == 1:
        parts = [plan.run(bodies, first_ref, duckdb_threads=None)]
    else:
        with ThreadPoolExecutor(threads) as pool:
            jobs = [
                pool.submit(
                    plan.run, bodies.slice(start, size), first_ref + start, duckdb_threads=1
                )
                for start in starts
            ]
            parts = []
            for start, job in zip(starts, jobs, strict=True):
                try:
                    parts.append(job.result())
                except InvalidRecordText as exc:
                    raise InvalidRecordText(exc.position + start, exc.reason) from None
    table = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    return table.replace_schema_metadata(
        {_META_SIDE: side.encode(), _META_PROFILE: profile.profile_hash().encode()}
    )


# Below this many records per thread, threads cost more than they save.
_MIN_SLICE = 50_000


@dataclass(frozen=True)
class _Plan:
    """The paths one side of a profile reads, and how each column is made from them."""

    profile: MatchProfile
    side: Side
    paths: tuple[str, ...]
    money: tuple[bool, ...]

    @classmethod
    def of(cls, profile: MatchProfile, side: Side) -> _Plan:
        wanted: list[str] = []
        for rule in profile.identifier_rules:
            for component in rule.supplier if side == "supplier" else rule.customer:
                if component.field not in wanted:
                    wanted.append(component.field)
        money = tuple(_is_builtin_money(f.normaliser) for f in profile.compared_fields)
        for compared, is_money in zip(profile.compared_fields, money, strict=True):
            path = compared.supplier_field if side == "supplier" else compared.customer_field
            # A money value's unit and amount are read as paths of their own.
            for text in (path, path + ".unit", path + ".value") if is_money else (path,):
                if text not in wanted:
                    wanted.append(text)
        return cls(profile, side, tuple(wanted), money)

    def run(
        self, bodies: pa.Array | pa.ChunkedArray, first_ref: int, *, duckdb_threads: int | None
    ) -> pa.Table:
        texts = _evaluate(bodies, [compile_path(p) for p in self.paths], duckdb_threads)
        values = {text: _Values.of(array) for text, array in zip(self.paths, texts, strict=True)}
        supplier = self.side == "supplier"
        columns: dict[str, pa.Array] = {
            "ref": pa.array(range(first_ref, first_ref + len(bodies)), type=pa.int64())
        }
        for r, rule in enumerate(self.profile.identifier_rules):
            parts = [
                _key_text(_normalised(c.normaliser, c.params, values[c.field], None))
                for c in (rule.supplier if supplier else rule.customer)
            ]
            columns[f"key{r}"] = _rule_key(parts, rule.unordered)
        for j, compared in enumerate(self.profile.compared_fields):
            path = compared.supplier_field if supplier else compared.customer_field
            money = (values[path + ".unit"], values[path + ".value"]) if self.money[j] else None
            columns[f"f{j}_raw"] = _raw(values[path])
            columns[f"f{j}"] = _normalised(
                compared.normaliser, compared.normaliser_params, values[path], money
            )
        return pa.table(columns)


def _evaluate(
    bodies: pa.Array | pa.ChunkedArray, paths: list[FieldPath], threads: int | None
) -> list[pa.Array]:
    """The JSON text of every path's value in every record (one DuckDB pass)."""
    root = _tree(paths)
    typed = root.typed()
    counter = [0]
    selects = ", ".join(
        f"{_path_sql(path, root, typed, counter)} AS p{i}" for i, path in enumerate(paths)
    )
    source = f"json_transform(body, {_lit(_structure(root))})" if typed else "body"
    con = duckdb.connect(config={} if threads is None else {"threads": threads})
    try:
        con.register("bodies", _bodies_table(bodies))
        try:
            result = con.sql(f"SELECT {selects} FROM (SELECT {source} AS r FROM bodies)")
            table = result.to_arrow_table()
        except duckdb.Error:
            raise _first_invalid(bodies) from None
    finally:
        con.close()
    return [_as_string(table.column(i)) for i in range(len(paths))]


def _as_string(column: pa.ChunkedArray) -> pa.Array:
    array = column.combine_chunks()
    return array if array.type == pa.string() else pc.cast(array, pa.string())


# -- item columns ------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemColumns:
    """What a match run stores per item, one entry per item in item order.

    `bodies` is the item's canonical JSON (RFC 8785, the Merkle leaf), `supplier_refs` and
    `customer_refs` are JSON arrays (``[1,2]``), `diff_fields` is ``",a,b,"`` or ``""``.
    """

    bodies: pa.Array
    supplier_refs: pa.Array
    customer_refs: pa.Array
    diff_fields: pa.Array

    def leaves(self) -> list[bytes]:
        """The Merkle leaves: `bodies` as bytes."""
        leaves: list[bytes] = pc.cast(self.bodies, pa.binary()).to_pylist()
        return leaves


def _json_by_distinct(column: pa.Array) -> pa.Array:
    """Canonical JSON text of each value of a column with few distinct values (null -> null)."""

    def encode(values: list[Any]) -> pa.Array:
        return pa.array([canonical_json(v).decode() for v in values], pa.string())

    return _by_distinct(column, encode, decode=False)


def _refs_json(column: pa.Array) -> pa.Array:
    joined = pc.binary_join(pc.cast(column, pa.list_(pa.string())), ",")
    text = pc.binary_join_element_wise("[", joined, "]", "")
    return pc.fill_null(text, "null")


def _differences_json(column: pa.Array) -> pa.Array:
    present = pc.is_valid(column)
    fast = pc.fill_null(pc.cast(column, pa.string()), "null")
    if not _count(present):
        return fast
    loads = orjson.loads
    texts = pc.filter(column, present).to_pylist()
    canonical = pa.array([canonical_json(loads(t)).decode() for t in texts], pa.string())
    return _replace(fast, present, canonical)


def item_columns(result: MatchResult) -> ItemColumns:
    """The stored columns of every item; `bodies` equals `canonical_json` of `item_dicts()`."""
    items = result.items
    column = {name: items.column(name).combine_chunks() for name in items.column_names}
    supplier_refs = _refs_json(column["supplier_refs"])
    customer_refs = _refs_json(column["customer_refs"])
    # JCS orders members by key: class, customerRefs, differences, itemNo, reason, rule,
    # supplierRefs. Only `differences` needs per-item work, and only where there are some.
    bodies = pc.binary_join_element_wise(
        '{"class":',
        _json_by_distinct(column["class"]),
        ',"customerRefs":',
        customer_refs,
        ',"differences":',
        _differences_json(column["differences"]),
        ',"itemNo":',
        pc.fill_null(pc.cast(column["item_no"], pa.string()), "null"),
        ',"reason":',
        _json_by_distinct(column["reason"]),
        ',"rule":',
        _json_by_distinct(column["rule"]),
        ',"supplierRefs":',
        supplier_refs,
        "}",
        "",
    )
    names = pc.fill_null(pc.binary_join(column["diff_fields"], ","), "")
    diff_fields = pc.if_else(
        pc.equal(pc.utf8_length(names), 0),
        "",
        pc.binary_join_element_wise(",", names, ",", ""),
    )
    return ItemColumns(bodies, supplier_refs, customer_refs, diff_fields)


def item_leaves(result: MatchResult) -> list[bytes]:
    """``[canonical_json(d) for d in result.item_dicts()]``, vectorised."""
    return item_columns(result).leaves()
