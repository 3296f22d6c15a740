"""Endorsing a match run: each carrier signs the run's MatchEndorsed transaction; with both
signatures it goes on the ledger and the run is final."""

from __future__ import annotations

from typing import Any

from .context import Caller
from .ports import Ports
from .run_transactions import endorsed_tx
from .runs_read import present_run, run_for
from .signing import co_sign

__all__ = ["endorse_run"]


def endorse_run(ports: Ports, caller: Caller, run_id: str, signature: str | None) -> dict[str, Any]:
    with ports.uow.write() as uow:
        row = run_for(uow, caller, run_id)
        relation = uow.relations.get(row["relation_id"])
        assert relation is not None
        signed = co_sign(
            ports,
            uow,
            signatures=uow.runs.endorsements(run_id),
            relation=relation,
            party_id=caller.party_id,
            tx=endorsed_tx(row),
            signature=signature,
        )
        if signed.entry is not None:
            uow.runs.set_final(run_id, signed.entry.seq)
            row = {**row, "state": "final", "endorsed_seq": signed.entry.seq}
        elif signed.already:  # as it stands now: the other may have completed meanwhile
            row = run_for(uow, caller, run_id)
        return present_run(ports, uow, row, signed.rows)
