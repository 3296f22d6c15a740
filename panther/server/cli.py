"""The ``panther`` command: run the server, migrate, verify the ledger, run the demo, and
drive the API as a carrier or the operator."""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import click

from .settings import Settings

__all__ = ["main"]

# connexion imports starlette's test client at import time; its deprecation notice is noise
# on every command line.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")


def _settings(data_dir: str | None, database_url: str | None, port: int | None) -> Settings:
    overrides: dict[str, Any] = {}
    if data_dir:
        overrides["data_dir"] = Path(data_dir)
    if database_url:
        overrides["database_url"] = database_url
    if port:
        overrides["port"] = port
    return Settings.from_env(**overrides)


@click.group()
def main() -> None:
    """Stone Panther: carriers reconcile inventories and endorse the result on a ledger."""


def _started(start: Any) -> Any:
    """Start something that needs the database and the ledger; one that is unreachable (after
    the bounded wait) or not the one configured stops the command with a one-line message
    instead of a traceback."""
    from panther.adapters.sql.db import DatabaseUnreachable
    from panther.ledger.errors import LedgerError

    try:
        return start()
    except DatabaseUnreachable as exc:
        raise click.ClickException(f"the database cannot be used: {exc}") from None
    except LedgerError as exc:
        raise click.ClickException(f"the ledger cannot be used: {exc}") from exc


def _release(system: Any) -> None:
    """Let go of what a maintenance command composed: the database's connections and the
    EVM ledger's RPC thread."""
    system.db.engine.dispose()
    close = getattr(system.ledger, "close", None)
    if close is not None:
        close()


@main.command()
@click.option("--data-dir", help="where the SQLite file, keys and credentials live")
@click.option("--database-url", help="SQLAlchemy URL (default: SQLite in the data folder)")
@click.option("--port", type=int, help="default 8080 or PANTHER_PORT")
def serve(data_dir: str | None, database_url: str | None, port: int | None) -> None:
    """Migrate and start the server on 127.0.0.1 (embedded defaults)."""
    import uvicorn

    from .app import create_app

    settings = _settings(data_dir, database_url, port)
    app = _started(lambda: create_app(settings))
    creds = Path(settings.data_dir) / "operator-credentials.json"
    click.echo(
        f"Stone Panther on http://{settings.host}:{settings.port} "
        f"(database {settings.resolved_database_url.split('@')[-1]}, ledger "
        f"{settings.ledger}); operator credentials: {creds.resolve()}"
    )
    click.echo(f"API docs: http://{settings.host}:{settings.port}/panther/v1/ui/")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")


@main.command()
@click.option("--data-dir")
@click.option("--database-url")
def migrate(data_dir: str | None, database_url: str | None) -> None:
    """Bring the database schema to the newest revision."""
    from panther.adapters.sql.db import make_engine, wait_until_reachable
    from panther.adapters.sql.db import migrate as run

    settings = _settings(data_dir, database_url, None)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    _started(lambda: wait_until_reachable(engine, seconds=settings.database_wait_seconds))
    run(engine)
    click.echo("schema is up to date")


@main.group()
def ledger() -> None:
    """Inspect and verify the ledger."""


@ledger.command("verify")
@click.option("--data-dir")
@click.option("--database-url")
@click.option("--json", "as_json", is_flag=True)
def ledger_verify(data_dir: str | None, database_url: str | None, as_json: bool) -> None:
    """Recompute the hash chain, signatures, Merkle roots and projections; report every
    co-signature both carriers signed that never completed."""
    from .bootstrap import compose
    from .representations.panther.ledger import verification_lines, verification_view
    from .services.ledger_view import verify

    settings = _settings(data_dir, database_url, None)
    system = _started(lambda: compose(settings, ensure_operator_party=False))
    try:
        result = verification_view(verify(system))
    finally:
        _release(system)
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        for line in verification_lines(result):
            click.echo(line)
    sys.exit(0 if result["ok"] else 1)


