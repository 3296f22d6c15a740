"""Handlers of /panther/v1: decode, call one use case, encode."""

from __future__ import annotations

import asyncio
from typing import Any

from connexion import request

from panther.matching.profile import DEFAULT_PROFILE

from .. import state as st
from ..representations.panther import ledger
from ..representations.panther.review import item_etag
from ..services import (
    ledger_view,
    matchruns,
    parties,
    profile_check,
    relations,
    reports,
    review,
    review_bulk,
    run_endorsement,
    runs_read,
    suggestions,
)
from .common import as_date, listing, one


def _c(token_info: dict[str, Any] | None) -> Any:
    return st.caller(token_info)


def listParty(token_info: dict[str, Any], offset: int = 0, limit: int = 100) -> Any:
    return listing(*parties.list_parties(st.ports(), _c(token_info), offset=offset, limit=limit))


def createParty(token_info: dict[str, Any], body: dict[str, Any]) -> Any:
    return one(parties.register_party(st.ports(), _c(token_info), body), 201)


def retrieveParty(token_info: dict[str, Any], id_: str) -> Any:
    return one(parties.get_party(st.ports(), _c(token_info), id_))


def retrieveDefaultMatchProfile(token_info: dict[str, Any]) -> Any:
    _c(token_info)
    return one(DEFAULT_PROFILE.to_dict())


async def createProfileCheck(token_info: dict[str, Any], body: dict[str, Any]) -> Any:
    # Matching whole reports takes seconds: off the event loop, like an upload.
    caller, ports = _c(token_info), st.ports()
    if body.get("asOf") is not None:
        body = {**body, "asOf": as_date(body["asOf"])}
    return one(await asyncio.to_thread(profile_check.check_profile, ports, caller, body))


def listRelation(
    token_info: dict[str, Any], offset: int = 0, limit: int = 100, state: str | None = None
) -> Any:
    return listing(
        *relations.list_relations(
            st.ports(), _c(token_info), offset=offset, limit=limit, state=state
        )
    )


def createRelation(token_info: dict[str, Any], body: dict[str, Any]) -> Any:
    view, created = relations.propose_or_find(st.ports(), _c(token_info), body)
    return one(view, 201 if created else 200)


def retrieveRelation(token_info: dict[str, Any], id_: str) -> Any:
    return one(relations.get_relation(st.ports(), _c(token_info), id_))


def createRelationAgreement(
    token_info: dict[str, Any], id_: str, body: dict[str, Any] | None = None
) -> Any:
    signature = (body or {}).get("signature")
    return one(relations.agree_relation(st.ports(), _c(token_info), id_, signature))


def listInventoryReport(
    token_info: dict[str, Any],
    offset: int = 0,
    limit: int = 100,
    relation_id: str | None = None,
    as_of: str | None = None,
) -> Any:
    return listing(
        *reports.list_reports(
            st.ports(),
            _c(token_info),
            relation_id=relation_id,
            as_of=as_date(as_of),
            offset=offset,
            limit=limit,
        )
    )


async def createInventoryReport(
    token_info: dict[str, Any], relation_id: str, as_of: str, problem_limit: int = 100
) -> Any:
    caller, ports = _c(token_info), st.ports()
    body = await request.body()
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    signature = request.headers.get("x-panther-signature")
    view, created = await asyncio.to_thread(
        reports.report_inventory,
        ports,
        caller,
        relation_id=relation_id,
        as_of=as_date(as_of),
        body=body,
        media_type=media_type,
        signature=signature,
        problem_limit=problem_limit,
    )
    return one(view, 201 if created else 200)


def retrieveInventoryReport(
    token_info: dict[str, Any], id_: str, held_out_offset: int = 0, held_out_limit: int = 100
) -> Any:
    return one(
        reports.get_report(
            st.ports(),
            _c(token_info),
            id_,
            held_out_offset=held_out_offset,
            held_out_limit=held_out_limit,
        )
    )


def listMatchRun(
    token_info: dict[str, Any],
    offset: int = 0,
    limit: int = 100,
    relation_id: str | None = None,
    as_of: str | None = None,
    state: str | None = None,
) -> Any:
    return listing(
        *runs_read.list_runs(
            st.ports(),
            _c(token_info),
            relation_id=relation_id,
            as_of=as_date(as_of),
            state=state,
            offset=offset,
            limit=limit,
        )
    )


