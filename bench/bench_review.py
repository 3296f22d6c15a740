"""Review and billing at scale, through the service layer (no HTTP) on SQLite.

Two relations get the same generated inventories (N records per side) and are matched. On
each, the customer accepts the supplier's values on every partial item and the supplier
agrees:

* bulk: one `acceptValue` proposal over all of them (one ReviewActionTaken over their Merkle
  root) and one `agree` (one ReviewAgreed with both signatures);
* baseline: the same, item by item (two proposals' worth of transactions per item).

Then both runs are endorsed, the supplier's statement of the month is generated (every
matched and agreed service billed), the customer endorses it, and its invoice PDF is
rendered and its lines listed page by page, each timed.

    .venv/bin/python bench/bench_review.py --records 20000
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from panther.demo.generator import generate_pair  # noqa: E402
from panther.server.bootstrap import compose  # noqa: E402
from panther.server.services import (  # noqa: E402
    bill_rates,
    bills,
    matchruns,
    parties,
    relations,
    reports,
    review,
    review_bulk,
    run_endorsement,
    runs_read,
    statements,
)
from panther.server.settings import Settings  # noqa: E402

AS_OF = "2026-11-01"
PERIOD = {"startDateTime": "2026-11-01T00:00:00Z", "endDateTime": "2026-12-01T00:00:00Z"}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _world(ports: Any, tag: str) -> tuple[Any, Any, str]:
    creds = json.loads((Path(ports.settings.data_dir) / "operator-credentials.json").read_text())
    token = parties.issue_token(ports, creds["clientId"], creds["clientSecret"], None)
    operator = parties.read_token(ports, token["access_token"])
    callers = []
    for name in ("sup", "cus"):
        party = parties.register_party(ports, operator, {"name": name, "id": f"{name}-{tag}"})
        issued = parties.issue_token(
            ports, party["credentials"]["clientId"], party["credentials"]["clientSecret"], None
        )
        callers.append(parties.read_token(ports, issued["access_token"]))
    rel = relations.propose_relation(
        ports, operator, {"supplier": f"sup-{tag}", "customer": f"cus-{tag}"}
    )
    for caller in callers:
        relations.agree_relation(ports, caller, rel["id"], None)
    return callers[0], callers[1], rel["id"]


def _timed(fn: Any, *args: Any, **kw: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    pair = generate_pair(args.records, seed=args.seed)
    bodies = {
        "sup": b"\n".join(orjson.dumps(r) for r in pair.supplier),
        "cus": b"\n".join(orjson.dumps(r) for r in pair.customer),
    }
    out: dict[str, Any] = {"records": args.records}
    with tempfile.TemporaryDirectory(prefix="bench-review-") as data:
        ports = compose(Settings.from_env(data_dir=Path(data), database_url="", auto_match=False))
        runs = {}
        for mode in ("bulk", "item"):
            sup, cus, rel = _world(ports, mode)
            for caller, key in ((sup, "sup"), (cus, "cus")):
                reports.upload_report(
                    ports,
                    caller,
                    relation_id=rel,
                    as_of=AS_OF,
                    body=bodies[key],
                    media_type="application/x-ndjson",
                )
            run, _ = matchruns.run_match(ports, sup, rel, AS_OF)
            runs[mode] = (sup, cus, rel, run)
        partial = runs["bulk"][3]["counts"]["partial"]
        out["partialItems"] = partial

        sup, cus, rel, run = runs["bulk"]
        proposed, t_propose = _timed(
            review_bulk.bulk_act,
            ports,
            cus,
            run["id"],
            {"action": "acceptValue", "filter": {"class": "partial"}},
        )
        agreed, t_agree = _timed(
            review_bulk.bulk_act,
            ports,
            sup,
            run["id"],
            {"action": "agree", "filter": {"class": "partial"}},
        )
        assert proposed["itemCount"] == agreed["itemCount"] == partial
        out["bulk"] = {"seconds": round(t_propose + t_agree, 3), "propose": round(t_propose, 3),
                       "agree": round(t_agree, 3), "transactions": 2}  # fmt: skip

        sup_i, cus_i, rel_i, run_i = runs["item"]
        items, _ = runs_read.list_items(
            ports, cus_i, run_i["id"], class_="partial", reason=None, field=None, rule=None,
            offset=0, limit=1_000_000,
        )  # fmt: skip
        t0 = time.perf_counter()
        for item in items:
            review.act(ports, cus_i, run_i["id"], item["itemNo"], {"action": "acceptValue"}, None)
            review.act(ports, sup_i, run_i["id"], item["itemNo"], {"action": "agree"}, None)
        t_items = time.perf_counter() - t0
        out["itemByItem"] = {"seconds": round(t_items, 3), "transactions": 2 * len(items)}
        out["bulkSpeedup"] = round(t_items / (t_propose + t_agree), 1)

        for caller in (sup, cus):
            run_endorsement.endorse_run(ports, caller, run["id"], None)
        asked, t_statement = _timed(
            statements.request_statement,
            ports,
            sup,
            {"billingAccount": {"id": rel}, "billingPeriod": PERIOD},
        )
        bill_id = asked["customerBill"]["id"]
        _, t_endorse = _timed(bills.patch_bill, ports, cus, bill_id, {"state": "validated"}, None)
        (pdf, _), t_pdf = _timed(bills.bill_document, ports, cus, bill_id)
        t0 = time.perf_counter()
        lines, offset, total = 0, 0, 1
        while offset < total:
            page, total = bill_rates.list_rates(
                ports, cus, filters={"bill.id": bill_id}, fields=None, offset=offset, limit=1000
            )
            lines += len(page)
            offset += len(page)
        t_list = time.perf_counter() - t0
        out["statement"] = {
            "lines": lines,
            "generateSeconds": round(t_statement, 3),
            "endorseSeconds": round(t_endorse, 3),
            "invoicePdfSeconds": round(t_pdf, 3),
            "invoicePdfBytes": len(pdf),
            "listAllLinesSeconds": round(t_list, 3),
        }
    out["peakMB"] = round(_peak_mb())
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
