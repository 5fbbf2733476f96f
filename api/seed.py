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
    ExpireOrder,
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
# Runs one command; the new or changed aggregate's id, or None when the domain refused the command.
Writer = Callable[[Command], uuid.UUID | None]


def bus_writer(bus: CommandBus, context: CommandContext) -> Writer:
    """A writer that sends each command through `bus`, one transaction each, as the API does."""

    def write(command: Command) -> uuid.UUID | None:
        try:
            return bus.handle(command, context).aggregate_id
        except errors.DomainError:
            # Demo orders are drawn at random: some want more than is left, as real ones do.
            return None

    return write


class DemoData:
    """The commands that make believable demo data: the same ones again for the same `seed`."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)  # noqa: S311 (demo data, not secrets)
        self.tag = f"{self._random.getrandbits(24):06x}"

    def product(self, number: int) -> CreateProduct:
        pick = self._random.choice
        category = pick(list(CATEGORIES))
        (low, high), things = CATEGORIES[category]
        thing, material, color, brand = pick(things), pick(MATERIALS), pick(COLORS), pick(BRANDS)
        features = self._random.sample(FEATURES, 2)
        price = Decimal(self._random.randint(low, high)) + Decimal(pick(("0.00", "0.50", "0.95", "0.99")))
        return CreateProduct(
            sku=f"{category[:3].upper()}-{self.tag}-{number:06d}",
            name=f"{brand} {material} {thing}",
            brand=brand,
            category=category,
            price=str(price),
            description=f"A {features[0]} {thing.lower()} in {color.lower()} {material.lower()}: {features[1]}.",
            tags=(material.lower(), color.lower(), *(feature.replace(" ", "-") for feature in features)),
            initial_stock=self._random.randint(20, 400),
        )

    def customer(self, number: int) -> RegisterCustomer:
        first, last = self._random.choice(FIRST_NAMES), self._random.choice(LAST_NAMES)
        email = f"{first}.{last}.{self.tag}.{number}@example.com".lower()
        return RegisterCustomer(name=f"{first} {last}", email=email)

    def order(self, products: list[uuid.UUID], customers: list[uuid.UUID]) -> PlaceOrder:
        chosen = self._random.sample(products, min(len(products), self._random.randint(1, 4)))
        lines = tuple(OrderLineRequest(product_id=p, quantity=self._random.randint(1, 3)) for p in chosen)
        return PlaceOrder(customer_id=self._random.choice(customers), lines=lines)

    def moves(self, order_id: uuid.UUID) -> list[Command]:
        """A realistic spread of statuses: most orders paid, many shipped and delivered, a few cancelled by
        their customer and a few expired unpaid; the rest still await payment, which the saga expires once
        they have waited TWOFOLD_PAYMENT_TIMEOUT."""
        roll = self._random.random()
        if roll < 0.07:
            return [CancelOrder(order_id=order_id, reason="Changed my mind")]
        if roll < 0.12:
            return [ExpireOrder(order_id=order_id)]
        steps = (PayOrder, ShipOrder, DeliverOrder)[: 0 if roll < 0.3 else 1 if roll < 0.5 else 2 if roll < 0.7 else 3]
        return [step(order_id=order_id) for step in steps]


class Seeder:
    """Writes `products`, `customers` and `orders` of demo data with `write`."""

    def __init__(self, write: Writer, data: DemoData) -> None:
        self._write = write
        self._data = data
        self.refused = 0

    def run(self, products: int, customers: int, orders: int, progress: ProgressCallback) -> Seeded:
        started = time.monotonic()
        product_ids = self._each("products", products, lambda n: self._handle(self._data.product(n)), progress)
        customer_ids = self._each("customers", customers, lambda n: self._handle(self._data.customer(n)), progress)
        placed = 0
        if product_ids and customer_ids:
            placed = len(self._each("orders", orders, lambda _: self._order(product_ids, customer_ids), progress))
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
        written = self._write(command)
        if written is None:
            self.refused += 1
        return written

    def _order(self, products: list[uuid.UUID], customers: list[uuid.UUID]) -> uuid.UUID | None:
        order_id = self._handle(self._data.order(products, customers))
        if order_id is not None:
            for move in self._data.moves(order_id):
                self._handle(move)
        return order_id
