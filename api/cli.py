"""The `twofold` command line: serve the API, run the projector, migrate, manage dead letters, export the schema."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from api.settings import Settings, SettingsError

logger = logging.getLogger("twofold")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="twofold", description="Twofold: a GraphQL commerce API built the CQRS way.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the GraphQL API (GraphiQL at /graphql in development)")
    serve.add_argument("--host", help="address to bind (default: TWOFOLD_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (default: TWOFOLD_PORT or 8000)")

    commands.add_parser("project", help="run the projector: tail the outbox into Elasticsearch until stopped")
    commands.add_parser("migrate", help="apply the database migrations up to head")

    rebuild = commands.add_parser(
        "rebuild", help="refill a projection's index from the whole outbox, then switch to it with no downtime"
    )
    rebuild.add_argument("projection", choices=["products", "customers", "orders", "events", "all"])

    commands.add_parser("status", help="where each projection stands: position, lag, dead letters, active projector")

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

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # One line per Elasticsearch request drowns everything else; failures still surface as warnings.
    logging.getLogger("elastic_transport").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    if args.command == "export-schema":
        return _export_schema(args.output)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"twofold: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(settings, args.host, args.port)
    if args.command == "project":
        return _project(settings)
    if args.command == "migrate":
        return _migrate(settings)
    if args.command in ("dead-letters", "status", "rebuild") and not _schema_is_current(settings):
        return 1
    if args.command == "dead-letters":
        return _dead_letters(settings, args)
    if args.command == "status":
        return _status(settings)
    if args.command == "rebuild":
        return _rebuild(settings, args.projection)
    parser.error(f"unknown command {args.command}")
    return 2


def _serve(settings: Settings, host: str | None, port: int | None) -> int:
    import uvicorn

    from api.app import create_app

    bind_host, bind_port = host or settings.host, port or settings.port
    print(f"GraphiQL: http://{bind_host}:{bind_port}/graphql", flush=True)
    uvicorn.run(create_app(settings), host=bind_host, port=bind_port, log_level="info")
    return 0


def _project(settings: Settings) -> int:
    from api.bootstrap import build_projector

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("projector stopping (signal %d)", signum)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    process = build_projector(settings)
    try:
        process.projector.run_forever(stop)
    finally:
        process.close()
    return 0


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


def _rebuild(settings: Settings, which: str) -> int:
    from api.bootstrap import all_projections, build_rebuilder
    from api.progress import ProgressBar

    process = build_rebuilder(settings)
    try:
        for projection in all_projections():
            if which not in ("all", projection.name):
                continue
            bar = ProgressBar(projection.name)
            rebuilt = process.rebuilder.rebuild(projection, bar.show)
            bar.finish()
            previous = ", ".join(rebuilt.previous) or "none"
            print(
                f"{rebuilt.projection}: {rebuilt.events} events into {rebuilt.index} in {rebuilt.seconds:.1f} s;"
                f" the alias points there now. Previous index kept for a rollback: {previous}"
            )
        return 0
    finally:
        process.close()


def _status(settings: Settings) -> int:
    from api.bootstrap import build_projector

    process = build_projector(settings)
    try:
        print(f"{'projection':<12} {'position':<20} {'lag events':>10} {'lag s':>9} {'dead letters':>12}")
        for projection in process.projector.projections:
            name = process.projector.checkpoint_name(projection)
            checkpoint = process.checkpoints.load(name)
            lag_events, lag_seconds = process.reader.backlog(checkpoint)
            position = f"{checkpoint.transaction_id}:{checkpoint.position}"
            dead = process.dead_letters.count_open(name)
            print(f"{projection.name:<12} {position:<20} {lag_events:>10} {lag_seconds:>9.1f} {dead:>12}")
        running = process.lease.held_by_anyone()
        print("projector: running (a process holds the lease)" if running else "projector: NOT RUNNING")
        return 0
    finally:
        process.close()


def _dead_letters(settings: Settings, args: argparse.Namespace) -> int:
    from read_model.adapters.postgres import PostgresDeadLetters

    store = PostgresDeadLetters(settings.database_url)
    try:
        if args.action == "list":
            projection = None if args.projection is None else f"{settings.index_prefix}{args.projection}"
            rows = store.letters(projection=projection, include_closed=args.all)
            print(f"{'id':>6}  {'projection':<20} {'position':<16} {'status':<8} {'tries':>5}  event / error")
            for letter in rows:
                position = f"{letter.checkpoint.transaction_id}:{letter.checkpoint.position}"
                print(
                    f"{letter.id:>6}  {letter.projection:<20} {position:<16} {letter.status:<8} {letter.attempts:>5}"
                    f"  {letter.event_type} of {letter.aggregate_type} {letter.aggregate_id}: {letter.error[:200]}"
                )
            print(f"{len(rows)} dead letters")
            return 0
        if not args.ids and not args.all:
            print(f"twofold dead-letters {args.action}: give letter ids, or --all", file=sys.stderr)
            return 2
        ids = None if args.all else list(args.ids)
        count = store.retry(ids) if args.action == "retry" else store.skip(ids)
        done = "marked for a retry (the running projector applies them)" if args.action == "retry" else "skipped"
        print(f"{count} dead letters {done}")
        return 0
    finally:
        store.close()


def _export_schema(output: Path | None) -> int:
    from api.schema import build_schema

    sdl = build_schema().as_str() + "\n"
    if output is None:
        sys.stdout.write(sdl)
    else:
        output.write_text(sdl)
    return 0


if __name__ == "__main__":
    sys.exit(main())
