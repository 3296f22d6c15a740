"""Matching against the peers (issue 4): our engine, the per-record Python reference,
recordlinkage and splink on the same noisy pair, the same profile and the same truth.

    .venv/bin/python bench/bench_peers.py --sizes 10000,100000,1000000 --budget 900

Needs the `bench` extra (`pip install -e ".[bench]"`). For each size, one child process
generates `generate_noisy_pair(n)` and stores each side's records as JSON texts (one
Parquet column, the way reports are stored), its truth and its profile. Then every
implementation runs in a fresh child process of its own (peak memory is its own, `ru_maxrss`),
killed when it passes the time budget: ingest (read the texts, parse, normalise), match,
persist (the items as Parquet or one SQLite executemany); a last child scores the persisted
items against the truth (precision and recall per class, rule and reason). Prints one JSON
object per line.

Implementations:
- ours: `fastpath.extract_json` over the stored texts (what a match run does), `match`;
- ours-py: `orjson.loads` of each text, `engine.extract` over the dicts, `match`;
- reference: `orjson.loads`, `reference.reference_match` (normalises inside, per record);
- recordlinkage: `orjson.loads` and `engine.extract` (our normalisers) into pandas, then
  `recordlinkage.Index.block` per rule on the open records and `recordlinkage.Compare` for
  the compared fields, the rules' classification on top in pandas (bench/peers/);
- splink: the same frames, one splink linker (DuckDB) with a deterministic blocking rule
  per identifier rule, `deterministic_link` for the pairs, the comparisons and the
  classification in pandas.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

IMPLEMENTATIONS = ("ours", "ours-py", "reference", "recordlinkage", "splink")


# Exit code of a child that stopped itself at the memory budget.
_OVER_MEMORY = 86


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _watch_memory(limit_mb: float) -> None:
    """Stop this process when its resident memory passes `limit_mb`: on a shared machine an
    implementation that would need more must not push the kernel into killing others."""
    import threading

    page_kb = os.sysconf("SC_PAGE_SIZE") / 1024

    def watch() -> None:
        statm = Path(f"/proc/{os.getpid()}/statm")
        while True:
            resident_mb = int(statm.read_text().split()[1]) * page_kb / 1024
            if resident_mb > limit_mb:
                sys.stderr.write(f"resident memory {resident_mb:.0f} MB > {limit_mb:.0f} MB\n")
                sys.stderr.flush()
                os._exit(_OVER_MEMORY)
            time.sleep(0.2)

    threading.Thread(target=watch, name="memory-watch", daemon=True).start()


# ---- data ----


def _prepare(n: int, seed: int, data: Path) -> dict[str, Any]:
    """Generate the pair; store the texts, the profile and the truth."""
    import orjson
    import pyarrow as pa
    import pyarrow.parquet as pq

    from panther.demo.generator import generate_noisy_pair

    t0 = time.perf_counter()
    pair = generate_noisy_pair(n, seed=seed)
    generated = time.perf_counter() - t0
    sizes = {}
    for side, records in (("supplier", pair.supplier), ("customer", pair.customer)):
        bodies = pa.array([orjson.dumps(r).decode() for r in records], pa.string())
        pq.write_table(pa.table({"body": bodies}), data / f"{side}.parquet")
        sizes[side] = {"records": len(records), "bytes": bodies.nbytes}
    (data / "profile.json").write_text(json.dumps(pair.profile))
    truth = pair.truth
    plain = dataclasses.replace(
        truth,
        differing=dict(truth.differing),
        entity_kinds=dict(truth.entity_kinds),
        reasons=dict(truth.reasons),
        value_kinds=dict(truth.value_kinds),
    )
    (data / "truth.pickle").write_bytes(pickle.dumps(plain, protocol=5))
    return {
        "bench": "prepare",
        "services": n,
        "seed": seed,
        "generate_s": round(generated, 2),
        "sides": sizes,
        "link_noise": dict(truth.entity_kinds),
        "value_noise": dict(truth.value_kinds),
    }


def _bodies(data: Path, side: str) -> Any:
    import pyarrow.parquet as pq

    return pq.read_table(data / f"{side}.parquet")["body"].combine_chunks()


def _profile(data: Path) -> Any:
    from panther.matching.profile import MatchProfile

    return MatchProfile.from_dict(json.loads((data / "profile.json").read_text()))


def _records(data: Path, side: str) -> list[Any]:
    import orjson

    loads = orjson.loads
    return [loads(text) for text in _bodies(data, side).to_pylist()]


# ---- implementations (each runs alone in a child process) ----


def _run_ours(data: Path, persist_how: str) -> dict[str, Any]:
    from peers.classify import persist

    from panther.matching.engine import match
    from panther.matching.fastpath import extract_json

    profile = _profile(data)
    t0 = time.perf_counter()
    tables = {}
    for side in ("supplier", "customer"):
        tables[side] = extract_json(_bodies(data, side), profile, side)  # type: ignore[arg-type]
    t1 = time.perf_counter()
    result = match(tables["supplier"], tables["customer"], profile)
    t2 = time.perf_counter()
    persist(result.items, data / "items-ours", persist_how)
    t3 = time.perf_counter()
    return _timings(t0, t1, t2, t3, result.items.num_rows)


def _run_ours_py(data: Path, persist_how: str) -> dict[str, Any]:
    import gc

    from peers.classify import persist

    from panther.matching.engine import extract, match

    profile = _profile(data)
    gc.disable()  # as the upload path does: millions of parsed dicts, no cycles
    t0 = time.perf_counter()
    tables = {}
    for side in ("supplier", "customer"):
        records = _records(data, side)
        tables[side] = extract(records, profile, side)  # type: ignore[arg-type]
        del records
    t1 = time.perf_counter()
    result = match(tables["supplier"], tables["customer"], profile)
    t2 = time.perf_counter()
    persist(result.items, data / "items-ours-py", persist_how)
    t3 = time.perf_counter()
    return _timings(t0, t1, t2, t3, result.items.num_rows)


def _run_reference(data: Path, persist_how: str) -> dict[str, Any]:
    import gc

    import pyarrow as pa
    from peers.classify import persist

    from panther.matching.reference import reference_match

    profile = _profile(data)
    gc.disable()
    t0 = time.perf_counter()
    supplier, customer = _records(data, "supplier"), _records(data, "customer")
    t1 = time.perf_counter()
    items = reference_match(supplier, customer, profile)
    t2 = time.perf_counter()
    table = pa.table(
        {
            "item_no": pa.array([i["itemNo"] for i in items], pa.int64()),
            "class": pa.array([i["class"] for i in items], pa.string()),
            "reason": pa.array([i["reason"] for i in items], pa.string()),
            "rule": pa.array([i["rule"] for i in items], pa.string()),
            "supplier_refs": pa.array([i["supplierRefs"] for i in items], pa.list_(pa.int64())),
            "customer_refs": pa.array([i["customerRefs"] for i in items], pa.list_(pa.int64())),
            "diff_fields": pa.array(
                [[d["field"] for d in i["differences"] or ()] for i in items],
                pa.list_(pa.string()),
            ),
        }
    )
    persist(table, data / "items-reference", persist_how)
    t3 = time.perf_counter()
    return _timings(t0, t1, t2, t3, len(items))


def _frames(data: Path) -> tuple[Any, Any, Any]:
    """Peers' ingest: parse, normalise with our normalisers, into pandas."""
    import gc

    from peers.classify import to_frame

    from panther.matching.engine import extract

    profile = _profile(data)
    gc.disable()
    frames = []
    for side in ("supplier", "customer"):
        records = _records(data, side)
        table = extract(records, profile, side)  # type: ignore[arg-type]
        del records
        frames.append(to_frame(table, profile))
    gc.enable()
    return frames[0], frames[1], profile


