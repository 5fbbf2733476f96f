"""Commands: what a caller asks the write model to do. Plain data, named in the imperative.

Text and prices arrive as the client sent them; the domain validates them, so that every bad field of a
command is reported at once. `expected_version`, where present, makes the command fail with
`VersionConflict` unless the aggregate is still at that version.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True, kw_only=True)
class Command:
    """Base of all commands."""


@dataclass(frozen=True, kw_only=True)
class CreateProduct(Command):
    sku: str
    name: str
    brand: str
    category: str
    price: str
    description: str = ""
    tags: tuple[str, ...] = ()
    initial_stock: int = 0


@dataclass(frozen=True, kw_only=True)
class UpdateProductDetails(Command):
    """Replace the fields given; `None` keeps a field as it is."""

    product_id: UUID
    expected_version: int | None = None
    name: str | None = None
    description: str | None = None
    brand: str | None = None
    category: str | None = None
    tags: tuple[str, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeProductPrice(Command):
    product_id: UUID
    price: str
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class RestockProduct(Command):
    product_id: UUID
    quantity: int
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class DiscontinueProduct(Command):
    product_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class RegisterCustomer(Command):
    name: str
    email: str


@dataclass(frozen=True, kw_only=True)
class UpdateCustomer(Command):
    """Replace the fields given; `None` keeps a field as it is."""

    customer_id: UUID
    expected_version: int | None = None
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True, kw_only=True)
class OrderLineRequest:
    product_id: UUID
    quantity: int


@dataclass(frozen=True, kw_only=True)
class AddressRequest:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None
    region: str | None = None


@dataclass(frozen=True, kw_only=True)
class PlaceOrder(Command):
    customer_id: UUID
    lines: tuple[OrderLineRequest, ...]
    shipping_address: AddressRequest | None = None


@dataclass(frozen=True, kw_only=True)
class PaymentRequest:
    """What a payment provider reports: the amount as the client sent it, the method, its own id."""

    amount: str
    method: str
    reference: str


@dataclass(frozen=True, kw_only=True)
class ShipmentRequest:
    carrier: str
    tracking_number: str


@dataclass(frozen=True, kw_only=True)
class ReturnRequest:
    product_id: UUID
    quantity: int


@dataclass(frozen=True, kw_only=True)
class OrderAction(Command):
    """Base of the lifecycle commands: move one order along, optionally saying why."""

    order_id: UUID
    expected_version: int | None = None
    reason: str | None = None
    # Set when a customer acts for themself: the order must then be theirs. None: staff acting on any order.
    on_behalf_of: UUID | None = None


@dataclass(frozen=True, kw_only=True)
class PayOrder(OrderAction):
    """Without `payment`, the balance is recorded as paid by method `OTHER`, without a reference."""

    payment: PaymentRequest | None = None


@dataclass(frozen=True, kw_only=True)
class ShipOrder(OrderAction):
    shipment: ShipmentRequest | None = None


@dataclass(frozen=True, kw_only=True)
class DeliverOrder(OrderAction):
    pass


@dataclass(frozen=True, kw_only=True)
class CancelOrder(OrderAction):
    pass


@dataclass(frozen=True, kw_only=True)
class ExpireOrder(CancelOrder):
    """The payment deadline's cancellation (sent by the expiry saga): only an order still unpaid takes it,
    with reason "payment timeout"; a paid or cancelled one refuses with `InvalidTransition`."""


@dataclass(frozen=True, kw_only=True)
class RefundOrder(Command):
    """Give back `amount` of what was paid, under the provider's `reference` (the same reference again
    records nothing new), with `returned_lines` going back to stock."""

    order_id: UUID
    amount: str
    reference: str
    expected_version: int | None = None
    reason: str | None = None
    returned_lines: tuple[ReturnRequest, ...] = ()
