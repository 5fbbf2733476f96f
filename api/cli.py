"""The `twofold` command line: serve, project, saga, relay, rebuild, status, dead letters, migrate, token, seed,
export-schema, export-event-schemas.

Every command and sub-command answers `--help`. Logs are JSON lines on standard error (api/logs.py);
what a command reports to its user (tables, tokens, summaries) goes to standard output.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from api import _projector_commands, _saga_commands, logs
from api.metrics import MULTIPROCESS_DIRECTORY
from api.settings import Environment, Settings, SettingsError, jwt_secret

logger = logging.getLogger("twofold")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="twofold", description="Twofold: a GraphQL commerce API built the CQRS way.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the GraphQL API (GraphiQL at /graphql in development)")
    serve.add_argument("--host", help="address to bind (default: TWOFOLD_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (default: TWOFOLD_PORT or 8000)")
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="API processes sharing the port (default 1; metrics are summed across them)",
    )

    commands.add_parser("project", help="run the projector: tail the outbox into Elasticsearch until stopped")
    saga = commands.add_parser(
        "saga", help="run the payment-expiry saga: cancel orders unpaid after TWOFOLD_PAYMENT_TIMEOUT, until stopped"
    )
    saga.add_argument(
        "--retry-parked", action="store_true", help="make the deadlines whose command kept failing due again, and exit"
    )
    commands.add_parser(
        "relay",
        help="run the relay: publish every outbox event to Kafka as a CloudEvent, in commit order, until stopped",
    )
    commands.add_parser("migrate", help="apply the database migrations up to head")

    rebuild = commands.add_parser(
        "rebuild", help="refill a projection's index from the whole outbox, then switch to it with no downtime"
    )
    rebuild.add_argument("projection", choices=["products", "customers", "orders", "events", "all"])

    commands.add_parser(
        "status", help="where each projection and the saga stand: position, lag, dead letters, deadlines, who runs them"
    )

    letters = commands.add_parser("dead-letters", help="list, retry or skip the events a projection parked")
    actions = letters.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the open dead letters (parked or due for a retry), oldest first")
    listing.add_argument("--all", action="store_true", help="also the resolved and skipped ones")
    listing.add_argument("--projection", help="only this projection (products, customers, orders, events)")
    for action, text in (
        ("retry", "apply these letters again, with every open letter of their aggregates, in commit order"),
        ("skip", "give up on these letters: they stay in the outbox, but no longer block their aggregates"),
    ):
        chosen = actions.add_parser(action, help=text)
        chosen.add_argument("ids", nargs="*", type=int, help="letter ids from `twofold dead-letters list`")
        chosen.add_argument("--all", action="store_true", help="every open letter")

    export = commands.add_parser("export-schema", help="print the served GraphQL schema (SDL)")
    export.add_argument("--output", type=Path, help="write to this file instead of standard output")
    event_schemas = commands.add_parser(
        "export-event-schemas", help="write the JSON Schema of every event type and schema version, for consumers"
    )
    event_schemas.add_argument(
        "--output-dir", type=Path, default=Path("docs/event-schemas"), help="folder (default: docs/event-schemas)"
    )

    token = commands.add_parser(
        "token", help="print a signed bearer token for development (secret: TWOFOLD_JWT_SECRET)"
    )
    who = token.add_mutually_exclusive_group(required=True)
    who.add_argument("--role", choices=["admin"], help="a token for an admin")
    who.add_argument("--customer", metavar="ID", help="a token for this customer (its global id or UUID)")
    token.add_argument("--subject", default="dev-admin", help="the admin token's 'sub' (default: dev-admin)")
    token.add_argument("--hours", type=float, default=12.0, help="hours until the token expires (default: 12)")

    seed = commands.add_parser(
        "seed", help="write demo products, customers and orders through the command bus, with a progress bar"
    )
    seed.add_argument("--products", type=_count, default=200, help="products to create (default: 200)")
    seed.add_argument("--customers", type=_count, default=50, help="customers to register (default: 50)")
    seed.add_argument("--orders", type=_count, default=300, help="orders to place and move along (default: 300)")
    seed.add_argument("--seed", type=int, help="random seed, for the same data again (default: random)")
    seed.add_argument("--if-empty", action="store_true", help="do nothing unless nothing was ever written")

    args = parser.parse_args(argv)
    logs.configure()
    if args.command == "export-schema":
        return _export_schema(args.output)
    if args.command == "export-event-schemas":
        return _export_event_schemas(args.output_dir)
    if args.command == "token":
        return _token(args)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"twofold: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(settings, args.host, args.port, args.workers)
    if args.command == "project":
        return _projector_commands.project(settings)
    if args.command == "migrate":
        return _migrate(settings)
    if args.command in ("dead-letters", "status", "rebuild", "seed", "saga", "relay") and not _schema_is_current(
        settings
    ):
        return 1
    if args.command == "relay":
        return _saga_commands.relay(settings)
    if args.command == "saga":
        return _saga_commands.retry_parked(settings) if args.retry_parked else _saga_commands.run(settings)
    if args.command == "seed":
        return _seed(settings, args)
    if args.command == "dead-letters":
        return _projector_commands.dead_letters(settings, args)
    if args.command == "status":
        return _projector_commands.status(settings)
    if args.command == "rebuild":
        return _projector_commands.rebuild(settings, args.projection)
    parser.error(f"unknown command {args.command}")
    return 2


WORKER_HEALTHCHECK_SECONDS = 30


def _serve(settings: Settings, host: str | None, port: int | None, workers: int = 1) -> int:
    import uvicorn

    bind_host, bind_port = host or settings.host, port or settings.port
    if settings.introspection:
        print(f"GraphiQL: http://{bind_host}:{bind_port}/graphql", flush=True)
    # Our own request log (api/observation.py) replaces uvicorn's access log; its other lines stay, as JSON.
    options: dict[str, Any] = {
        "host": bind_host,
        "port": bind_port,
        "log_config": None,
        "access_log": False,
        # The WebSocket transport refuses a longer frame itself (close 1009) before buffering it whole.
        "ws_max_size": settings.ws_max_message_bytes * 4,
        "ws_ping_interval": 20.0,
        "ws_ping_timeout": 20.0,
    }
    if workers == 1:
        from api._http_protocol import protocol_with_header_timeout
        from api.app import create_serving_app

        http = protocol_with_header_timeout(settings.read_timeout_seconds)
        uvicorn.run(create_serving_app(settings), http=http, **options)
        return 0
    # Several processes, each listening on a socket of its own (api/supervisor.py). They load the app by name
    # (api/_worker.py). Their metrics go to files in one directory, which /metrics sums (api/metrics.py); it
    # starts empty each time.
    from api.supervisor import Workers

    with tempfile.TemporaryDirectory(prefix="twofold-metrics-") as directory:
        os.environ[MULTIPROCESS_DIRECTORY] = directory
        config = uvicorn.Config(
            "api._worker:application",
            factory=True,
            workers=workers,
            http="api._worker:HeaderTimeoutProtocol",
            # The parent pings each worker from its spawn on and replaces one that has not answered within
            # this many seconds. On a loaded machine uvicorn's default of 5 killed a starting worker before it
            # had logged a line, four times in a row.
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            **options,
        )
        Workers(config).run()
    return 0


def _workers(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("must be between 1 and 64")
    return value


def _count(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 10_000_000:
        raise argparse.ArgumentTypeError("must be between 0 and 10000000")
    return value


def _token(args: argparse.Namespace) -> int:
    from api.auth import Role, customer_id_of, mint_token
    from api.ids import to_global_id

    try:
        production = os.environ.get("TWOFOLD_ENV", "") == Environment.PRODUCTION.value
        secret = jwt_secret(os.environ, production=production)
    except SettingsError as exc:
        print(f"twofold: {exc}", file=sys.stderr)
        return 2
    if not 0 < args.hours <= 24 * 366:
        print("twofold token: --hours must be more than 0 and at most a year", file=sys.stderr)
        return 2
    if args.customer is not None:
        customer_id = customer_id_of(args.customer)
        if customer_id is None:
            print(f"twofold token: {args.customer!r} is not a customer id", file=sys.stderr)
            return 2
        role, subject = Role.CUSTOMER, to_global_id("Customer", customer_id)
    else:
        role, subject = Role.ADMIN, args.subject
    print(mint_token(secret, role=role, subject=subject, ttl=timedelta(hours=args.hours), now=datetime.now(UTC)))
    return 0


def _seed(settings: Settings, args: argparse.Namespace) -> int:
    from api.bootstrap import build_command_bus, create_engine
    from api.progress import ProgressBar
    from api.seed import DemoData, Seeder, bus_writer
    from read_model.rebuild import Progress
    from write_model.adapters.readiness import store_is_empty
    from write_model.outbox import CommandContext

    engine = create_engine(settings)
    try:
        if args.if_empty and not store_is_empty(engine):
            print("seed: the store already holds data; nothing seeded (--if-empty)")
            return 0
        bars: dict[str, ProgressBar] = {}

        def show(label: str, progress: Progress) -> None:
            bar = bars.get(label)
            if bar is None:
                for finished in bars.values():
                    finished.finish()
                bar = bars[label] = ProgressBar(label, unit=label)
            bar.show(progress)

        data = DemoData(args.seed)
        write = bus_writer(build_command_bus(engine), CommandContext(actor="seed", request_id=f"seed-{data.tag}"))
        seeded = Seeder(write, data).run(args.products, args.customers, args.orders, show)
        for bar in bars.values():
            bar.finish()
        print(
            f"seed: {seeded.products} products, {seeded.customers} customers and {seeded.orders} orders"
            f" in {seeded.seconds:.1f} s ({seeded.refused} commands refused by the domain, as random"
            " orders sometimes are); the projector indexes them as they commit"
        )
        return 0
    finally:
        engine.dispose()


def _migrate(settings: Settings) -> int:
    from api.migrate import upgrade_to_head

    upgrade_to_head(settings.sqlalchemy_url)
    return 0


def _schema_is_current(settings: Settings) -> bool:
    from api.bootstrap import create_engine
    from api.migrate import head_revision
    from write_model.adapters.readiness import check_database

    engine = create_engine(settings)
    try:
        ready, detail = check_database(engine, head_revision())
    finally:
        engine.dispose()
    if not ready:
        print(f"twofold: the database is not ready: {detail}", file=sys.stderr)
    return ready


def _export_schema(output: Path | None) -> int:
    from api.schema import build_schema

    sdl = build_schema().as_str() + "\n"
    if output is None:
        sys.stdout.write(sdl)
    else:
        output.write_text(sdl)
    return 0


def _export_event_schemas(folder: Path) -> int:
    import json

    from write_model.event_schemas import all_schemas

    folder.mkdir(parents=True, exist_ok=True)
    schemas = all_schemas()
    for stale in set(path.name for path in folder.glob("*.json")) - set(schemas):
        (folder / stale).unlink()
    for name, schema in schemas.items():
        (folder / name).write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(schemas)} event schemas in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
