"""The `twofold` command line: serve the API, run the projector, migrate, export the schema."""

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

    export = commands.add_parser("export-schema", help="print the served GraphQL schema (SDL)")
    export.add_argument("--output", type=Path, help="write to this file instead of standard output")

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # One line per Elasticsearch request drowns everything else; failures still surface as warnings.
    logging.getLogger("elastic_transport").setLevel(logging.WARNING)
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
