"""Each side's errors under one root, a command's refusals apart from its store's failures."""

from __future__ import annotations

import uuid

import pytest

from api.seed import bus_writer
from read_model import errors as read_errors
from write_model.commands import Command, RegisterCustomer
from write_model.domain import errors
from write_model.outbox import CommandContext


def test_a_store_failure_is_no_refusal_of_the_domain() -> None:
    for failure in (errors.TransientConflict("deadlock"), errors.StoreUnavailable("gone")):
        assert isinstance(failure, errors.StoreFailure)
        assert isinstance(failure, errors.WriteModelError)
        assert not isinstance(failure, errors.DomainError)
    assert issubclass(errors.ValidationFailed, errors.DomainError)


def test_every_read_model_failure_has_the_read_model_root() -> None:
    for name in ("SearchUnavailable", "OutboxUnavailable", "ConsistencyTimeout", "InvalidSearchPosition"):
        assert issubclass(getattr(read_errors, name), read_errors.ReadModelError), name


class RaisingBus:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def handle(self, command: Command, context: CommandContext) -> object:
        raise self.error


def test_the_seeder_skips_what_the_domain_refuses_but_not_a_store_that_fails() -> None:
    context = CommandContext(actor="seed", request_id=str(uuid.uuid4()))
    command = RegisterCustomer(name="Ada", email="ada@example.com")
    refused = bus_writer(RaisingBus(errors.DuplicateEmail("ada@example.com")), context)  # type: ignore[arg-type]
    assert refused(command) is None
    failing = bus_writer(RaisingBus(errors.TransientConflict("deadlock")), context)  # type: ignore[arg-type]
    with pytest.raises(errors.TransientConflict):
        failing(command)
