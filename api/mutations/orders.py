"""Order mutations: `placeOrder`, the lifecycle actions `payOrder`, `shipOrder`, `deliverOrder`,
`cancelOrder`, and `refundOrder`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api import permissions
from api.context import Context
from api.ids import to_global_id
from api.mutations._dispatch import (
    IdFields,
    decode_or_not_found,
    dispatch,
    insufficient_stock,
    invalid_transition,
    not_found,
    not_yours,
    payment_mismatch,
    product_unavailable,
    refund_exceeds_payment,
    token_of,
    validation_failed,
    version_conflict,
)
from api.queries import orders as order_queries
from api.types import errors as gql
from api.types.enums import OrderStatus, PaymentMethod
from api.types.orders import Order
from api.types.results import MutationSuccess
from api.types.scalars import Decimal
from write_model.commands import (
    AddressRequest,
    CancelOrder,
    DeliverOrder,
    OrderAction,
    OrderLineRequest,
    PaymentRequest,
    PayOrder,
    PlaceOrder,
    RefundOrder,
    ReturnRequest,
    ShipmentRequest,
    ShipOrder,
)
from write_model.domain import errors
from write_model.results import Changed


@strawberry.input
class OrderLineInput:
    product_id: strawberry.ID
    quantity: int


@strawberry.input
class AddressInput:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str = strawberry.field(description='ISO 3166-1 alpha-2, e.g. "DE".')
    line2: str | None = None
    region: str | None = None

    def request(self) -> AddressRequest:
        return AddressRequest(
            name=self.name,
            line1=self.line1,
            line2=self.line2,
            city=self.city,
            postal_code=self.postal_code,
            region=self.region,
            country=self.country,
        )


@strawberry.input
class PlaceOrderInput:
    customer_id: strawberry.ID
    lines: list[OrderLineInput]
    idempotency_key: str | None = None
    shipping_address: AddressInput | None = None


@strawberry.input
class PaymentInput:
    amount: Decimal
    method: PaymentMethod
    reference: str = strawberry.field(
        description="The payment provider's id of this payment: the same reference again records nothing new."
    )


@strawberry.input
class ShipmentInput:
    carrier: str
    tracking_number: str


@strawberry.input
class OrderActionInput:
    id: strawberry.ID
    expected_version: int | None = None
    reason: str | None = None
    payment: PaymentInput | None = strawberry.field(
        default=None,
        description="payOrder only: what was paid. Without it the whole balance is recorded, method OTHER.",
    )
    shipment: ShipmentInput | None = strawberry.field(
        default=None, description="shipOrder only: how the parcel travels."
    )


@strawberry.input
class ReturnLineInput:
    product_id: strawberry.ID
    quantity: int


@strawberry.input
class RefundOrderInput:
    id: strawberry.ID
    amount: Decimal
    reference: str
    expected_version: int | None = None
    reason: str | None = None
    returned_lines: list[ReturnLineInput] | None = strawberry.field(
        default=None, description="Lines sent back: their quantities return to stock."
    )


async def _order_after_write(
    root: strawberry.Parent[OrderChanged], info: strawberry.Info[Context, None]
) -> Order | None:
    return await order_queries.order(info, root.order_id, root.consistency_token)


@strawberry.type
class OrderChanged(MutationSuccess):
    order_id: strawberry.ID
    version: int
    status: OrderStatus

    order: Order | None = strawberry.field(
        resolver=_order_after_write,
        description="The order as the read model shows it once it reflects this write.",
    )


PlaceOrderResult = Annotated[
    OrderChanged | gql.ValidationFailed | gql.NotFound | gql.InsufficientStock | gql.ProductUnavailable,
    strawberry.union("PlaceOrderResult"),
]
OrderActionResult = Annotated[
    OrderChanged
    | gql.NotFound
    | gql.VersionConflict
    | gql.InvalidTransition
    | gql.ValidationFailed
    | gql.PaymentMismatch,
    strawberry.union("OrderActionResult"),
]
RefundOrderResult = Annotated[
    OrderChanged
    | gql.ValidationFailed
    | gql.NotFound
    | gql.VersionConflict
    | gql.InvalidTransition
    | gql.RefundExceedsPayment,
    strawberry.union("RefundOrderResult"),
]


async def place_order(info: strawberry.Info[Context, None], input: PlaceOrderInput) -> PlaceOrderResult:
    permissions.signed_in(info)
    ids = IdFields()
    customer_id = ids.decode("customerId", input.customer_id, "Customer")
    if not ids.errors:
        permissions.admin_or_customer(info, customer_id)
    lines = tuple(
        OrderLineRequest(
            product_id=ids.decode(f"lines[{index}].productId", line.product_id, "Product"), quantity=line.quantity
        )
        for index, line in enumerate(input.lines)
    )
    try:
        ids.errors.raise_if_any()
        address = None if input.shipping_address is None else input.shipping_address.request()
        command = PlaceOrder(customer_id=customer_id, lines=lines, shipping_address=address)
        changed = await dispatch(info, command, idempotency_key=input.idempotency_key)
    except errors.ValidationFailed as error:
        return validation_failed(error)
    except errors.NotFound as error:
        return not_found(error)
    except errors.InsufficientStock as error:
        return insufficient_stock(error)
    except errors.ProductUnavailable as error:
        return product_unavailable(error)
    return _order_changed(changed)


async def pay_order(info: strawberry.Info[Context, None], input: OrderActionInput) -> OrderActionResult:
    payment = input.payment
    request = (
        None
        if payment is None
        else PaymentRequest(amount=payment.amount, method=payment.method.value, reference=payment.reference)
    )
    return await _act(info, input, PayOrder, payment=request)


async def ship_order(info: strawberry.Info[Context, None], input: OrderActionInput) -> OrderActionResult:
    permissions.admin(info)
    shipment = input.shipment
    request = (
        None
        if shipment is None
        else ShipmentRequest(carrier=shipment.carrier, tracking_number=shipment.tracking_number)
    )
    return await _act(info, input, ShipOrder, shipment=request)


async def deliver_order(info: strawberry.Info[Context, None], input: OrderActionInput) -> OrderActionResult:
    permissions.admin(info)
    return await _act(info, input, DeliverOrder)


async def cancel_order(info: strawberry.Info[Context, None], input: OrderActionInput) -> OrderActionResult:
    return await _act(info, input, CancelOrder)


async def _act(
    info: strawberry.Info[Context, None], input: OrderActionInput, action: type[OrderAction], **details: object
) -> OrderActionResult:
    """Run a lifecycle action; a customer's runs on their own orders only (the handler checks the owner).
    `details` are the action's own (`payment`, `shipment`); another action's are a field error."""
    actor = permissions.signed_in(info)
    misplaced = [name for name in ("payment", "shipment") if getattr(input, name) is not None and name not in details]
    if misplaced:
        refused = [errors.FieldError(name, f"is not taken by {info.field_name}") for name in misplaced]
        return validation_failed(errors.ValidationFailed(refused))
    order_id = decode_or_not_found(input.id, "Order")
    if isinstance(order_id, gql.NotFound):
        return order_id
    command = action(
        order_id=order_id,
        expected_version=input.expected_version,
        reason=input.reason,
        on_behalf_of=actor.customer_id,
        **details,
    )
    try:
        changed = await dispatch(info, command)
    except errors.ValidationFailed as error:
        return validation_failed(error)
    except errors.NotFound as error:
        return not_found(error)
    except errors.VersionConflict as error:
        return version_conflict(error)
    except errors.InvalidTransition as error:
        return invalid_transition(error)
    except errors.PaymentMismatch as error:
        return payment_mismatch(error)
    except errors.NotYours as error:
        raise not_yours(error) from None
    return _order_changed(changed)


async def refund_order(info: strawberry.Info[Context, None], input: RefundOrderInput) -> RefundOrderResult:
    """Give back part or all of what was paid (admins only), with returned units going back to stock."""
    permissions.admin(info)
    ids = IdFields()
    returned = tuple(
        ReturnRequest(
            product_id=ids.decode(f"returnedLines[{index}].productId", line.product_id, "Product"),
            quantity=line.quantity,
        )
        for index, line in enumerate(input.returned_lines or ())
    )
    order_id = decode_or_not_found(input.id, "Order")
    if isinstance(order_id, gql.NotFound):
        return order_id
    command = RefundOrder(
        order_id=order_id,
        amount=input.amount,
        reference=input.reference,
        expected_version=input.expected_version,
        reason=input.reason,
        returned_lines=returned,
    )
    try:
        ids.errors.raise_if_any()
        changed = await dispatch(info, command)
    except errors.ValidationFailed as error:
        return validation_failed(error)
    except errors.NotFound as error:
        return not_found(error)
    except errors.VersionConflict as error:
        return version_conflict(error)
    except errors.InvalidTransition as error:
        return invalid_transition(error)
    except errors.RefundExceedsPayment as error:
        return refund_exceeds_payment(error)
    return _order_changed(changed)


def _order_changed(changed: Changed) -> OrderChanged:
    assert changed.status is not None  # an order command always reports the order's status
    return OrderChanged(
        consistency_token=token_of(changed),
        order_id=strawberry.ID(to_global_id("Order", changed.aggregate_id)),
        version=changed.version,
        status=OrderStatus(changed.status),
    )