@ledger.command("replay")
@click.option("--data-dir")
@click.option("--database-url")
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--into",
    "into_url",
    metavar="DATABASE_URL",
    help="also write the rebuilt projections into this empty database (migrated first)",
)
def ledger_replay(
    data_dir: str | None, database_url: str | None, as_json: bool, into_url: str | None
) -> None:
    """Rebuild the projections from the ledger alone and compare them with the database.

    Exits 0 when the database holds what the ledger determines, 1 when it does not.
    """
    from panther.adapters.sql.db import Database, make_engine
    from panther.adapters.sql.db import migrate as run_migrations
    from panther.adapters.sql.uow import SqlUnitsOfWork
    from panther.ledger.errors import LedgerError

    from .bootstrap import compose
    from .services import replay, replay_into

    settings = _settings(data_dir, database_url, None)
    system = _started(lambda: compose(settings, ensure_operator_party=False))
    try:
        with system.uow.read() as uow:
            rebuilt, result = replay.replay(system.ledger, uow)
    except LedgerError as exc:
        click.echo(f"ledger unreadable: {exc!r}", err=True)
        sys.exit(1)
    finally:
        _release(system)
    if into_url:
        engine = make_engine(into_url)
        nowhere = _NoLedger()
        target = SqlUnitsOfWork(Database(engine), nowhere, lambda: nowhere)
        try:
            run_migrations(engine)
            with target.write() as uow:
                written = replay_into.write_projections(uow, rebuilt)
        except replay_into.ReplayError as exc:
            raise click.UsageError(f"--into: {exc}") from exc
        finally:
            engine.dispose()
        result["into"] = {"url": into_url.split("@")[-1], "written": written}
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        _echo_replay(result)
    sys.exit(0 if result["equal"] else 1)


class _NoLedger:
    """The ledger and the outbox of a database ``ledger replay --into`` writes: it has
    neither (its entries stay where they were read from), so nothing may reach them."""

    def append(self, tx: Any, conn: Any = None) -> Any:
        raise RuntimeError("a rebuilt database has no ledger to append to")

    def get(self, seq: int) -> Any:
        raise RuntimeError("a rebuilt database has no ledger to read")

    def publish(self, callback: str, event_type: str, event: dict[str, Any]) -> None:
        raise RuntimeError("a rebuilt database has no listeners to publish to")


def _echo_replay(result: dict[str, Any]) -> None:
    skipped = ", ".join(f"{n} {t}" for t, n in result["notProjected"].items())
    click.echo(
        f"ledger: {result['entries']} entries" + (f" (not projected: {skipped})" if skipped else "")
    )
    click.echo(f"{'projection':<20} {'ledger':>8} {'database':>8}")
    for name, n in result["counts"].items():
        click.echo(f"{name:<20} {n['ledger']:>8} {n['database']:>8}")
    if "into" in result:
        total = sum(result["into"]["written"].values())
        click.echo(f"wrote {total} rebuilt rows into {result['into']['url']}")
    for problem in result["ledgerProblems"]:
        click.echo(f"ledger problem: {problem}")
    for problem in result["databaseProblems"]:
        click.echo(f"database problem: {problem}")
    for d in result["differences"]:
        click.echo(f"  {d['detail']}")
    if result["equal"]:
        click.echo("replay EQUAL: the database holds what the ledger determines")
    else:
        n = len(result["differences"])
        click.echo(f"replay DIFFERS: {n} difference(s)")


@main.command()
@click.option("--records", default=1000, show_default=True, help="records per side")
@click.option("--seed", default=7, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="one JSON object: counts, precision, recall")
@click.option("--data-dir", help="keep the demo's data here (default: a temporary folder)")
@click.option(
    "--ledger",
    type=click.Choice(["embedded", "evm"]),
    default="embedded",
    show_default=True,
    help="evm: start a local anvil node (npm ci first) and put the ledger on chain",
)
def demo(records: int, seed: int, as_json: bool, data_dir: str | None, ledger: str) -> None:
    """Two carriers, a relation, two generated inventories, a match, both endorsements."""
    from panther.demo.walkthrough import run_demo

    result = run_demo(
        records=records,
        seed=seed,
        data_dir=data_dir,
        ledger=ledger,
        echo=(lambda s: None) if as_json else click.echo,
    )
    if as_json:
        click.echo(json.dumps(result, indent=2, sort_keys=True))


