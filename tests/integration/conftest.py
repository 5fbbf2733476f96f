from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
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


@pytest.fixture
def loyalty_database(server_database_url: str) -> Iterator[str]:
    """A database of the loyalty service's own, beside Twofold's: none of Twofold's tables."""
    name = f"loyalty_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = server_database_url.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with psycopg.connect(server_database_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
