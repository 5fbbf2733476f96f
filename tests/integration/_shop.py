"""A busy shop for the projector's tests: concurrent writers using every command."""

from __future__ import annotations

import random
import threading
import uuid

from write_model import commands
from write_model.bus import CommandBus
from write_model.domain.errors import DomainError, TransientConflict
from write_model.outbox import CommandContext


def write_a_shop(bus: CommandBus, writers: int = 10, steps: int = 25) -> None:
    """`writers` threads registering customers, creating and restocking products, placing and moving orders."""
    context = CommandContext(actor="writer", request_id="w")
    products = [
        bus.handle(
            commands.CreateProduct(
                sku=f"C-{uuid.uuid4().hex[:10]}",
                name=f"Item {i}",
                brand="B",
                category="C",
                price="1.25",
                initial_stock=40,
            ),
            context,
        ).aggregate_id
        for i in range(6)
    ]
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            customer = bus.handle(
                commands.RegisterCustomer(name=f"W{seed}", email=f"w{seed}-{uuid.uuid4().hex[:8]}@example.com"),
                context,
            ).aggregate_id
            orders: list[uuid.UUID] = []
            for _ in range(steps):
                roll = rng.random()
                try:
                    if roll < 0.5 or not orders:
                        lines = tuple(
                            commands.OrderLineRequest(product_id=p, quantity=rng.randint(1, 3))
                            for p in rng.sample(products, 2)
                        )
                        orders.append(
                            bus.handle(commands.PlaceOrder(customer_id=customer, lines=lines), context).aggregate_id
                        )
                    elif roll < 0.65:
                        bus.handle(commands.RestockProduct(product_id=rng.choice(products), quantity=5), context)
                    else:
                        action = rng.choice(
                            [commands.PayOrder, commands.ShipOrder, commands.DeliverOrder, commands.CancelOrder]
                        )
                        bus.handle(action(order_id=rng.choice(orders)), context)
                except (DomainError, TransientConflict):
                    # Out of stock, a move the lifecycle refuses, or four writers colliding past the bus's
                    # retries: expected now and then, and none of them writes anything.
                    pass
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