def createMatchRun(token_info: dict[str, Any], body: dict[str, Any]) -> Any:
    view, created = matchruns.run_match(
        st.ports(), _c(token_info), body["relationId"], as_date(body["asOf"])
    )
    return one(view, 201 if created else 200)


def retrieveMatchRun(token_info: dict[str, Any], id_: str) -> Any:
    return one(runs_read.get_run(st.ports(), _c(token_info), id_))


def listMatchItem(
    token_info: dict[str, Any],
    id_: str,
    offset: int = 0,
    limit: int = 100,
    class_: str | None = None,
    reason: str | None = None,
    field: str | None = None,
    rule: str | None = None,
    product_id: str | None = None,
    supplier_product_id: str | None = None,
    customer_product_id: str | None = None,
) -> Any:
    return listing(
        *runs_read.list_items(
            st.ports(),
            _c(token_info),
            id_,
            class_=class_,
            reason=reason,
            field=field,
            rule=rule,
            offset=offset,
            limit=limit,
            product_id=product_id,
            supplier_product_id=supplier_product_id,
            customer_product_id=customer_product_id,
        )
    )


def retrieveMatchItem(token_info: dict[str, Any], id_: str, item_no: int) -> Any:
    view = runs_read.get_item(st.ports(), _c(token_info), id_, item_no)
    if "review" not in view:
        return one(view)
    return one(view, ETag=item_etag(view["review"]["revision"]))


def createReviewAction(
    token_info: dict[str, Any], id_: str, item_no: int, body: dict[str, Any]
) -> Any:
    view, tag, done = review.act(
        st.ports(), _c(token_info), id_, item_no, body, request.headers.get("if-match")
    )
    return one(view, 201 if done else 200, ETag=tag)


def createBulkReviewAction(token_info: dict[str, Any], id_: str, body: dict[str, Any]) -> Any:
    return one(review_bulk.bulk_act(st.ports(), _c(token_info), id_, body), 201)


def retrieveMatchItemExplanation(token_info: dict[str, Any], id_: str, item_no: int) -> Any:
    return one(runs_read.explain_item(st.ports(), _c(token_info), id_, item_no))


def createSuggestionConfirmation(
    token_info: dict[str, Any], id_: str, item_no: int, other_item_no: int
) -> Any:
    return one(
        suggestions.confirm_suggestion(st.ports(), _c(token_info), id_, item_no, other_item_no)
    )


def createMatchEndorsement(
    token_info: dict[str, Any], id_: str, body: dict[str, Any] | None = None
) -> Any:
    signature = (body or {}).get("signature")
    return one(run_endorsement.endorse_run(st.ports(), _c(token_info), id_, signature))


def listLedgerEntry(
    token_info: dict[str, Any], offset: int = 0, limit: int = 100, type_: str | None = None
) -> Any:
    ports = st.ports()
    entries, total = ledger_view.list_entries(
        ports, _c(token_info), offset=offset, limit=limit, type_=type_
    )
    base_url = ports.settings.public_base_url
    return listing([ledger.entry_view(e, base_url) for e in entries], total)


def retrieveLedgerEntry(token_info: dict[str, Any], seq: int) -> Any:
    ports = st.ports()
    entry = ledger_view.get_entry(ports, _c(token_info), seq)
    return one(ledger.entry_view(entry, ports.settings.public_base_url))


def _verification(job: Any) -> Any:
    view = ledger.verification_job_view(job, st.ports().settings.public_base_url)
    if job.state == "running":
        return one(view, 202, Location=view["href"])
    return one(view)


def createLedgerVerification(token_info: dict[str, Any]) -> Any:
    return _verification(st.verification_jobs().start(st.ports(), _c(token_info)))


def retrieveLedgerVerification(token_info: dict[str, Any], id_: str) -> Any:
    return _verification(st.verification_jobs().get(_c(token_info), id_))


def retrieveLedgerProof(
    token_info: dict[str, Any],
    report_id: str | None = None,
    index: int | None = None,
    product_id: str | None = None,
    run_id: str | None = None,
    item_no: int | None = None,
) -> Any:
    ports = st.ports()
    proof = ledger_view.proof(
        ports,
        _c(token_info),
        report_id=report_id,
        index=index,
        product_id=product_id,
        run_id=run_id,
        item_no=item_no,
    )
    return one(ledger.proof_document(proof, ports.settings.public_base_url))
