"""The projector's commands: `twofold project`, `rebuild`, `status` (the saga's lines too) and `dead-letters`
(see api/cli.py)."""

from __future__ import annotations

import argparse
import logging
import sys

from api import _saga_commands
from api._signals import run_until_signalled
from api.settings import Settings
from read_model.errors import IndexOutdated

logger = logging.getLogger("twofold")


def project(settings: Settings) -> int:
    from api.bootstrap import build_projector

    process = build_projector(settings)
    try:
        run_until_signalled("projector", process.projector.run_forever)
    except IndexOutdated as outdated:
        print(f"twofold project: {outdated}", file=sys.stderr)
        return 1
    finally:
        process.close()
    return 0


def rebuild(settings: Settings, which: str) -> int:
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


def status(settings: Settings) -> int:
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
    finally:
        process.close()
    for lines in (_saga_commands.status_lines(settings), _saga_commands.relay_status_lines(settings)):
        print()
        for line in lines:
            print(line)
    return 0


def dead_letters(settings: Settings, args: argparse.Namespace) -> int:
    from read_model.adapters.postgres_dead_letters import PostgresDeadLetters

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
