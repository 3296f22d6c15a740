"""Full ledger verification as the operator's background job.

Verification reads the whole ledger and every row it attests (seconds and hundreds of MB on
a large ledger), so it is the operator's alone and runs in its own thread: at most one at a
time per server (a second request joins the running job), a request waits for it at most
``Settings.verification_wait_seconds`` and otherwise answers with the job to poll. The last
few jobs are remembered in the process (a restart forgets them).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from . import ledger_view
from .context import Caller
from .errors import Forbidden, NotFound
from .ports import Ports

__all__ = ["VerificationJob", "VerificationJobs"]

log = logging.getLogger(__name__)

_KEPT = 16


@dataclass
class VerificationJob:
    """One verification: ``running`` until ``result`` (``done``) or ``error`` (``failed``)."""

    id: str
    started_at: str
    state: str = "running"
    finished_at: str | None = None
    result: ledger_view.LedgerVerification | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event, repr=False)


class VerificationJobs:
    """The verification jobs of one running server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, VerificationJob] = OrderedDict()
        self._running: VerificationJob | None = None

    def start(self, ports: Ports, caller: Caller) -> VerificationJob:
        """Start a verification (or join the running one) and wait for it a bounded time."""
        if not caller.is_operator:
            raise Forbidden("verifying the whole ledger is the operator's")
        with self._lock:
            job = self._running
            if job is None:
                job = VerificationJob(id=secrets.token_hex(8), started_at=ports.clock.now_iso())
                self._running = job
                self._jobs[job.id] = job
                while len(self._jobs) > _KEPT:
                    self._jobs.popitem(last=False)
                threading.Thread(
                    target=self._run, args=(ports, job), name="panther-verify", daemon=True
                ).start()
        job.done.wait(ports.settings.verification_wait_seconds)
        return job

    def get(self, caller: Caller, job_id: str) -> VerificationJob:
        if not caller.is_operator:
            raise Forbidden("verifying the whole ledger is the operator's")
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"no ledger verification {job_id}")
        return job

    def _run(self, ports: Ports, job: VerificationJob) -> None:
        try:
            job.result = ledger_view.verify(ports)
            job.state = "done"
        except Exception as exc:  # noqa: BLE001 - a job reports what stopped it
            log.exception("ledger verification %s failed", job.id)
            job.error, job.state = f"{type(exc).__name__}: {exc}", "failed"
        job.finished_at = ports.clock.now_iso()
        with self._lock:
            self._running = None
        job.done.set()
