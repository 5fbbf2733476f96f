"""The rebuilder against fakes: it finishes while writers keep writing, and swaps only once it holds what
the live projector applied."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from read_model.checkpoint import Checkpoint
from read_model.indexes import IndexDefinition
from read_model.outbox import OutboxRecord
from read_model.projections.products import ProductProjection
from read_model.rebuild import AbstractIndexAdmin, Rebuilder
from tests.fakes import FakeCheckpointStore, FakeDocumentStore, FakeOutboxReader
from tests.unit.test_projector import created

BATCH = 5


class SteadyWriters(FakeOutboxReader):
    """Commits one more event before every read, as writers do that never pause; gives up after `reads`."""

    def __init__(self, backlog: int, reads: int = 500) -> None:
        super().__init__([created(n, n, f"S{n}") for n in range(1, backlog + 1)])
        self.reads_left = reads

    def read_after(self, checkpoint: Checkpoint, limit: int) -> list[OutboxRecord]:
        self.reads_left -= 1
        assert self.reads_left > 0, "the rebuild never caught up with the writers"
        n = len(self.records) + 1
        self.records.append(created(n, n, f"S{n}"))
        return super().read_after(checkpoint, limit)


class RecordingAdmin(AbstractIndexAdmin):
    def __init__(self) -> None:
        self.swapped: list[str] = []

    def create_version(self, definition: IndexDefinition, suffix: str) -> str:
        return f"{definition.name}_new"

    def swap_alias(self, definition: IndexDefinition, index: str) -> list[str]:
        self.swapped.append(index)
        return [f"{definition.name}_old"]


def rebuilder(
    reader: FakeOutboxReader,
    checkpoints: FakeCheckpointStore,
    admin: RecordingAdmin,
    on_gate: Callable[[], None] = lambda: None,
) -> Rebuilder:
    store = FakeDocumentStore()

    def store_for(definition: IndexDefinition, index: str) -> FakeDocumentStore:
        store.ensure_index(definition)  # the admin created it
        return store

    @contextlib.contextmanager
    def switch_over() -> Iterator[None]:
        on_gate()
        yield

    return Rebuilder(
        admin=admin,
        reader=reader,
        checkpoints=checkpoints,
        store_for=store_for,
        checkpoint_prefix="t_",
        batch_size=BATCH,
        switch_over=switch_over,
    )


def test_a_rebuild_finishes_while_writers_commit_between_every_two_reads() -> None:
    reader, checkpoints, admin = SteadyWriters(backlog=40), FakeCheckpointStore(), RecordingAdmin()
    live = Checkpoint(30, 30)
    checkpoints.save("t_products", live)

    rebuilt = rebuilder(reader, checkpoints, admin).rebuild(ProductProjection())

    assert admin.swapped == ["products_new"]
    assert rebuilt.previous == ["products_old"]
    assert checkpoints.load("t_rebuild-products") >= live
    assert rebuilt.events >= 40


def test_under_the_gate_the_rebuild_takes_in_all_the_live_projector_applied() -> None:
    reader = FakeOutboxReader([created(n, n, f"L{n}") for n in range(1, 13)])
    checkpoints, admin = FakeCheckpointStore(), RecordingAdmin()

    def live_projector_ran_ahead() -> None:
        # Between the rebuild's last round and the gate, writers committed 8 more and the live projector
        # applied them: the new index must hold them before the alias moves to it.
        reader.records += [created(n, n, f"L{n}") for n in range(13, 21)]
        checkpoints.save("t_products", Checkpoint(20, 20))
        assert admin.swapped == []

    rebuilder(reader, checkpoints, admin, on_gate=live_projector_ran_ahead).rebuild(ProductProjection())

    assert checkpoints.load("t_rebuild-products") == Checkpoint(20, 20)
    assert admin.swapped == ["products_new"]
