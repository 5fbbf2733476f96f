"""The command bus: routes each command to its handler in a fresh unit of work, retrying transient conflicts."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from write_model.commands import Command
from write_model.domain.errors import TransientConflict
from write_model.handlers import Changed
from write_model.outbox import CommandContext
from write_model.unit_of_work import AbstractUnitOfWork

logger = logging.getLogger(__name__)

UnitOfWorkFactory = Callable[[CommandContext], AbstractUnitOfWork]
Handler = Callable[[Any, AbstractUnitOfWork], Changed]


class CommandBus:
    """Runs one command to completion.

    A `DomainError` propagates to the caller with nothing written. A `TransientConflict` (serialization
    failure, deadlock) is retried with jittered backoff up to `max_attempts` times, so callers never see it
    unless the database keeps refusing.
    """

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
        try:
            handler = self._handlers[type(command)]
        except KeyError:
            raise LookupError(f"no handler for {type(command).__name__}") from None
        for attempt in range(1, self._max_attempts + 1):
            try:
                return handler(command, self._uow_factory(context))
            except TransientConflict as conflict:
                if attempt == self._max_attempts:
                    raise
                delay = min(0.2, 0.005 * 2**attempt) * random.uniform(0.5, 1.5)  # noqa: S311 - jitter, not crypto
                logger.info("retrying %s after %s (attempt %d)", type(command).__name__, conflict.reason, attempt)
                self._sleep(delay)
        raise AssertionError("unreachable")
