"""Delivery of TMF hub events to listeners (``POST <callback>/listener/<eventType>``).

Delivery is best effort and off the request path: a background thread posts each event
once per listener with a short timeout, so a slow listener never slows a carrier's write.
Each delivery checks the callback again (`panther.adapters.outbound`), connects to the
address it checked and follows no redirect.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

import httpx

from .outbound import DestinationPolicy, Refused, Resolver, SystemResolver

__all__ = ["WebhookDispatcher"]

log = logging.getLogger("panther.webhooks")


class WebhookDispatcher:
    """The outbox. `resolver` is public so that tests can say what names resolve to."""

    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        timeout: float = 5.0,
        policy: DestinationPolicy | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)
        self.policy = policy or DestinationPolicy()
        self.resolver: Resolver = resolver or SystemResolver()
        self._queue: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def refusal(self, callback: str) -> str | None:
        return self.policy.refusal(callback, self.resolver)

    def publish(self, callback: str, event_type: str, event: dict[str, Any]) -> None:
        url = f"{callback.rstrip('/')}/listener/{event_type}"
        self._queue.put((url, event))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="panther-webhooks", daemon=True
                )
                self._thread.start()

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until queued events are delivered (tests, shutdown)."""
        done = threading.Event()
        self._queue.put(("__drain__", {"event": done}))
        done.wait(timeout)

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=30)
            except queue.Empty:
                return
            if item is None:
                return
            url, event = item
            if url == "__drain__":
                event["event"].set()
                continue
            self._deliver(url, event)

    def _deliver(self, url: str, event: dict[str, Any]) -> None:
        try:
            to = self.policy.destination(url, self.resolver)
        except (Refused, OSError) as exc:
            log.warning("event not delivered to %s: %s", url, exc)
            return
        try:
            self._client.post(
                to.url,
                json=event,
                headers={"Host": to.host_header},
                extensions={"sni_hostname": to.host} if to.host else {},
                follow_redirects=False,
            )
        except httpx.HTTPError as exc:
            log.warning("event delivery to %s failed: %s", url, exc)