# ---- client commands (talk to a running server) ----


def _client(ctx: click.Context) -> Any:
    from panther.client import PantherClient

    o = ctx.obj
    client_id, client_secret = o["client_id"], o["client_secret"]
    if o["credentials"]:
        c = json.loads(Path(o["credentials"]).read_text())
        client_id, client_secret = c["clientId"], c["clientSecret"]
    if not client_id or not client_secret:
        raise click.UsageError("give --credentials or --client-id and --client-secret")
    return PantherClient(o["url"], client_id, client_secret)


def _connection_options(command: Any) -> Any:
    """The options of every group that talks to a running server."""
    for option in reversed(
        [
            click.option(
                "--url", default=lambda: os.environ.get("PANTHER_URL", "http://127.0.0.1:8080")
            ),
            click.option("--client-id", default=lambda: os.environ.get("PANTHER_CLIENT_ID")),
            click.option(
                "--client-secret", default=lambda: os.environ.get("PANTHER_CLIENT_SECRET")
            ),
            click.option(
                "--credentials",
                type=click.Path(exists=True),
                help=(
                    "a JSON file with clientId and clientSecret "
                    "(e.g. data/operator-credentials.json)"
                ),
            ),
        ]
    ):
        command = option(command)
    return command


def _connect(
    ctx: click.Context,
    url: str,
    client_id: str | None,
    client_secret: str | None,
    credentials: str | None,
) -> None:
    # Checked when a command connects, so that `--help` of a command needs no credentials.
    ctx.obj = {
        "url": url,
        "client_id": client_id,
        "client_secret": client_secret,
        "credentials": credentials,
    }


@ledger.command("check-proof")
@click.argument("path", type=click.Path(exists=True))
@click.option(
    "--online",
    is_flag=True,
    help="also ask the server (--url and credentials) that its ledger holds the entry",
)
@click.option(
    "--rpc",
    metavar="URL",
    help="EVM ledger: also ask a node of the chain that the transaction recorded the entry",
)
@_connection_options
@click.pass_context
def ledger_check_proof(
    ctx: click.Context,
    path: str,
    online: bool,
    rpc: str | None,
    url: str,
    client_id: str | None,
    client_secret: str | None,
    credentials: str | None,
) -> None:
    """Check a Merkle inclusion proof (from GET /panther/v1/ledger/proof): offline, that the
    leaf is under the root a signed ledger entry commits to; with --online, that the server's
    ledger holds that entry; with --rpc, that the chain recorded it."""
    from panther.ledger.proofs import check_proof_document, matches_ledger

    try:
        document = json.loads(Path(path).read_text())
    except ValueError as exc:
        document = f"not JSON: {exc}"
    ok, reason = check_proof_document(document)
    if ok and online:
        _connect(ctx, url, client_id, client_secret, credentials)
        held = _client(ctx).get(f"/panther/v1/ledger/entry/{int(document['entry']['seq'])}")
        ok, found = matches_ledger(document, held)
        reason = f"{reason}; {found}" if ok else found
    if ok and rpc:
        from panther.adapters.evm.receipts import check_on_chain

        ok, found = check_on_chain(document, rpc)
        reason = f"{reason}; {found}" if ok else found
    click.echo(("proof OK: " if ok else "proof INVALID: ") + reason)
    sys.exit(0 if ok else 1)


@main.group()
@_connection_options
@click.pass_context
def api(
    ctx: click.Context,
    url: str,
    client_id: str | None,
    client_secret: str | None,
    credentials: str | None,
) -> None:
    """Call a running server as a carrier or the operator."""
    _connect(ctx, url, client_id, client_secret, credentials)


def _out(value: Any) -> None:
    click.echo(json.dumps(value, indent=2))


@api.command("register-party")
@click.argument("name")
@click.option("--id", "party_id")
@click.pass_context
def api_register(ctx: click.Context, name: str, party_id: str | None) -> None:
    """(operator) Register a carrier; prints its credentials once."""
    _out(_client(ctx).register_party(name, party_id))


