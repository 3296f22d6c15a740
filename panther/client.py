"""A small HTTP client of the Stone Panther API (used by the CLI and the demo)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

__all__ = ["ApiError", "PantherClient"]


@dataclass
class ApiError(Exception):
    status: int
    body: Any

    def __str__(self) -> str:
        if isinstance(self.body, dict):
            return f"HTTP {self.status}: {self.body.get('message') or self.body}"
        return f"HTTP {self.status}: {self.body}"


class PantherClient:
    """One carrier's (or the operator's) session: client credentials in, bearer token out."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        http: httpx.Client | None = None,
        timeout: float = 600.0,
        retries: int = 2,
    ) -> None:
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self.client_id, self.client_secret = client_id, client_secret
        self.retries = retries
        self._token: str | None = None

    def close(self) -> None:
        self.http.close()

    def token(self) -> str:
        if self._token is None:
            r = self.http.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                },
            )
            self._check(r)
            self._token = r.json()["access_token"]
        return self._token

    @staticmethod
    def _check(r: httpx.Response) -> None:
        if r.status_code >= 400:
            try:
                body = r.json()
            except ValueError:
                body = r.text[:500]
            raise ApiError(r.status_code, body)

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """One request; sent again (up to ``retries`` times) when the connection fails. A
        write goes with an Idempotency-Key, the same on every try: if only its answer was
        lost, the server answers the retry with that answer and does nothing twice."""
        headers = {"Authorization": f"Bearer {self.token()}", **kw.pop("headers", {})}
        if method in ("POST", "PATCH"):
            headers.setdefault("Idempotency-Key", secrets.token_urlsafe(24))
        for attempt in range(self.retries + 1):
            try:
                r = self.http.request(method, path, headers=headers, **kw)
                break
            except httpx.TransportError:
                if attempt == self.retries:
                    raise
        self._check(r)
        return r

    def get(self, path: str, **params: Any) -> Any:
        return self.request(
            "GET", path, params={k: v for k, v in params.items() if v is not None}
        ).json()

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, json=body).json()

    def pages(self, path: str, *, page: int = 1000, **params: Any) -> Iterator[Any]:
        offset = 0
        while True:
            r = self.request(
                "GET",
                path,
                params={
                    **{k: v for k, v in params.items() if v is not None},
                    "offset": offset,
                    "limit": page,
                },
            )
            items = r.json()
            yield from items
            offset += len(items)
            if not items or offset >= int(r.headers.get("X-Total-Count", 0)):
                return

    # -- the reconciliation resources --

    def register_party(self, name: str, party_id: str | None = None) -> Any:
        return self.post(
            "/panther/v1/party", {"name": name, **({"id": party_id} if party_id else {})}
        )

    def propose_relation(self, supplier: str, customer: str, **extra: Any) -> Any:
        return self.post(
            "/panther/v1/relation", {"supplier": supplier, "customer": customer, **extra}
        )

    def agree(self, relation_id: str) -> Any:
        return self.post(f"/panther/v1/relation/{relation_id}/agreement", {})

    def upload(self, relation_id: str, as_of: str, body: bytes, media_type: str) -> Any:
        return self.request(
            "POST",
            "/panther/v1/inventoryReport",
            params={"relationId": relation_id, "asOf": as_of},
            content=body,
            headers={"Content-Type": media_type},
        ).json()

    def run_match(self, relation_id: str, as_of: str) -> Any:
        return self.post("/panther/v1/matchRun", {"relationId": relation_id, "asOf": as_of})

    def explain(self, run_id: str, item_no: int) -> Any:
        """Why an item of a run is in its class (GET .../item/{itemNo}/explanation)."""
        return self.get(f"/panther/v1/matchRun/{quote(run_id, safe='')}/item/{item_no}/explanation")

    def run(self, run_id: str) -> Any:
        """A match run, with its counts and coverage."""
        return self.get(f"/panther/v1/matchRun/{quote(run_id, safe='')}")

    def check_profile(self, **body: Any) -> Any:
        """POST /panther/v1/profileCheck (profile, relationId, asOf, supplierRecords,
        customerRecords; absent ones are left out)."""
        return self.post(
            "/panther/v1/profileCheck", {k: v for k, v in body.items() if v is not None}
        )

    def endorse(self, run_id: str) -> Any:
        return self.post(f"/panther/v1/matchRun/{run_id}/endorsement", {})

    def verify_ledger(self, poll_seconds: float = 1.0) -> Any:
        """Start (or join) the operator's verification and wait until it is done."""
        job = self.post("/panther/v1/ledger/verification")
        while job.get("state") == "running":
            time.sleep(poll_seconds)
            job = self.get(f"/panther/v1/ledger/verification/{job['id']}")
        return job

    # -- review, disputes and bills --

    def review(self, run_id: str, item_no: int, action: str, **body: Any) -> Any:
        """One review action on an item (POST .../item/{itemNo}/reviewAction)."""
        return self.post(
            f"/panther/v1/matchRun/{quote(run_id, safe='')}/item/{item_no}/reviewAction",
            {"action": action, **body},
        )

    def review_bulk(self, run_id: str, action: str, filter_: dict[str, Any], **body: Any) -> Any:
        return self.post(
            f"/panther/v1/matchRun/{quote(run_id, safe='')}/reviewAction",
            {"action": action, "filter": filter_, **body},
        )

    def patch(self, path: str, body: Any, *, if_match: str | None = None) -> Any:
        headers = {"Content-Type": "application/merge-patch+json"}
        if if_match is not None:
            headers["If-Match"] = if_match
        return self.request("PATCH", path, json=body, headers=headers).json()

    def dispute_status(self, ticket_id: str, status: str, **body: Any) -> Any:
        """Change a dispute's status (TMF621 PATCH), e.g. with a `resolution` for `resolved`."""
        return self.patch(
            f"/tmf-api/troubleTicket/v4/troubleTicket/{quote(ticket_id, safe='')}",
            {"status": status, **body},
        )

    def request_bill(self, relation_id: str, start: str, end: str) -> Any:
        """The supplier asks for its statement of a period (TMF678 customerBillOnDemand)."""
        return self.post(
            "/tmf-api/customerBillManagement/v4/customerBillOnDemand",
            {
                "billingAccount": {"id": relation_id},
                "billingPeriod": {"startDateTime": start, "endDateTime": end},
            },
        )

    def bill_state(self, bill_id: str, state: str) -> Any:
        return self.patch(
            f"/tmf-api/customerBillManagement/v4/customerBill/{quote(bill_id, safe='')}",
            {"state": state},
        )

    def bill_document(self, bill_id: str) -> bytes:
        """The invoice PDF of a bill."""
        path = f"/tmf-api/customerBillManagement/v4/customerBill/{quote(bill_id, safe='')}"
        return self.request("GET", f"{path}/billDocument").content