def _run_recordlinkage(data: Path, persist_how: str) -> dict[str, Any]:
    from peers.classify import classify, persist
    from peers.rl import rl_agreements, rl_candidates

    t0 = time.perf_counter()
    s, c, profile = _frames(data)
    t1 = time.perf_counter()
    items = classify(s, c, profile, rl_candidates, rl_agreements(s, c, profile))
    t2 = time.perf_counter()
    persist(items, data / "items-recordlinkage", persist_how)
    t3 = time.perf_counter()
    return _timings(t0, t1, t2, t3, items.num_rows)


def _run_splink(data: Path, persist_how: str) -> dict[str, Any]:
    from peers.classify import classify, pandas_agreements, persist
    from peers.splink_link import SplinkCandidates

    t0 = time.perf_counter()
    s, c, profile = _frames(data)
    t1 = time.perf_counter()
    candidates = SplinkCandidates(s, c, profile)
    blocked = time.perf_counter()
    items = classify(s, c, profile, candidates, pandas_agreements(s, c, profile))
    t2 = time.perf_counter()
    persist(items, data / "items-splink", persist_how)
    t3 = time.perf_counter()
    out = _timings(t0, t1, t2, t3, items.num_rows)
    out["splink_blocking_s"] = round(blocked - t1, 3)
    return out


_RUNNERS = {
    "ours": _run_ours,
    "ours-py": _run_ours_py,
    "reference": _run_reference,
    "recordlinkage": _run_recordlinkage,
    "splink": _run_splink,
}


