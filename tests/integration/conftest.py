from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from api import bootstrap
from api.settings import Settings
from write_model.bus import CommandBus


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in item.path.parts:
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def engine(settings: Settings) -> Iterator[sa.Engine]:
    engine = bootstrap.create_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def bus(engine: sa.Engine) -> CommandBus:
    return bootstrap.build_command_bus(engine)


@pytest.fixture
def projector(settings: Settings) -> Iterator[bootstrap.ProjectorProcess]:
    process = bootstrap.build_projector(settings)
    process.projector.prepare()
    yield process
    process.close()
