"""SQLModel tables of the system of record (the ledger's own table lives with its adapter).

Bulk rows (report records, match items) are written with Core ``executemany`` / ``COPY``
through these tables' ``__table__``, never as ORM objects one by one.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from .metadata import metadata

__all__ = [
    "ApiClient",
    "BillRequest",
    "BillingLine",
    "BillingStatement",
    "StatementEndorsement",
    "EventSubscription",
    "CustodialKey",
    "IdempotencyKey",
    "InventoryRecord",
    "InventoryReport",
    "LedgerVisibility",
    "MatchEndorsement",
    "MatchItem",
    "MatchItemRefs",
    "MatchRun",
    "Party",
    "DisputeEntity",
    "DisputeLedgerEntry",
    "DisputeSignature",
    "Relation",
    "RelationAgreement",
    "ReviewAction",
    "ReviewItem",
    "ReviewSignature",
    "TroubleTicket",
    "ServerSecret",
    "metadata",
]


class Party(SQLModel, table=True):
    __tablename__ = "party"
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    role: str = Field(max_length=16)  # operator | carrier
    address: str = Field(max_length=42, unique=True)
    custody: str = Field(max_length=16)  # custodial | external
    ledger_seq: int | None = None
    created_at: str = Field(max_length=40)


class CustodialKey(SQLModel, table=True):
    """Private keys the server holds for custodial parties (sealed with the data folder key)."""

    __tablename__ = "custodial_key"
    party_id: str = Field(primary_key=True, foreign_key="party.id", max_length=64)
    sealed_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ApiClient(SQLModel, table=True):
    __tablename__ = "api_client"
    client_id: str = Field(primary_key=True, max_length=64)
    party_id: str = Field(foreign_key="party.id", index=True, max_length=64)
    secret_hash: str = Field(max_length=128)
    scopes: str = Field(max_length=500)
    created_at: str = Field(max_length=40)


class ServerSecret(SQLModel, table=True):
    __tablename__ = "server_secret"
    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=200)


class Relation(SQLModel, table=True):
    """A proposal may name a party that does not exist: it must look the same to its
    proposer as one to an existing carrier (ids are not to be enumerated), so supplier and
    customer are not foreign keys. It can never be agreed: agreement needs both parties'
    signatures, and `relation_agreement.party_id` is one."""

    __tablename__ = "relation"
    id: str = Field(primary_key=True, max_length=64)
    supplier_id: str = Field(index=True, max_length=64)
    customer_id: str = Field(index=True, max_length=64)
    profile: str = Field(sa_column=Column(Text, nullable=False))
    profile_hash: str = Field(max_length=64)
    terms: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(max_length=16)  # proposed | agreed
    proposed_by: str = Field(max_length=64)
    ledger_seq: int | None = None
    created_at: str = Field(max_length=40)


class RelationAgreement(SQLModel, table=True):
    __tablename__ = "relation_agreement"
    relation_id: str = Field(primary_key=True, foreign_key="relation.id", max_length=64)
    party_id: str = Field(primary_key=True, foreign_key="party.id", max_length=64)
    signature: str = Field(max_length=132)
    created_at: str = Field(max_length=40)


class InventoryReport(SQLModel, table=True):
    __tablename__ = "inventory_report"
    __table_args__ = (
        UniqueConstraint(
            "relation_id", "side", "as_of", "version", name="uq_inventory_report_version"
        ),
    )
    id: str = Field(primary_key=True, max_length=64)
    relation_id: str = Field(foreign_key="relation.id", max_length=64)
    reporter_id: str = Field(foreign_key="party.id", max_length=64)
    side: str = Field(max_length=16)  # supplier | customer
    as_of: str = Field(max_length=10)
    version: int
    content_hash: str = Field(max_length=64)
    merkle_root: str = Field(max_length=64)
    record_count: int
    media_type: str = Field(max_length=64)
    origin: str = Field(max_length=32)  # upload | productChange
    signature: str = Field(max_length=132)
    ledger_seq: int | None = None
    created_at: str = Field(max_length=40)
    # JSON {reported status: how many records carry it}, written with the records: the
    # product lists' totals per status without counting (null on reports stored before it).
    status_counts: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Records held out of the upload because they could not be read (relation term
    # unreadableRecords: holdOut): how many and the hash the ledger entry commits to (0 and
    # null when none), and their listing as JSON {"problemCounts", "records"} (off-ledger,
    # like the records; null when none).
    held_out_count: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    held_out_hash: str | None = Field(default=None, max_length=64)
    held_out: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class InventoryRecord(SQLModel, table=True):
    __tablename__ = "inventory_record"
    __table_args__ = (
        Index("ix_inventory_record_product", "report_id", "product_id"),
        # the product lists page by status and by externalId in the database; a deep page
        # of a status is found by searching the status positions this index also holds
        Index("ix_inventory_record_status", "report_id", "status", "seq", "status_pos"),
        Index(
            "ix_inventory_record_external",
            "report_id",
            "external_id",
            sqlite_where=text("external_id IS NOT NULL"),
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        # ... and by the strings of the record the lists filter on (name, offering, spec)
        *(
            Index(
                f"ix_inventory_record_{column}",
                "report_id",
                column,
                "seq",
                sqlite_where=text(f"{column} IS NOT NULL"),
                postgresql_where=text(f"{column} IS NOT NULL"),
            )
            for column in ("name", "offering_id", "specification_id")
        ),
    )
    report_id: str = Field(primary_key=True, foreign_key="inventory_report.id", max_length=64)
    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    product_id: str = Field(max_length=256)
    external_id: str | None = Field(default=None, max_length=256)
    status: str = Field(max_length=64)
    body: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON
    # the record's name, productOffering.id, productSpecification.id when each is a JSON
    # string (services.ports.reports.stored_string), else NULL
    name: str | None = Field(default=None, max_length=256)
    offering_id: str | None = Field(default=None, max_length=256)
    specification_id: str | None = Field(default=None, max_length=256)
    # how many records of the report before this one carry the same status
    status_pos: int = Field(sa_column=Column(Integer, nullable=False))


class MatchRun(SQLModel, table=True):
    __tablename__ = "match_run"
    __table_args__ = (Index("ix_match_run_relation", "relation_id", "as_of"),)
    id: str = Field(primary_key=True, max_length=64)
    relation_id: str = Field(foreign_key="relation.id", max_length=64)
    as_of: str = Field(max_length=10)
    supplier_report_id: str = Field(foreign_key="inventory_report.id", max_length=64)
    customer_report_id: str = Field(foreign_key="inventory_report.id", max_length=64)
    profile_hash: str = Field(max_length=64)
    state: str = Field(max_length=16)  # recorded | final
    counts: str = Field(sa_column=Column(Text, nullable=False))
    items_root: str = Field(max_length=64)
    item_count: int
    ledger_seq: int | None = None
    endorsed_seq: int | None = None
    created_at: str = Field(max_length=40)
    # The run for the same relation and date that this one re-matched incrementally, and
    # what it re-matched (JSON); both null for a full match.
    previous_run_id: str | None = Field(default=None, max_length=64)
    rematched: str | None = Field(default=None, max_length=1000)
    # Confirmed candidate pairs linked before any rule: JSON [[supplier ref, customer ref]].
    links: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    # What the profile reached in the two reports (JSON, panther.matching.coverage); null for
    # runs recorded before coverage was kept. Not on the ledger: it is derived from the
    # reports and the profile the run's entry names.
    coverage: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class MatchEndorsement(SQLModel, table=True):
    __tablename__ = "match_endorsement"
    run_id: str = Field(primary_key=True, foreign_key="match_run.id", max_length=64)
    party_id: str = Field(primary_key=True, foreign_key="party.id", max_length=64)
    signature: str = Field(max_length=132)
    created_at: str = Field(max_length=40)


class MatchItem(SQLModel, table=True):
    __tablename__ = "match_item"
    __table_args__ = (Index("ix_match_item_class", "run_id", "class", "reason"),)
    run_id: str = Field(primary_key=True, foreign_key="match_run.id", max_length=64)
    item_no: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    class_: str = Field(sa_column=Column("class", String(16), nullable=False))
    reason: str | None = Field(default=None, max_length=32)
    rule: str | None = Field(default=None, max_length=64)
    diff_fields: str = Field(default="", max_length=2_000)  # ",a,b," for LIKE filters
    body: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON of the item


class MatchItemRefs(SQLModel, table=True):
    """Which item each record of a run's report is in: for record positions chunk * CHUNK to
    (chunk + 1) * CHUNK - 1 of one side's report, their item numbers (little-endian int32,
    -1 for a position no item holds). Written in position order, a few hundred rows for a
    million records: an index of positions to items without an index insert per record."""

    __tablename__ = "match_item_refs"
    run_id: str = Field(primary_key=True, foreign_key="match_run.id", max_length=64)
    side: str = Field(primary_key=True, max_length=16)  # supplier | customer
    chunk: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    item_nos: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class MatchSuggestion(SQLModel, table=True):
    """A fuzzy candidate pair between a run's missing items, for both carriers to confirm.
    Advisory: not part of the items the run's Merkle root commits to."""

    __tablename__ = "match_suggestion"
    run_id: str = Field(primary_key=True, foreign_key="match_run.id", max_length=64)
    supplier_item: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    customer_item: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    distance: int
    score: float
    reason: str = Field(max_length=1000)
    confirmed_by: str = Field(default="[]", max_length=1000)  # JSON list of party ids
    linked_run_id: str | None = Field(default=None, max_length=64)


