"""Field paths into product records: how profiles and CSV mappings name a field.

A path is dot-separated segments. A segment is a key (``externalId``), a key with a list
selector by attribute (``productCharacteristic[name=bandwidth]``: the first element whose
``name`` is the string ``bandwidth``; failing that, the first equal to it when ASCII letters
are folded, so ``[role=A-end]`` finds ``A-End``) or a key with a list index
(``productOrderItem[0]``).

    productPrice[priceType=recurring].price.dutyFreeAmount.value
    place[role=A-End].id

``get`` returns ``None`` when any step is missing; ``set`` creates the missing steps (lists
get an element carrying the selector attribute, found again by its value exactly as written),
which is how a CSV row becomes a record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["FieldPath", "InvalidPath", "compile_path", "fold_selector"]

_SEGMENT = re.compile(r"^(?P<key>[A-Za-z@_][A-Za-z0-9@_\-]*)(?:\[(?P<sel>[^\]]+)\])?$")


_ASCII_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ASCII_LOWER = "abcdefghijklmnopqrstuvwxyz"
_FOLD = str.maketrans(_ASCII_UPPER, _ASCII_LOWER)


def fold_selector(value: str) -> str:
    """A selector value as selectors compare it: ASCII letters lower-cased, nothing else
    changed (the same rule in SQL is ``translate(v, 'A..Z', 'a..z')``, so the DuckDB fast
    path and this module cannot disagree on a non-ASCII letter)."""
    return value.translate(_FOLD)


@dataclass(frozen=True)
class InvalidPath(ValueError):
    path: str
    reason: str

    def __str__(self) -> str:
        return f"invalid field path {self.path!r}: {self.reason}"


@dataclass(frozen=True)
class _Step:
    key: str
    attr: str | None = None  # list selector attribute
    value: str | None = None  # list selector value
    index: int | None = None  # list index
    folded: str | None = None  # `value` as selectors compare it (fold_selector)

    def select(self, elements: list[Any]) -> Any:
        """The list element this selector step picks: the first whose attribute is exactly
        the value, else the first equal to it with ASCII letters folded; None if neither."""
        folded_match = None
        for element in elements:
            if not isinstance(element, dict):
                continue
            found = element.get(self.attr)
            if type(found) is not str:
                continue
            if found == self.value:
                return element
            if folded_match is None and found.translate(_FOLD) == self.folded:
                folded_match = element
        return folded_match


@dataclass(frozen=True)
class FieldPath:
    text: str
    steps: tuple[_Step, ...]

    def get(self, record: Any) -> Any:
        node = record
        for step in self.steps:
            if not isinstance(node, dict):
                return None
            node = node.get(step.key)
            if node is None:
                return None
            if step.index is not None:
                if not isinstance(node, list) or step.index >= len(node):
                    return None
                node = node[step.index]
            elif step.attr is not None:
                if not isinstance(node, list):
                    return None
                node = step.select(node)
                if node is None:
                    return None
        return node

    def set(self, record: dict[str, Any], value: Any) -> None:
        node: Any = record
        last = len(self.steps) - 1
        for position, step in enumerate(self.steps):
            is_last = position == last
            if step.attr is None and step.index is None:
                if is_last:
                    node[step.key] = value
                    return
                node = node.setdefault(step.key, {})
                continue
            items = node.setdefault(step.key, [])
            if step.index is not None:
                while len(items) <= step.index:
                    items.append({})
                target = items[step.index]
            else:
                target = next(
                    (e for e in items if isinstance(e, dict) and e.get(step.attr) == step.value),
                    None,
                )
                if target is None:
                    target = {step.attr: step.value}
                    items.append(target)
            if is_last:
                raise InvalidPath(self.text, "a path must end in a key, not a list element")
            node = target


@lru_cache(maxsize=1024)
def compile_path(text: str) -> FieldPath:
    if not text or not isinstance(text, str):
        raise InvalidPath(str(text), "empty")
    steps: list[_Step] = []
    for raw in text.split("."):
        m = _SEGMENT.match(raw)
        if not m:
            raise InvalidPath(text, f"bad segment {raw!r}")
        sel = m.group("sel")
        if sel is None:
            steps.append(_Step(m.group("key")))
        elif sel.isdigit():
            steps.append(_Step(m.group("key"), index=int(sel)))
        elif "=" in sel:
            attr, _, value = sel.partition("=")
            if not attr or not value:
                raise InvalidPath(text, f"bad selector {sel!r}")
            steps.append(_Step(m.group("key"), attr=attr, value=value, folded=fold_selector(value)))
        else:
            raise InvalidPath(text, f"bad selector {sel!r}")
    return FieldPath(text, tuple(steps))
