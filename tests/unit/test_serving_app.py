"""`create_serving_app`: what a serving process builds before it serves stays out of the garbage collector's
full collections, and no garbage is kept for good on the way."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from api.app import create_serving_app
from api.settings import Settings

SETTINGS = Settings(database_url="postgresql://unused", elasticsearch_url="http://unused")


@pytest.fixture
def collector_by_hand() -> Iterator[None]:
    """No collection but the ones asked for while the test runs; afterwards, the collector as it was."""
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.enable()


class Cycle:
    def __init__(self) -> None:
        self.itself = self


@pytest.mark.usefixtures("collector_by_hand")
def test_the_app_and_what_it_was_built_from_are_frozen_and_earlier_garbage_is_collected_first() -> None:
    garbage = weakref.ref(Cycle())  # unreachable, but only the cyclic collector can free it

    app = create_serving_app(SETTINGS)

    assert garbage() is None
    tracked = gc.get_objects()  # what the collector still walks: frozen objects are not in it
    assert gc.get_freeze_count() > len(tracked)
    assert all(found is not app and found is not app.router for found in tracked)