class EventSubscription(SQLModel, table=True):
    """A TMF hub listener: events go to ``<callback>/listener/<eventType>``."""

    __tablename__ = "event_subscription"
    id: str = Field(primary_key=True, max_length=64)
    party_id: str = Field(foreign_key="party.id", index=True, max_length=64)
    api: str = Field(max_length=64)
    callback: str = Field(max_length=2000)
    query: str | None = Field(default=None, max_length=2000)
    created_at: str = Field(max_length=40)


class BillingStatement(SQLModel, table=True):
    """A supplier's billing statement (a TMF678 customerBill): one version for a relation and
    period. ``statement`` is the canonical JSON whose hash ``StatementIssued`` commits to."""

    __tablename__ = "billing_statement"
    __table_args__ = (
        UniqueConstraint("relation_id", "period", "version", name="uq_billing_statement_version"),
        Index("ix_billing_statement_period_start", "period_start"),
        Index("ix_billing_statement_period_end", "period_end"),
    )
    id: str = Field(primary_key=True, max_length=160)
    relation_id: str = Field(foreign_key="relation.id", max_length=64)
    period: str = Field(max_length=16)  # label: 2026-10 or 2026-Q4
    # The period's first day and the day after its last (YYYY-MM-DD, as in ``statement``),
    # what the bill lists filter on.
    period_start: str = Field(max_length=10)
    period_end: str = Field(max_length=10)
    version: int
    state: str = Field(max_length=16)  # new | onHold | validated | sent | partiallyPaid | settled
    statement: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON
    statement_hash: str = Field(max_length=64)
    lines_root: str = Field(max_length=64)
    supersedes: str | None = Field(default=None, max_length=160)
    superseded_by: str | None = Field(default=None, max_length=160)
    run_id: str = Field(foreign_key="match_run.id", max_length=64)
    issued_seq: int | None = None
    agreed_seq: int | None = None
    revision: int  # bumped on every change: the ETag
    created_at: str = Field(max_length=40)
    updated_at: str = Field(max_length=40)


