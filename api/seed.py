"""Demo data: a believable catalog, customers and orders, written through the command bus.

Everything goes through the same commands as the API, so the domain's rules hold, every change lands in
the outbox, and the projector indexes it like any other write. A seeded run is reproducible from its
`seed` number; SKUs and emails carry a tag of the run, so seeding twice adds to the store, never collides.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from read_model.rebuild import Progress
from write_model.bus import CommandBus
from write_model.commands import (
    CancelOrder,
    Command,
    CreateProduct,
    DeliverOrder,
    OrderLineRequest,
    PayOrder,
    PlaceOrder,
    RegisterCustomer,
    ShipOrder,
)
from write_model.domain import errors
from write_model.outbox import CommandContext

# category: (price range in whole currency units, the things it sells)
CATEGORIES: dict[str, tuple[tuple[int, int], tuple[str, ...]]] = {
    "Knitwear": ((39, 189), ("Sweater", "Cardigan", "Beanie", "Scarf", "Turtleneck")),
    "Outerwear": ((89, 449), ("Parka", "Rain Jacket", "Down Vest", "Wool Coat", "Windbreaker")),
    "Footwear": ((59, 259), ("Trail Runner", "Hiking Boot", "Sneaker", "Chelsea Boot", "Sandal")),
    "Kitchen": ((9, 179), ("Chef's Knife", "Cast Iron Skillet", "French Press", "Cutting Board", "Dutch Oven")),
    "Camping": ((15, 399), ("Tent", "Sleeping Bag", "Headlamp", "Camp Stove", "Water Filter")),
    "Home": ((12, 249), ("Throw Blanket", "Table Lamp", "Linen Duvet", "Ceramic Vase", "Wall Clock")),
    "Audio": ((29, 499), ("Wireless Headphones", "Bookshelf Speaker", "Earbuds", "Turntable", "Soundbar")),
    "Stationery": ((3, 59), ("Notebook", "Fountain Pen", "Desk Organizer", "Planner", "Sketchbook")),
}
BRANDS = ("Nordlys", "Alder & Co", "Fjellro", "Kestrel", "Lumen", "Ostrava", "Harbor Lane", "Tinder Peak", "Solvang")
MATERIALS = ("Merino Wool", "Organic Cotton", "Recycled Nylon", "Walnut", "Stainless Steel", "Linen", "Leather")
COLORS = ("Charcoal", "Forest Green", "Sand", "Navy", "Rust", "Oat", "Slate Blue", "Black")
FEATURES = ("lightweight", "water-resistant", "hand-finished", "made to last", "easy to care for", "packable")
FIRST_NAMES = ("Ada", "Björn", "Chiara", "Dmitri", "Elif", "Farah", "Gustav", "Hana", "Ines", "Jonas", "Kofi",
               "Leila", "Mateo", "Noor", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Uma")  # fmt: skip
LAST_NAMES = ("Andersen", "Bianchi", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Hansen", "Ivanova",
              "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi")  # fmt: skip


@dataclass(frozen=True)
class Seeded:
    products: int
    customers: int
    orders: int
    refused: int
    seconds: float


ProgressCallback = Callable[[str, Progress], None]


class Seeder:
    """Writes `products`, `customers` and `orders` of demo data through `bus`."""

    def __init__(self, bus: CommandBus, *, seed: int | None = None) -> None:
        self._bus = bus
        self._random = random.Random(seed)  # noqa: S311 (demo data, not secrets)
        self._tag = f"{self._random.getrandbits(24):06x}"
        self._context = CommandContext(actor="seed", request_id=f"seed-{self._tag}")
        self.refused = 0

    def run(self, products: int, customers: int, orders: int, progress: ProgressCallback) -> Seeded:
        started = time.monotonic()
        product_ids = self._each("products", products, self._product, progress)
        customer_ids = self._each("customers", customers, self._customer, progress)
        placed = 0
        if product_ids and customer_ids:
            placed = len(self._each("orders", orders, lambda n: self._order(n, product_ids, customer_ids), progress))
        return Seeded(len(product_ids), len(customer_ids), placed, self.refused, time.monotonic() - started)

    def _each(
        self, label: str, count: int, write: Callable[[int], uuid.UUID | None], progress: ProgressCallback
    ) -> list[uuid.UUID]:
        started, written = time.monotonic(), []
        for number in range(count):
            written_id = write(number)
            if written_id is not None:
                written.append(written_id)
            progress(label, Progress(label, number + 1, count, time.monotonic() - started))
        return written

    def _handle(self, command: Command) -> uuid.UUID | None:
        try:
            return self._bus.handle(command, self._context).aggregate_id
        except errors.DomainError:
            # Demo orders are drawn at random: some want more than is left, as real ones do.
            self.refused += 1
            return None

    def _product(self, number: int) -> uuid.UUID | None:
        pick = self._random.choice
        category = pick(list(CATEGORIES))
        (low, high), things = CATEGORIES[category]
        thing, material, color, brand = pick(things), pick(MATERIALS), pick(COLORS), pick(BRANDS)
        features = self._random.sample(FEATURES, 2)
        price = Decimal(self._random.randint(low, high)) + Decimal(pick(("0.00", "0.50", "0.95", "0.99")))
        return self._handle(
            CreateProduct(
                sku=f"{category[:3].upper()}-{self._tag}-{number:06d}",
                name=f"{brand} {material} {thing}",
                brand=brand,
                category=category,
                price=str(price),
                description=f"A {features[0]} {thing.lower()} in {color.lower()} {material.lower()}: {features[1]}.",
                tags=(material.lower(), color.lower(), *(feature.replace(" ", "-") for feature in features)),
                initial_stock=self._random.randint(20, 400),
            )
        )

    def _customer(self, number: int) -> uuid.UUID | None:
        first, last = self._random.choice(FIRST_NAMES), self._random.choice(LAST_NAMES)
        email = f"{first}.{last}.{self._tag}.{number}@example.com".lower()
        return self._handle(RegisterCustomer(name=f"{first} {last}", email=email))

    def _order(self, number: int, products: list[uuid.UUID], customers: list[uuid.UUID]) -> uuid.UUID | None:
        chosen = self._random.sample(products, min(len(products), self._random.randint(1, 4)))
        lines = tuple(OrderLineRequest(product_id=p, quantity=self._random.randint(1, 3)) for p in chosen)
        order_id = self._handle(PlaceOrder(customer_id=self._random.choice(customers), lines=lines))
        if order_id is not None:
            self._move_along(order_id)
        return order_id

    def _move_along(self, order_id: uuid.UUID) -> None:
        """A realistic spread of statuses: most orders paid, many shipped and delivered, a few cancelled."""
        roll = self._random.random()
        if roll < 0.1:
            self._handle(CancelOrder(order_id=order_id, reason="Changed my mind"))
            return
        steps = (PayOrder, ShipOrder, DeliverOrder)[: 0 if roll < 0.3 else 1 if roll < 0.5 else 2 if roll < 0.7 else 3]
        for step in steps:
            self._handle(step(order_id=order_id))
