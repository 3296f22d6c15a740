"""The recordlinkage library as a peer: `Index.block` on each rule's normalised key for the
candidates, `Compare` (exact, numeric step) for the compared fields."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import recordlinkage

from panther.matching.profile import MatchProfile

from .classify import Agreements, crossing, missing_rule

__all__ = ["rl_agreements", "rl_candidates"]


def rl_candidates(r: int, s: pd.DataFrame, c: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    key = f"key{r}"
    indexer = recordlinkage.Index()
    indexer.block(left_on=key, right_on=key)
    pairs = indexer.index(s[[key]], c[[key]])
    return (
        pairs.get_level_values(0).to_numpy(dtype=np.int64),
        pairs.get_level_values(1).to_numpy(dtype=np.int64),
    )


def rl_agreements(s: pd.DataFrame, c: pd.DataFrame, profile: MatchProfile) -> Agreements:
    fields = profile.compared_fields
    swaps = profile.swap_index()

    def compute(sref: np.ndarray, cref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        compare = recordlinkage.Compare()
        for j, f in enumerate(fields):
            column = f"f{j}"
            if f.comparator == "date":
                days = float(f.params.get("toleranceDays", 0))
                compare.numeric(column, column, method="step", offset=days, label=f"t{j}")
            elif f.comparator in ("money", "number"):
                if Decimal(f.params.get("relative", "0")):
                    raise NotImplementedError("a relative tolerance has no recordlinkage form")
                absolute = float(Decimal(f.params.get("absolute", "0")))
                compare.numeric(column, column, method="step", offset=absolute, label=f"t{j}")
                if f.comparator == "money":
                    compare.exact(f"{column}_cur", f"{column}_cur", label=f"u{j}")
            else:
                compare.exact(column, column, label=f"t{j}")
        for k, (i, j) in enumerate(swaps):
            compare.exact(f"f{i}", f"f{j}", label=f"x{k}a")
            compare.exact(f"f{j}", f"f{i}", label=f"x{k}b")
        pairs = pd.MultiIndex.from_arrays([sref, cref], names=["s", "c"])
        features = compare.compute(pairs, s, c)
        tests = np.empty((len(sref), len(fields)), dtype=bool)
        for j, f in enumerate(fields):
            ok = features[f"t{j}"].to_numpy() == 1
            if f.comparator == "money":
                ok &= features[f"u{j}"].to_numpy() == 1
            tests[:, j] = missing_rule(s, c, sref, cref, j, j, ok)
        crossed = []
        for k, (i, j) in enumerate(swaps):
            a = missing_rule(s, c, sref, cref, i, j, features[f"x{k}a"].to_numpy() == 1)
            b = missing_rule(s, c, sref, cref, j, i, features[f"x{k}b"].to_numpy() == 1)
            crossed.append(a & b)
        return crossing(tests, crossed, profile)

    return compute