@api.command("propose-relation")
@click.argument("supplier")
@click.argument("customer")
@click.option("--profile", type=click.Path(exists=True), help="a match profile JSON file")
@click.pass_context
def api_propose(ctx: click.Context, supplier: str, customer: str, profile: str | None) -> None:
    extra = {"profile": json.loads(Path(profile).read_text())} if profile else {}
    _out(_client(ctx).propose_relation(supplier, customer, **extra))


@api.command("agree")
@click.argument("relation_id")
@click.pass_context
def api_agree(ctx: click.Context, relation_id: str) -> None:
    _out(_client(ctx).agree(relation_id))


@api.command("upload")
@click.argument("relation_id")
@click.argument("as_of")
@click.argument("path", type=click.Path(exists=True))
@click.pass_context
def api_upload(ctx: click.Context, relation_id: str, as_of: str, path: str) -> None:
    """Upload a report (.json, .ndjson or .csv) for a relation as of a date."""
    suffix = Path(path).suffix.lower()
    media = {
        ".json": "application/json",
        ".ndjson": "application/x-ndjson",
        ".csv": "text/csv",
    }.get(suffix)
    if media is None:
        raise click.UsageError("the file must end in .json, .ndjson or .csv")
    _out(_client(ctx).upload(relation_id, as_of, Path(path).read_bytes(), media))


@api.command("match")
@click.argument("relation_id")
@click.argument("as_of")
@click.pass_context
def api_match(ctx: click.Context, relation_id: str, as_of: str) -> None:
    _out(_client(ctx).run_match(relation_id, as_of))


@api.command("items")
@click.argument("run_id")
@click.option("--class", "class_")
@click.option("--field")
@click.option("--product-id", help="items holding a record with this product id, either side")
@click.option("--supplier-product-id", help="... a supplier record with this product id")
@click.option("--customer-product-id", help="... a customer record with this product id")
@click.option("--offset", default=0)
@click.option("--limit", default=20)
@click.pass_context
def api_items(
    ctx: click.Context,
    run_id: str,
    class_: str | None,
    field: str | None,
    product_id: str | None,
    supplier_product_id: str | None,
    customer_product_id: str | None,
    offset: int,
    limit: int,
) -> None:
    """A page of the items of match run RUN_ID (each with the ids of its records)."""
    query = {
        "class": class_,
        "field": field,
        "productId": product_id,
        "supplierProductId": supplier_product_id,
        "customerProductId": customer_product_id,
        "offset": offset,
        "limit": limit,
    }
    _out(_client(ctx).get(f"/panther/v1/matchRun/{run_id}/item", **query))


@api.command("endorse")
@click.argument("run_id")
@click.pass_context
def api_endorse(ctx: click.Context, run_id: str) -> None:
    _out(_client(ctx).endorse(run_id))


@api.command("verify")
@click.pass_context
def api_verify(ctx: click.Context) -> None:
    _out(_client(ctx).verify_ledger())


@main.group("match")
@_connection_options
@click.pass_context
def match_group(
    ctx: click.Context,
    url: str,
    client_id: str | None,
    client_secret: str | None,
    credentials: str | None,
) -> None:
    """Look into the match runs of a running server (the connection options of `api`)."""
    _connect(ctx, url, client_id, client_secret, credentials)


