"""schemathesis's own engine (what `st run` drives) over one API document, in process.

Every phase (examples, coverage, fuzzing, stateful), every check, and the Web Fuzzing Commons
auth document of the seeded system: schemathesis picks per operation the first identity the
API admits (a carrier, the operator last), and replays each carrier's reads of its own objects
as the other peers (ST402, object-level authorization). A run is reproducible: the seed is
fixed and generation is deterministic.
"""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from schemathesis.engine.statistic import Statistic
from schemathesis.wfc.escalation import escalating_provider

from tests.conformance.seeded import system

ROOT = Path(__file__).resolve().parents[2]
SEED = 16
BASES = {
    "panther": "/panther/v1",
    "tmf637": "/tmf-api/productInventory/v4",
    "mef116": "/mefApi/sonata/productInventory/v7",
    "oauth": "/oauth",
    "tmf678": "/tmf-api/customerBillManagement/v4",
    "mef141": "/mefApi/sonata/customerBillManagement/v2",
    "tmf621": "/tmf-api/troubleTicket/v4",
}
# The carriers whose objects must stay apart. The supplier and the customer share their
# relation's reports, runs, bills and disputes by design (the relation is the tenant), so
# each is the other's counterparty, not a stranger to it; the stranger carrier belongs to
# another relation and must read nothing of theirs.
PEERS = ("supplier", "stranger")
# Per operation and phase; with the coverage and stateful phases this makes about 11,600 to
# 12,000 cases over the seven documents. Each test_schemathesis_*.py asserts a floor for its
# own documents (the floors add up to 10,300): the coverage phase is the same every run, the
# stateful phase follows the responses (MEF 141 made 861 cases in one run, 1,354 in another;
# TMF637 740 in one CI run, 1,333 in the next).
MAX_EXAMPLES = 100

_KEY = re.compile(r'^("[!#-\[\]-~]{1,255}"|[!#-\[\]-~]{1,255})$')
_KEYS = itertools.count()


@schemathesis.hook
def before_call(ctx: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """A well-formed Idempotency-Key becomes a fresh one, as a client makes one per request:
    generated keys repeat (the same key with the same body is a replay by design, and the
    stateful phase then finds the replayed answer naming what it deleted since). Malformed
    keys are left as drawn, so refusing them stays tested; replays are tested in
    tests/api/test_idempotency.py."""
    for headers in (case.headers, kwargs.get("headers")):
        for name in [n for n in headers or {} if n.lower() == "idempotency-key"]:
            if _KEY.match(str(headers[name])):
                headers[name] = f"st-{next(_KEYS)}"


@dataclass
class Outcome:
    label: str
    cases: int = 0
    # Reads of the supplier's objects replayed as the stranger (ST402), one per operation,
    # resource and peer.
    probes: int = 0
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def report(self) -> str:
        head = f"{self.label}: {self.cases} cases, {self.probes} cross-tenant reads"
        return "\n".join([head, *self.failures, *self.errors])


def config(wfc: Path, peers: tuple[str, ...], max_examples: int) -> SchemathesisConfig:
    data: dict[str, Any] = tomllib.loads((ROOT / "schemathesis.toml").read_text())
    data.update(
        seed=SEED,
        checks={**data.get("checks", {}), "enabled": True},
        generation={"max-examples": max_examples, "deterministic": True},
        auth={"wfc": {"path": str(wfc), "peers": list(peers)}},
        # No cache of earlier runs (identity assignments, seen failures): each run starts clean.
        cache={"enabled": False},
        **{"suppress-health-check": ["all"]},
    )
    return SchemathesisConfig.from_dict(data)


def run(app: Any, base: str, wfc: Path, peers: tuple[str, ...], max_examples: int) -> Outcome:
    """Every phase and check of schemathesis over the document served at `base`."""
    schema = schemathesis.openapi.from_asgi(
        f"{base}/openapi.json", app, config=config(wfc, peers, max_examples)
    )
    statistic = Statistic()
    outcome = Outcome(base)
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            statistic.on_scenario_finished(event.recorder)
        elif isinstance(event, events.NonFatalError):
            outcome.errors.append(f"  error in {event.label}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            outcome.errors.append(f"  fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished) and event.failures:
            statistic.record_run_check_failures(event.failures, label="run")
    outcome.cases = statistic.total_cases
    provider = escalating_provider(schema)
    # schemathesis keeps no public count of the probes it claimed.
    probed = provider._probed if provider is not None else set()
    outcome.probes = sum(1 for key in probed if key[0] == "read")
    for label, grouped in statistic.failures.items():
        for group in grouped.values():
            for failure in group.failures:
                answer = group.response
                got = f"{answer.status_code} {answer.text[:300]}" if answer is not None else ""
                outcome.failures.append(
                    f"  {label} as {group.auth_identity}: {failure.title}\n"
                    f"    {failure.message}\n    {group.code_sample}\n    -> {got}"
                )
    return outcome


def check_documents(folder: Path, names: tuple[str, ...], least: int) -> int:
    """Run every document in `names` over one seeded system: no failure, and at least `least`
    generated cases in all (the CI run counts on 10,000 over the seven documents)."""
    app, seeded, ports = system(folder)
    wfc = folder / "wfc.json"
    wfc.write_text(json.dumps(seeded.wfc()))
    try:
        outcomes = [run(app, BASES[name], wfc, PEERS, MAX_EXAMPLES) for name in names]
    finally:
        ports.db.engine.dispose()
    total = sum(outcome.cases for outcome in outcomes)
    print("\n".join(outcome.report() for outcome in outcomes), f"\ntotal: {total} cases")
    assert not [line for outcome in outcomes for line in (*outcome.failures, *outcome.errors)], (
        "\n".join(outcome.report() for outcome in outcomes)
    )
    assert total >= least, f"{total} cases generated, fewer than the {least} this run counts on"
    return total
