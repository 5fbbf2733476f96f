"""The projector through outages of Elasticsearch and of PostgreSQL: it pauses, resumes, and loses nothing.

The outages are cut connections (a proxy between the projector and the service), so the services the
other tests share keep running; `make chaos` is the place for real restarts.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch
from sqlalchemy.engine import make_url

from api import bootstrap
from api.settings import Settings
from tests.integration._proxy import CuttableProxy
from tests.integration._waiting import until
from write_model import commands
from write_model.bus import CommandBus
from write_model.outbox import CommandContext

CONTEXT = CommandContext(actor="tester", request_id="outage")


def create(bus: CommandBus) -> uuid.UUID:
    command = commands.CreateProduct(sku=f"O-{uuid.uuid4().hex[:10]}", name="O", brand="B", category="C", price="1")
    return bus.handle(command, CONTEXT).aggregate_id


@pytest.fixture(params=["elasticsearch", "postgresql"])
def outage(request: pytest.FixtureRequest, settings: Settings) -> Iterator[tuple[CuttableProxy, Settings]]:
    """A proxy in front of one service, and settings that send the projector through it."""
    if request.param == "elasticsearch":
        url = make_url(settings.elasticsearch_url.replace("http://", "postgresql://"))
        proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 9200)
        through = Settings(**{**settings.__dict__, "elasticsearch_url": f"http://127.0.0.1:{proxy.port}"})
    else:
        url = make_url(settings.database_url)
        proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
        database_url = url.set(port=proxy.port).render_as_string(hide_password=False)
        through = Settings(**{**settings.__dict__, "database_url": database_url})
    yield proxy, through
    proxy.close()


def test_an_outage_pauses_the_projector_and_it_catches_up_after(
    outage: tuple[CuttableProxy, Settings], bus: CommandBus, es: Elasticsearch, index_prefix: str
) -> None:
    proxy, through = outage
    process = bootstrap.build_projector(through)
    stop = threading.Event()
    thread = threading.Thread(target=process.projector.run_forever, args=(stop,))
    thread.start()

    def indexed(product: uuid.UUID) -> bool:
        return bool(es.exists(index=f"{index_prefix}products", id=str(product)))

    try:
        before = create(bus)
        until(lambda: indexed(before), 15)
        proxy.cut()
        during = [create(bus) for _ in range(5)]
        time.sleep(1.5)  # long enough for a failed attempt and a pause
        assert not any(indexed(product) for product in during)
        proxy.restore()
        after = create(bus)
        until(lambda: all(indexed(product) for product in [*during, after]), 30)
        until(lambda: process.projector.publish_status(process.projector.projections[0]).lag_events == 0, 10)
    finally:
        stop.set()
        thread.join()
        process.close()
