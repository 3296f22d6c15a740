"""The extract cache keeps columns per normaliser rules version: columns extracted under
older rules are never read back as if they were current."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from panther.adapters.extract_cache import ExtractCache
from panther.matching.normalisers import RULES_VERSION


def test_put_then_get_under_the_current_rules(tmp_path: Path) -> None:
    cache = ExtractCache(tmp_path)
    table = pa.table({"ref": [0, 1], "key0": ["CID1", None]})
    cache.put("c0ffee", "supplier", "beef", table)
    assert cache.get("c0ffee", "supplier", "beef") == table
    assert cache.get("c0ffee", "customer", "beef") is None
    (written,) = tmp_path.glob("c0ffee-supplier-*.parquet")
    assert written.name.endswith(f"-r{RULES_VERSION}.parquet")


def test_a_file_of_older_rules_is_not_read(tmp_path: Path) -> None:
    # The name a cache written before the rules had a version used.
    pq.write_table(
        pa.table({"ref": [0], "key0": ["CID‐1"]}), tmp_path / "c0ffee-supplier-beef.parquet"
    )
    assert ExtractCache(tmp_path).get("c0ffee", "supplier", "beef") is None