class BillingLine(SQLModel, table=True):
    """One appliedCustomerBillingRate: a statement line (billed) or a held-out item."""

    __tablename__ = "billing_line"
    __table_args__ = (Index("ix_billing_line_bill", "bill_id", "line_no"),)
    id: str = Field(primary_key=True, max_length=180)
    bill_id: str = Field(foreign_key="billing_statement.id", max_length=160)
    relation_id: str = Field(max_length=64)
    line_no: int
    is_billed: bool
    kind: str = Field(max_length=32)  # recurringCharge | oneTimeCharge | appliedBillingCredit
    product_id: str | None = Field(default=None, max_length=256)
    body: str = Field(sa_column=Column(Text, nullable=False))  # the line's statement JSON


class StatementEndorsement(SQLModel, table=True):
    """Signatures over a statement's StatementAgreed transaction, collected party by party."""

    __tablename__ = "statement_endorsement"
    bill_id: str = Field(primary_key=True, foreign_key="billing_statement.id", max_length=160)
    party_id: str = Field(primary_key=True, foreign_key="party.id", max_length=64)
    signature: str = Field(max_length=132)
    created_at: str = Field(max_length=40)


class BillRequest(SQLModel, table=True):
    """A TMF678 customerBillOnDemand: who asked for which relation's statement and period."""

    __tablename__ = "bill_request"
    id: str = Field(primary_key=True, max_length=64)
    relation_id: str = Field(foreign_key="relation.id", index=True, max_length=64)
    party_id: str = Field(foreign_key="party.id", max_length=64)
    period: str = Field(max_length=16)
    state: str = Field(max_length=24)
    bill_id: str | None = Field(default=None, max_length=160)
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    created_at: str = Field(max_length=40)


