"""An order's journey through HTTP: a shipping address, a payment with its reference, a shipment, a refund
with returned units, a cancellation that refunds the rest; and what the order and the reports then show."""

from __future__ import annotations

from typing import Any

from tests.conftest import own_database
from tests.e2e.conftest import GraphQLClient, customer_token
from tests.e2e.test_mutations_http import PLACE, act, create_product, register
from tests.e2e.test_products_http import error_codes

JOURNEY = """
query($id: ID!, $token: String) {
  order(id: $id, consistentWith: $token) {
    status version total amountPaid amountRefunded cancellationReason
    shippingAddress { name line1 line2 city postalCode region country }
    payments { amount method reference at }
    refunds { amount reference reason at }
    shipment { carrier trackingNumber shippedAt deliveredAt }
  }
}
"""
REFUND = """
mutation($input: RefundOrderInput!) {
  refundOrder(input: $input) {
    __typename
    ... on OrderChanged { consistencyToken version status }
    ... on ValidationFailed { code fields { field message } }
    ... on NotFound { code id }
    ... on VersionConflict { code expectedVersion actualVersion }
    ... on InvalidTransition { code status action }
    ... on RefundExceedsPayment { code message refundable requested }
  }
}
"""
SALES = """
query($from: DateTime!, $to: DateTime!, $token: String) {
  salesReport(from: $from, to: $to, consistentWith: $token) { totalRevenue refundTotal netRevenue orderCount }
}
"""
AS_OF = """
query($id: ID!, $at: DateTime!, $t: String) { orderAsOf(id: $id, asOf: $at, consistentWith: $t) { status amountPaid } }
"""
TRAIL = "query($id: ID, $t: String) { events(aggregateId: $id, consistentWith: $t) { edges { node { occurredAt } } } }"
STOCK = "query($id: ID!, $t: String) { product(id: $id, consistentWith: $t) { stock } }"
ADDRESS = {"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London", "postalCode": "SW1Y 4JH",
           "country": "gb", "line2": "  "}  # fmt: skip

# A database of each test's own: the sales report adds up every order in the store.
database_url = own_database()


def placed(gql: GraphQLClient, customer: str, product: str, quantity: int, **extra: Any) -> dict[str, Any]:
    order_input = {"customerId": customer, "lines": [{"productId": product, "quantity": quantity}], **extra}
    body = gql(PLACE, input=order_input)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["placeOrder"]
    return result


def refund(gql: GraphQLClient, **fields: Any) -> dict[str, Any]:
    body = gql(REFUND, input=fields)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["refundOrder"]
    return result


def test_an_order_is_paid_shipped_delivered_and_refunded_and_shows_each_step(gql: GraphQLClient) -> None:
    customer = register(gql)
    mug = create_product(gql, price="12.50", initialStock=10)["productId"]
    bad = placed(gql, customer, mug, 1, shippingAddress={**ADDRESS, "country": "Atlantis", "city": ""})
    assert [f["field"] for f in bad["fields"]] == ["shippingAddress.city", "shippingAddress.country"]
    order = placed(gql, customer, mug, 4, shippingAddress=ADDRESS)["orderId"]

    as_customer = GraphQLClient(gql.url.removesuffix("/graphql"), customer_token(customer))
    mismatch = act(
        as_customer, "payOrder", id=order, payment={"amount": "49.99", "method": "CARD", "reference": "pi_1"}
    )
    assert (mismatch["__typename"], mismatch["expected"], mismatch["received"]) == ("PaymentMismatch", "50.00", "49.99")
    payment = {"amount": "50.00", "method": "CARD", "reference": "pi_1"}
    paid = act(as_customer, "payOrder", id=order, payment=payment)
    assert (paid["status"], paid["version"]) == ("PAID", 2)
    assert act(as_customer, "payOrder", id=order, payment=payment) == paid, "a retry gets the first answer"
    misplaced = act(gql, "deliverOrder", id=order, payment=payment)
    assert misplaced["fields"] == [{"field": "payment", "message": "is not taken by deliverOrder"}]

    act(gql, "shipOrder", id=order, shipment={"carrier": "Royal Mail", "trackingNumber": "RM123"})
    act(gql, "deliverOrder", id=order)
    exceeds = refund(gql, id=order, amount="50.01", reference="re_1")
    assert (exceeds["__typename"], exceeds["refundable"], exceeds["requested"]) == (
        "RefundExceedsPayment",
        "50.00",
        "50.01",
    )
    returned = [{"productId": mug, "quantity": 1}]
    refunded = refund(gql, id=order, amount="12.50", reference="re_1", reason="chipped", returnedLines=returned)
    assert (refunded["status"], refunded["version"]) == ("DELIVERED", 5)
    assert refund(gql, id=order, amount="12.50", reference="re_1", returnedLines=returned) == refunded

    shown = gql(JOURNEY, id=order, token=refunded["consistencyToken"])["data"]["order"]
    assert (shown["status"], shown["total"], shown["amountPaid"], shown["amountRefunded"]) == (
        "DELIVERED",
        "50.00",
        "50.00",
        "12.50",
    )
    assert shown["shippingAddress"] == {
        "name": "Ada Lovelace",
        "line1": "12 St James's Square",
        "line2": None,
        "city": "London",
        "postalCode": "SW1Y 4JH",
        "region": None,
        "country": "GB",
    }
    assert [(p["amount"], p["method"], p["reference"]) for p in shown["payments"]] == [("50.00", "CARD", "pi_1")]
    assert [(r["amount"], r["reference"], r["reason"]) for r in shown["refunds"]] == [("12.50", "re_1", "chipped")]
    shipment = shown["shipment"]
    assert (shipment["carrier"], shipment["trackingNumber"]) == ("Royal Mail", "RM123")
    assert shipment["shippedAt"] <= shipment["deliveredAt"]
    stock = gql(STOCK, id=mug, t=refunded["consistencyToken"])["data"]["product"]["stock"]
    assert stock == 7, "ten, four ordered, one returned"

    as_of = AS_OF
    trail = gql(TRAIL, id=order, t=refunded["consistencyToken"])["data"]["events"]["edges"]
    placed_at = trail[-1]["node"]["occurredAt"]  # newest first: the placing is the last
    then = as_customer(as_of, id=order, at=placed_at, t=refunded["consistencyToken"])["data"]["orderAsOf"]
    assert then == {"status": "PLACED", "amountPaid": "0.00"}
    assert gql(as_of, id=order, at="2001-01-01T00:00:00Z")["data"]["orderAsOf"] is None, "before it was placed"
    stranger = GraphQLClient(gql.url.removesuffix("/graphql"), customer_token(register(gql)))
    assert error_codes(stranger(as_of, id=order, at=placed_at)) == ["FORBIDDEN"]


