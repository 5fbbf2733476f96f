"""The command bus: runs each command's handler in a fresh unit of work and commits it.

It owns the transaction boundary, so every command gets the same guarantees: an idempotency key is claimed
before the handler runs, a `DomainError` leaves nothing written, and a `TransientConflict` (serialization
failure, deadlock) is retried with jittered backoff up to `max_attempts` times, so callers never see it
unless the database keeps refusing.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from write_model import idempotency
from write_model.commands import Command
from write_model.domain.errors import TransientConflict
from write_model.outbox import CommandContext
from write_model.results import Changed, Outcome
from write_model.unit_of_work import AbstractUnitOfWork

logger = logging.getLogger(__name__)

UnitOfWorkFactory = Callable[[CommandContext], AbstractUnitOfWork]
Handler = Callable[[Any, AbstractUnitOfWork], Outcome]


class CommandBus:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        handlers: Mapping[type[Command], Handler],
        *,
        max_attempts: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._uow_factory = uow_factory
        self._handlers = dict(handlers)
        self._max_attempts = max_attempts
        self._sleep = sleep

    def handle(self, command: Command, context: CommandContext) -> Changed:
        """Run `command` to completion: its result, or the `DomainError` that refused it."""
        try:
            handler = self._handlers[type(command)]
        except KeyError:
            raise LookupError(f"no handler for {type(command).__name__}") from None
        command_print = None
        if context.idempotency_key is not None:
            idempotency.check_key(context.idempotency_key)
            command_print = idempotency.fingerprint(command)
        for attempt in range(1, self._max_attempts + 1):
            try:
                return self._run(handler, command, context, command_print)
            except TransientConflict as conflict:
                if attempt == self._max_attempts:
                    raise
                delay = min(0.2, 0.005 * 2**attempt) * random.uniform(0.5, 1.5)  # noqa: S311 - jitter, not crypto
                logger.info("retrying %s after %s (attempt %d)", type(command).__name__, conflict.reason, attempt)
                self._sleep(delay)
        raise AssertionError("unreachable")

    def _run(self, handler: Handler, command: Command, context: CommandContext, command_print: str | None) -> Changed:
        with self._uow_factory(context) as uow:
            if context.idempotency_key is not None and command_print is not None:
                stored = uow.idempotency_keys.claim(context.actor, context.idempotency_key, command_print)
                if stored is not None:
                    if stored.fingerprint != command_print:
                        raise idempotency.key_reused()
                    return dataclasses.replace(stored.changed, replayed=True)
            outcome = handler(command, uow)
            return uow.commit(outcome)