class ReviewItem(SQLModel, table=True):
    """The review state of one `partial` or `mismatch` item of a run, written when a carrier
    first acts on it (an item without a row is open). ``revision`` is its ETag.

    ``proposal`` is the open proposal (JSON: action, proposer, what it resolves to) that the
    other carrier may agree to; ``item_key`` identifies the item across runs (the products
    on both sides, its class and differences), so an agreement carries over to a later run
    in which the item is unchanged."""

    __tablename__ = "review_item"
    run_id: str = Field(primary_key=True, foreign_key="match_run.id", max_length=64)
    item_no: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    relation_id: str = Field(foreign_key="relation.id", index=True, max_length=64)
    state: str = Field(max_length=16)  # open | proposed | agreed
    revision: int
    proposal_id: str | None = Field(default=None, max_length=120)
    proposal: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    resolution: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    agreed_seq: int | None = None
    item_key: str | None = Field(default=None, max_length=64, index=True)
    carried_from: str | None = Field(default=None, max_length=64)
    updated_at: str = Field(max_length=40)


class ReviewAction(SQLModel, table=True):
    """Every review action as the partner sees it: who, what, on which items, its ledger entry.
    A bulk action is one row with the item numbers it covered (and their Merkle root)."""

    __tablename__ = "review_action"
    __table_args__ = (Index("ix_review_action_item", "run_id", "item_no"),)
    id: str = Field(primary_key=True, max_length=64)
    run_id: str = Field(foreign_key="match_run.id", max_length=64)
    item_no: int | None = None  # None for a bulk action
    party_id: str = Field(foreign_key="party.id", max_length=64)
    action: str = Field(max_length=32)
    body: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    ledger_seq: int | None = None
    created_at: str = Field(max_length=40)


class ReviewSignature(SQLModel, table=True):
    """Signatures over a proposal's ReviewAgreed transaction, collected party by party."""

    __tablename__ = "review_signature"
    proposal_id: str = Field(primary_key=True, max_length=120)
    party_id: str = Field(primary_key=True, foreign_key="party.id", max_length=64)
    signature: str = Field(max_length=132)
    created_at: str = Field(max_length=40)


class TroubleTicket(SQLModel, table=True):
    """A dispute (TMF621 trouble ticket). ``body`` is the JSON of the ticket's TMF properties
    (name, description, notes, relatedEntity, statusChange, resolution, ...); ``revision`` is
    its ETag. ``credit`` (JSON Money) is an agreed credit, ``credited_period`` the billing
    period whose statement carries it. ``external_key`` is the SHA-256 (hex) of the
    ``externalId`` string the originator gave (None without one): what the list filters on,
    of a fixed size whatever the string holds."""

    __tablename__ = "trouble_ticket"
    __table_args__ = (
        Index("ix_trouble_ticket_created", "created_at", "id"),  # list order
        Index("ix_trouble_ticket_external_key", "external_key"),
        Index("ix_trouble_ticket_credited", "relation_id", "credited_period"),
    )
    id: str = Field(primary_key=True, max_length=64)
    relation_id: str = Field(foreign_key="relation.id", index=True, max_length=64)
    ticket_type: str = Field(max_length=32)  # inventoryDispute | billingDispute
    status: str = Field(max_length=16)
    originator_id: str = Field(foreign_key="party.id", max_length=64)
    external_key: str | None = Field(default=None, max_length=64)
    body: str = Field(sa_column=Column(Text, nullable=False))
    revision: int
    proposal_no: int = 0
    credit: str | None = Field(default=None, max_length=200)
    credited_period: str | None = Field(default=None, max_length=16)
    resolved_seq: int | None = None
    created_at: str = Field(max_length=40)
    updated_at: str = Field(max_length=40)