def test_cancelling_a_paid_order_refunds_it_and_the_reports_count_the_money(gql: GraphQLClient) -> None:
    customer = register(gql)
    mug = create_product(gql, price="10.00", initialStock=10)["productId"]
    kept = placed(gql, customer, mug, 3)["orderId"]
    act(gql, "payOrder", id=kept)
    refund(gql, id=kept, amount="5.00", reference="re_kept")
    dropped = placed(gql, customer, mug, 2)["orderId"]
    act(gql, "payOrder", id=dropped)
    refund(gql, id=dropped, amount="4.00", reference="re_dropped", returnedLines=[{"productId": mug, "quantity": 1}])
    cancelled = act(gql, "cancelOrder", id=dropped, reason="lost in the post")
    assert (cancelled["status"], cancelled["version"]) == ("CANCELLED", 5)
    token = cancelled["consistencyToken"]

    shown = gql(JOURNEY, id=dropped, token=token)["data"]["order"]
    assert (shown["amountPaid"], shown["amountRefunded"], shown["cancellationReason"]) == (
        "20.00",
        "20.00",
        "lost in the post",
    )
    assert [(r["amount"], r["reason"]) for r in shown["refunds"]] == [("4.00", None), ("16.00", "lost in the post")]
    assert gql(STOCK, id=mug, t=token)["data"]["product"]["stock"] == 7, "the returned unit is not released twice"
    invalid = refund(gql, id=dropped, amount="1.00", reference="re_late")
    assert (invalid["__typename"], invalid["status"], invalid["action"]) == ("InvalidTransition", "CANCELLED", "refund")

    customer_stats = gql(
        "query($id: ID!, $t: String) { customer(id: $id, consistentWith: $t) { orderCount lifetimeValue } }",
        id=customer,
        t=token,
    )["data"]["customer"]
    assert customer_stats == {"orderCount": 1, "lifetimeValue": "25.00"}, "30.00 paid, 5.00 refunded; not the cancelled"
    figures = gql(SALES, token=token, **day_window(gql, kept, token))["data"]["salesReport"]
    assert (figures["totalRevenue"], figures["refundTotal"], figures["netRevenue"], figures["orderCount"]) == (
        "30.00",
        "5.00",
        "25.00",
        1,
    )


def day_window(gql: GraphQLClient, order: str, token: str) -> dict[str, str]:
    """The UTC day the order was placed on."""
    placed_at = gql(
        "query($id: ID!, $t: String) { order(id: $id, consistentWith: $t) { placedAt } }", id=order, t=token
    )
    day = placed_at["data"]["order"]["placedAt"][:10]
    return {"from": f"{day}T00:00:00Z", "to": f"{day}T23:59:59.999Z"}


def test_journey_inputs_out_of_bounds_are_field_errors_and_write_nothing(gql: GraphQLClient) -> None:
    customer = register(gql)
    mug = create_product(gql, price="10.00", initialStock=10)["productId"]
    order = placed(gql, customer, mug, 1)["orderId"]
    bad_payment = act(gql, "payOrder", id=order, payment={"amount": "0.00", "method": "CARD", "reference": " "})
    assert bad_payment["fields"] == [
        {"field": "payment.amount", "message": "must be greater than 0"},
        {"field": "payment.reference", "message": "must not be empty"},
    ]
    paid = act(gql, "payOrder", id=order)
    bad_shipment = act(gql, "shipOrder", id=order, shipment={"carrier": "x" * 10_000, "trackingNumber": "1"})
    assert bad_shipment["fields"] == [{"field": "shipment.carrier", "message": "must be at most 200 characters"}]
    negative = refund(gql, id=order, amount="-1.00", reference="re_1")
    assert negative["fields"] == [{"field": "amount", "message": "must not be negative"}]
    stranger = refund(
        gql, id=order, amount="1.00", reference="re_1", returnedLines=[{"productId": "nope", "quantity": 1}]
    )
    assert [f["field"] for f in stranger["fields"]] == ["returnedLines[0].productId"]
    shown = gql(JOURNEY, id=order, token=paid["consistencyToken"])["data"]["order"]
    assert (shown["status"], shown["version"], shown["refunds"], shown["shipment"]) == ("PAID", 2, [], None)
    as_customer = GraphQLClient(gql.url.removesuffix("/graphql"), customer_token(customer))
    assert error_codes(as_customer(REFUND, input={"id": order, "amount": "1.00", "reference": "x"})) == ["FORBIDDEN"]