@match_group.command("coverage")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="the run's coverage document")
@click.pass_context
def match_coverage(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """What the profile reached in match run RUN_ID's reports: per rule the records keyed and
    the duplicate keys on each side, per compared field the records resolved on each side and
    the linked pairs where it agreed, differed or was missing on both sides; then warnings."""
    from panther.matching.coverage import format_coverage

    run = _calling(ctx, lambda client: client.run(run_id))
    figures = run.get("coverage")
    if as_json:
        _out(figures)
    elif figures is None:
        click.echo(f"match run {run_id} was recorded before coverage was kept")
    else:
        click.echo(format_coverage(figures))


def _calling(ctx: click.Context, call: Any) -> Any:
    """`call(client)`, with the API's refusals and an unreachable server as one-line errors."""
    import httpx

    from panther.client import ApiError

    try:
        return call(_client(ctx))
    except ApiError as exc:
        raise click.ClickException(str(exc)) from exc
    except httpx.TransportError as exc:
        raise click.ClickException(f"cannot reach {ctx.obj['url']}: {exc}") from exc


@main.group("profile")
def profile_group() -> None:
    """Check a match profile against real records before it is agreed."""


def _records_file(path: str) -> list[Any]:
    """The records of a JSON array or NDJSON file (one record a line)."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        if text.lstrip().startswith("["):
            records = json.loads(text)
        else:
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError as exc:
        raise click.UsageError(f"{path}: not a JSON array or NDJSON: {exc}") from exc
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise click.UsageError(f"{path}: every record must be a JSON object")
    return records


@profile_group.command("check")
@click.argument("profile_path", metavar="PROFILE", type=click.Path(exists=True))
@click.option("--supplier", type=click.Path(exists=True), help="supplier records (JSON, NDJSON)")
@click.option("--customer", type=click.Path(exists=True), help="customer records (JSON, NDJSON)")
@click.option(
    "--relation",
    "relation_id",
    help="check on the server against this relation's reports (a side given by file is sent "
    "inline instead); needs the connection options",
)
@click.option("--as-of", help="with --relation: the reports for this date (default: current)")
@click.option("--json", "as_json", is_flag=True, help="the API's ProfileCheck document")
@click.option("--strict", is_flag=True, help="exit 1 when there is any warning")
@_connection_options
@click.pass_context
def profile_check(
    ctx: click.Context,
    profile_path: str,
    supplier: str | None,
    customer: str | None,
    relation_id: str | None,
    as_of: str | None,
    as_json: bool,
    strict: bool,
    url: str,
    client_id: str | None,
    client_secret: str | None,
    credentials: str | None,
) -> None:
    """Match records with the profile in PROFILE (a JSON file) and show, for every identifier
    rule, the records it keys and the keys duplicated on each side and, for every compared
    field, the records its path resolves in on each side and the linked pairs where it
    agreed, differed or was missing on both sides; then a warning for each field that
    resolves on neither side or on one side only. Without --relation it runs here, on the
    --supplier and --customer files; nothing is stored either way."""
    from panther.matching.coverage import check_profile, format_coverage
    from panther.matching.profile import InvalidProfile, MatchProfile

    try:
        document = json.loads(Path(profile_path).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise click.UsageError(f"{profile_path}: not JSON: {exc}") from exc
    records = {
        side: None if path is None else _records_file(path)
        for side, path in (("supplier", supplier), ("customer", customer))
    }
    if relation_id is not None:
        _connect(ctx, url, client_id, client_secret, credentials)
        outcome = _calling(
            ctx,
            lambda client: client.check_profile(
                profile=document,
                relationId=relation_id,
                asOf=as_of,
                supplierRecords=records["supplier"],
                customerRecords=records["customer"],
            ),
        )
    else:
        if records["supplier"] is None or records["customer"] is None:
            raise click.UsageError("give --supplier and --customer, or --relation")
        try:
            profile = MatchProfile.from_dict(document)
        except InvalidProfile as exc:
            raise click.ClickException(str(exc)) from exc
        outcome = check_profile(profile, records["supplier"], records["customer"])
    figures = outcome["coverage"]
    if as_json:
        _out(outcome)
    else:
        counts = ", ".join(f"{n} {name}" for name, n in outcome["counts"].items())
        click.echo(f"profile {outcome['profileHash'][:12]}: {counts}")
        click.echo(format_coverage(figures))
    sys.exit(1 if strict and figures["warnings"] else 0)


@match_group.command("explain")
@click.argument("run_id")
@click.argument("item_no", type=click.IntRange(min=0))
@click.option("--json", "as_json", is_flag=True, help="the API's explanation document")
@click.pass_context
def match_explain(ctx: click.Context, run_id: str, item_no: int, as_json: bool) -> None:
    """Why item ITEM_NO of match run RUN_ID is in its class: the rule that linked it (or each
    record's keys), then one line per compared field with its verdict and both sides' raw
    and normalised values."""
    from panther.matching.explain import format_explanation

    explanation = _calling(ctx, lambda client: client.explain(run_id, item_no))
    if as_json:
        _out(explanation)
    else:
        click.echo(format_explanation(explanation))


if __name__ == "__main__":
    main()