class DisputeEntity(SQLModel, table=True):
    """What a dispute is about, one row per disputed entity: a match item (``runId:itemNo``),
    a bill line (appliedCustomerBillingRate id) or a bill; ``product_id`` the product concerned,
    so a later statement can hold it out."""

    __tablename__ = "dispute_entity"
    __table_args__ = (Index("ix_dispute_entity_entity", "entity_id"),)
    ticket_id: str = Field(primary_key=True, foreign_key="trouble_ticket.id", max_length=64)
    entity_id: str = Field(primary_key=True, max_length=200)
    kind: str = Field(max_length=32)  # MatchItem | AppliedCustomerBillingRate | CustomerBill
    relation_id: str = Field(foreign_key="relation.id", index=True, max_length=64)
    product_id: str | None = Field(default=None, max_length=256)


class DisputeLedgerEntry(SQLModel, table=True):
    """The ledger entries of a dispute's transactions (its opening, each status change, the
    agreement), which the ticket shows among its related entities."""

    __tablename__ = "dispute_ledger_entry"
    __table_args__ = (Index("ix_dispute_ledger_entry_seq", "seq"),)
    ticket_id: str = Field(primary_key=True, foreign_key="trouble_ticket.id", max_length=64)
    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))


class DisputeSignature(SQLModel, table=True):
    """Signatures over a resolution proposal's DisputeResolved transaction."""

    __tablename__ = "dispute_signature"
    ticket_id: str = Field(primary_key=True, foreign_key="trouble_ticket.id", max_length=64)
    proposal_no: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    party_id: str = Field(primary_key=True, foreign_key="party.id", max_length=64)
    signature: str = Field(max_length=132)
    created_at: str = Field(max_length=40)


class IdempotencyKey(SQLModel, table=True):
    """A request sent with an ``Idempotency-Key``: in flight while ``status`` is null, then
    its response, replayed to a retry with the same key and the same request until
    ``expires_at``."""

    __tablename__ = "idempotency_key"
    owner: str = Field(primary_key=True, max_length=64)  # the caller's party
    key: str = Field(primary_key=True, max_length=255)
    fingerprint: str | None = Field(default=None, max_length=64)
    status: int | None = None
    headers: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: str = Field(max_length=40)
    expires_at: str = Field(index=True, max_length=40)


class LedgerVisibility(SQLModel, table=True):
    """Whose each ledger entry is: the relation it is of, or (for an entry of no relation)
    the party it registers. A projection of the ledger written with each append in the unit
    of work and caught up from the ledger when behind; carriers' listings filter on it.

    The positions number the entries from 0 in seq order: among the owner's (its relation
    or party; None for an entry of neither), among the owner's of the same type, and among
    all of the same type; listings find a page by them instead of walking to it."""

    __tablename__ = "ledger_visibility"
    __table_args__ = (
        Index("ix_ledger_visibility_relation", "relation_id", "tx_type", "seq"),
        Index("ix_ledger_visibility_party", "party_id", "tx_type", "seq"),
        Index("ix_ledger_visibility_type_pos", "tx_type", "type_pos"),
        Index("ix_ledger_visibility_relation_seq", "relation_id", "seq"),
        Index("ix_ledger_visibility_party_seq", "party_id", "seq"),
    )
    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    tx_type: str = Field(max_length=40)
    relation_id: str | None = Field(default=None, max_length=200)
    party_id: str | None = Field(default=None, max_length=64)
    owner_pos: int | None = None
    owner_type_pos: int | None = None
    type_pos: int | None = None
