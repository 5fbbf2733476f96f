"""A customer's profile change reaches every order carrying it: batched, idempotent, and whatever the order
in which the order's events and the customer's are read."""

from __future__ import annotations

from uuid import UUID

import pytest

from read_model.document_store import VersionedDocument
from read_model.errors import SearchUnavailable
from read_model.indexes import IndexDefinition
from read_model.outbox import OutboxRecord
from read_model.projections.orders import OrderProjection
from read_model.projector import Projector, ProjectorOptions
from tests.fakes import FakeCheckpointStore, FakeDeadLetters, FakeDocumentStore, FakeOutboxReader, fake_command_bus
from tests.unit.test_projections import CONTEXT, PROJECTIONS, project, shop, taking_ids_late
from write_model import commands


def renamed_shop() -> tuple[list[OutboxRecord], list[OutboxRecord], dict[str, UUID]]:
    """The shop's history, and what follows it: Ada changes her name, then her email."""
    store, ids = shop()
    before = list(store.outbox)
    bus = fake_command_bus(store)
    bus.handle(commands.UpdateCustomer(customer_id=ids["ada"], name="Ada Lovelace"), CONTEXT)
    bus.handle(commands.UpdateCustomer(customer_id=ids["ada"], email="ada@lovelace.org"), CONTEXT)
    return before, store.outbox[len(before) :], ids


def orders_of(documents: FakeDocumentStore, customer: UUID) -> list[dict[str, object]]:
    return [o for o in documents.indexes["orders"].values() if o["customer"]["id"] == str(customer)]


def test_a_profile_change_reaches_every_order_of_the_customer_and_no_one_elses() -> None:
    before, after, ids = renamed_shop()
    documents = project(before + after)
    ada_orders = orders_of(documents, ids["ada"])
    assert len(ada_orders) == 3
    assert {(o["customer"]["name"], o["customer"]["email"], o["customer"]["version"]) for o in ada_orders} == {
        ("Ada Lovelace", "ada@lovelace.org", 3)
    }
    (bob_order,) = orders_of(documents, ids["bob"])
    assert bob_order["customer"] == {"id": str(ids["bob"]), "name": "Bob", "email": "bob@example.com", "version": 1}
    ada = documents.indexes["customers"][str(ids["ada"])]
    assert (ada["name"], ada["email"], ada["version"], ada["order_count"]) == ("Ada Lovelace", "ada@lovelace.org", 3, 2)
    assert [e["type"] for e in documents.indexes["events"].values()].count("CustomerUpdated") == 2


def test_a_change_applied_to_documents_already_indexed_ends_as_a_rebuild_does() -> None:
    before, after, _ids = renamed_shop()
    live = FakeDocumentStore()
    projector_over(FakeOutboxReader(before), live).run_until_caught_up()
    projector_over(FakeOutboxReader(before + after), live, fan_out_page=2).run_until_caught_up()  # 3 orders: 2 pages
    for batch_size in (1, 3, 1000):
        assert project(before + after, batch_size=batch_size).indexes == live.indexes


def test_an_order_placed_with_the_profile_a_change_replaced_gets_the_newer_one_whichever_is_read_first() -> None:
    store, ids = shop()
    bus = fake_command_bus(store)
    late_order = ids["delivered"]  # Ada's last order, whose transaction now takes its id first
    bus.handle(commands.UpdateCustomer(customer_id=ids["ada"], name="Ada Lovelace"), CONTEXT)
    clean = project(store.outbox).indexes
    assert clean["orders"][str(late_order)]["customer"]["name"] == "Ada Lovelace"
    # The order's transactions took their ids before the change's, and committed after it: read after it.
    shuffled = taking_ids_late(store.outbox, {(late_order, version) for version in (1, 2, 3, 4)})
    placed = next(r for r in shuffled if r.aggregate_id == late_order)
    change = next(r for r in shuffled if r.event_type == "CustomerUpdated")
    assert (placed.payload["customer_version"], placed.checkpoint > change.checkpoint) == (1, True)
    for batch_size in (1, 3, 1000):
        assert project(shuffled, batch_size=batch_size).indexes["orders"] == clean["orders"]


def test_a_fan_out_cut_short_resumes_where_it_stopped_and_rewrites_nothing_it_did() -> None:
    before, after, ids = renamed_shop()

    class Crashing(FakeDocumentStore):
        """Fails the second page of a fan-out: the process dies with half the orders renamed."""

        def __init__(self) -> None:
            super().__init__()
            self.pages = 0
            self.orders_written: list[str] = []

        def write_many(self, definition: IndexDefinition, documents: list[VersionedDocument]) -> set[str]:
            if definition.name == "orders":
                self.orders_written += [d.id for d in documents]
            if any(d.source.get("customer", {}).get("version") == 3 for d in documents):
                self.pages += 1
                if self.pages == 2:
                    raise SearchUnavailable("killed")
            return super().write_many(definition, documents)

    live = Crashing()
    projector_over(FakeOutboxReader(before), live).run_until_caught_up()
    with pytest.raises(SearchUnavailable):
        projector_over(FakeOutboxReader(before + after), live, fan_out_page=1).run_until_caught_up()
    assert sorted(o["customer"]["version"] for o in orders_of(live, ids["ada"])) == [1, 1, 3]
    done = {o["id"] for o in orders_of(live, ids["ada"]) if o["customer"]["version"] == 3}
    live.pages, live.orders_written = 10, []  # the next process is not killed
    projector_over(FakeOutboxReader(before + after), live, fan_out_page=1).run_until_caught_up()
    assert {o["customer"]["version"] for o in orders_of(live, ids["ada"])} == {3}
    # The two orders left, not the one renamed before the crash.
    assert sorted(live.orders_written) == sorted({o["id"] for o in orders_of(live, ids["ada"])} - done)
    assert project(before + after).indexes == live.indexes


def projector_over(reader: FakeOutboxReader, store: FakeDocumentStore, *, fan_out_page: int = 500) -> Projector:
    projector = Projector(
        reader=reader,
        checkpoints=checkpoints_of(store),
        store=store,
        projections=PROJECTIONS,
        checkpoint_prefix="t_",
        dead_letters=FakeDeadLetters(),
        options=ProjectorOptions(batch_size=1000, fan_out_page=fan_out_page),
    )
    projector.prepare()
    return projector


def checkpoints_of(store: FakeDocumentStore) -> FakeCheckpointStore:
    """One checkpoint store per document store: a restarted projector resumes where the last one stopped."""
    if not hasattr(store, "checkpoints"):
        store.checkpoints = FakeCheckpointStore()  # type: ignore[attr-defined]
    return store.checkpoints  # type: ignore[attr-defined, no-any-return]


def test_the_external_version_grows_with_the_orders_changes_and_its_customers_alike() -> None:
    projection = OrderProjection()
    document = {"version": 2, "customer": {"version": 1}}
    assert projection.version_of({**document, "version": 3}) > projection.version_of(document)
    assert projection.version_of({**document, "customer": {"version": 2}}) > projection.version_of(document)
