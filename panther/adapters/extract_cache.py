"""A cache of the narrow columns the matcher extracts from a stored report, as Parquet files.

Extracting 1M records' fields from their JSON text costs seconds per side; the columns only
depend on the report's content and the relation's profile, so they are computed once when
the report is stored and read back by every match run. The cache is an optimisation, never
the truth: a missing or unreadable file means the match run extracts from the database.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from panther.matching.normalisers import RULES_VERSION

__all__ = ["ExtractCache"]

log = logging.getLogger("panther.extract_cache")


class ExtractCache:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _path(self, content_hash: str, side: str, profile_hash: str) -> Path:
        # Columns extracted under older normaliser rules are another file: never reused.
        name = f"{content_hash}-{side}-{profile_hash}-r{RULES_VERSION}.parquet"
        return self.folder / name

    def get(self, content_hash: str, side: str, profile_hash: str) -> pa.Table | None:
        return self._read(self._path(content_hash, side, profile_hash))

    def put(self, content_hash: str, side: str, profile_hash: str, table: pa.Table) -> None:
        self._write(self._path(content_hash, side, profile_hash), table)

    def get_items(self, run_id: str) -> pa.Table | None:
        """A match run's items as the engine produced them (for incremental re-matches)."""
        return self._read(self.folder / f"items-{run_id}.parquet")

    def put_items(self, run_id: str, table: pa.Table) -> None:
        self._write(self.folder / f"items-{run_id}.parquet", table)

    def _read(self, path: Path) -> pa.Table | None:
        try:
            return pq.read_table(path)
        except FileNotFoundError:
            return None
        except (OSError, pa.ArrowException) as exc:
            log.warning("unreadable extract cache %s (%s): extracting again", path.name, exc)
            return None

    def _write(self, final: Path, table: pa.Table) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        os.close(fd)
        try:
            pq.write_table(table, tmp, compression="zstd")
            os.replace(tmp, final)  # readers see the whole file or none
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