def _timings(t0: float, t1: float, t2: float, t3: float, items: int) -> dict[str, Any]:
    return {
        "ingest_s": round(t1 - t0, 3),
        "match_s": round(t2 - t1, 3),
        "persist_s": round(t3 - t2, 3),
        "total_s": round(t3 - t0, 3),
        "items": items,
        "peak_mb": round(_peak_mb()),
    }


def _score(data: Path, impl: str) -> dict[str, Any]:
    from peers.classify import read_items

    from panther.demo.scoring import predicted_from_items, score

    path = next(data.glob(f"items-{impl}.*"))
    truth = pickle.loads((data / "truth.pickle").read_bytes())
    quality = score(truth, predicted_from_items(read_items(path)))
    classes = {
        name: [round(entry["precision"], 6), round(entry["recall"], 6)]
        for name, entry in quality["classes"].items()
    }
    labels = {
        name: [round(entry["precision"], 6), round(entry["recall"], 6)]
        for name, entry in (*quality["rules"].items(), *quality["reasons"].items())
    }
    return {
        "precision_recall": classes,
        "rules_reasons": labels,
        "links": [quality["links"]["precision"], quality["links"]["recall"]],
        "differences_recall": quality["differences"]["recall"],
        "unpredicted": quality["counts"]["unpredicted"],
        "conflicting": quality["counts"]["conflicting"],
        "perfect": all(p == r == 1.0 for p, r in (*classes.values(), *labels.values()))
        and quality["links"]["recall"] == quality["links"]["precision"] == 1.0,
    }


# ---- driver ----


def _child(args: list[str], budget: float) -> tuple[str, dict[str, Any] | str]:
    """Run this script with `args` in a child process; ("ok", result) or (status, detail)."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), *args, *_MEMORY_ARGS],
            capture_output=True,
            text=True,
            timeout=budget,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "timeout", f"killed after the {budget:.0f} s budget"
    if proc.returncode == _OVER_MEMORY:
        return "memory", proc.stderr.strip().splitlines()[-1]
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return "error", f"exit {proc.returncode}: " + " | ".join(tail)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = round(time.perf_counter() - t0, 2)
    return "ok", result


_MEMORY_ARGS: list[str] = []


def _emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000", help="services per run")
    ap.add_argument("--impls", default=",".join(IMPLEMENTATIONS))
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--budget", type=float, default=900.0, help="seconds per measurement")
    ap.add_argument("--persist", choices=["parquet", "sqlite"], default="parquet")
    ap.add_argument(
        "--memory-budget", type=float, default=12_000.0, help="MB of resident memory per child"
    )
    ap.add_argument("--child", nargs=2, metavar=("WHAT", "DIR"), help=argparse.SUPPRESS)
    ap.add_argument("--services", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        _watch_memory(args.memory_budget)
        what, folder = args.child[0], Path(args.child[1])
        if what == "prepare":
            result = _prepare(args.services, args.seed, folder)
        elif what.startswith("score:"):
            result = _score(folder, what.split(":", 1)[1])
        else:
            result = _RUNNERS[what](folder, args.persist)
        print(json.dumps(result), flush=True)
        return

    _MEMORY_ARGS[:] = ["--memory-budget", str(args.memory_budget)]
    impls = [name.strip() for name in args.impls.split(",") if name.strip()]
    unknown = set(impls) - set(IMPLEMENTATIONS)
    if unknown:
        ap.error(f"unknown implementations: {sorted(unknown)}")
    _emit(
        {
            "machine": f"{os.cpu_count()} cores, {os.uname().machine}",
            "python": sys.version.split()[0],
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "load": os.getloadavg(),
            "budget_s": args.budget,
            "memory_budget_mb": args.memory_budget,
            "persist": args.persist,
        }
    )
    for size in (int(text) for text in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
            status, prepared = _child(
                ["--child", "prepare", tmp, "--services", str(size), "--seed", str(args.seed)],
                max(args.budget, 1800.0),
            )
            if status != "ok":
                _emit({"bench": "prepare", "services": size, "status": status, "detail": prepared})
                continue
            _emit(prepared)  # type: ignore[arg-type]
            for impl in impls:
                record: dict[str, Any] = {"bench": "peers", "impl": impl, "services": size}
                record["load_before"] = os.getloadavg()[0]
                child_args = ["--child", impl, tmp, "--persist", args.persist]
                status, result = _child(child_args, args.budget)
                record["status"] = status
                if status != "ok":
                    record["detail"] = result
                    _emit(record)
                    continue
                record.update(result)  # type: ignore[arg-type]
                status, quality = _child(["--child", f"score:{impl}", tmp], 1800.0)
                if status == "ok":
                    quality.pop("wall_s", None)  # type: ignore[union-attr]
                    record.update(quality)  # type: ignore[arg-type]
                else:
                    record["score"] = {"status": status, "detail": quality}
                _emit(record)


if __name__ == "__main__":
    main()
