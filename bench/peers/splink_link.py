"""Splink (DuckDB backend) as a peer: one linker, one deterministic blocking rule per
identifier rule on its normalised key, `deterministic_link` for the candidate pairs."""

from __future__ import annotations

import numpy as np
import pandas as pd
from splink import Linker, SettingsCreator, block_on
from splink.backends.duckdb import DuckDBAPI

from panther.matching.profile import MatchProfile

__all__ = ["SplinkCandidates"]


class SplinkCandidates:
    """All candidate pairs at once (splink labels each with the first rule that found it);
    the classification asks for one rule's pairs among the records still open."""

    def __init__(self, s: pd.DataFrame, c: pd.DataFrame, profile: MatchProfile) -> None:
        keys = [f"key{r}" for r in range(len(profile.identifier_rules))]
        db = DuckDBAPI()
        settings = SettingsCreator(
            link_type="link_only",
            unique_id_column_name="ref",
            blocking_rules_to_generate_predictions=[block_on(k) for k in keys],
            comparisons=[],
            retain_matching_columns=False,
            retain_intermediate_calculation_columns=False,
        )
        inputs = [
            db.register(s[keys].reset_index(), dataset_display_name="a_supplier"),
            db.register(c[keys].reset_index(), dataset_display_name="b_customer"),
        ]
        linker = Linker(inputs, settings, log_level=None)
        pairs = linker.inference.deterministic_link().as_pandas_dataframe()
        supplier_left = (pairs["source_dataset_l"] == "a_supplier").to_numpy()
        left = pairs["ref_l"].to_numpy(dtype=np.int64)
        right = pairs["ref_r"].to_numpy(dtype=np.int64)
        self.sref = np.where(supplier_left, left, right)
        self.cref = np.where(supplier_left, right, left)
        self.rule = pairs["match_key"].astype(int).to_numpy()
        self.n_supplier, self.n_customer = len(s), len(c)

    def __call__(self, r: int, s: pd.DataFrame, c: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        open_s = np.zeros(self.n_supplier, dtype=bool)
        open_c = np.zeros(self.n_customer, dtype=bool)
        open_s[s.index.to_numpy()] = True
        open_c[c.index.to_numpy()] = True
        keep = (self.rule == r) & open_s[self.sref] & open_c[self.cref]
        return self.sref[keep], self.cref[keep]
