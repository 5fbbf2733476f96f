"""Assembles the GraphQL schema from the query and mutation modules. Holds no logic of its own."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from api import inputs, subscriptions
from api.execution import TwofoldExecutionContext
from api.metrics import Metrics
from api.mutations import customers as customer_mutations
from api.mutations import orders as order_mutations
from api.mutations import products as product_mutations
from api.pipeline import OperationPipeline, PipelineRunner, Policy, run_operation
from api.queries import customers as customer_queries
from api.queries import events as event_queries
from api.queries import node as node_queries
from api.queries import orders as order_queries
from api.queries import products as product_queries
from api.settings import Settings
from api.types.customers import Customer
from api.types.errors import (
    DuplicateEmail,
    DuplicateSku,
    InsufficientStock,
    InvalidTransition,
    NotFound,
    ProductUnavailable,
    ValidationFailed,
    VersionConflict,
)
from api.types.events import EventRecord
from api.types.orders import Order
from api.types.products import Product
from api.types.scalars import SCALARS


@strawberry.type
class Query:
    node = strawberry.field(resolver=node_queries.node)
    product = strawberry.field(resolver=product_queries.product)
    products = strawberry.field(resolver=product_queries.products)
    product_suggestions = strawberry.field(resolver=product_queries.product_suggestions)
    customer = strawberry.field(resolver=customer_queries.customer)
    customers = strawberry.field(resolver=customer_queries.customers)
    customer_report = strawberry.field(resolver=customer_queries.customer_report)
    me = strawberry.field(
        resolver=customer_queries.me,
        description="The customer whose token makes the request; null for an admin or an anonymous caller.",
    )
    order = strawberry.field(resolver=order_queries.order)
    order_as_of = strawberry.field(
        resolver=order_queries.order_as_of,
        description="With asOf: the order as it stood at that time, folded from its events; null before it was placed.",
    )
    orders = strawberry.field(resolver=order_queries.orders)
    sales_report = strawberry.field(resolver=order_queries.sales_report)
    events = strawberry.field(resolver=event_queries.events)
    projections = strawberry.field(resolver=event_queries.projections)
    outbox_consumers = strawberry.field(
        resolver=event_queries.outbox_consumers,
        description="Admins: the outbox consumers other than the projector (the payment-expiry saga, the Kafka relay)"
        " and their state.",
    )


@strawberry.type
class Mutation:
    create_product = strawberry.mutation(resolver=product_mutations.create_product)
    update_product_details = strawberry.mutation(resolver=product_mutations.update_product_details)
    change_product_price = strawberry.mutation(resolver=product_mutations.change_product_price)
    restock_product = strawberry.mutation(resolver=product_mutations.restock_product)
    discontinue_product = strawberry.mutation(resolver=product_mutations.discontinue_product)
    register_customer = strawberry.mutation(resolver=customer_mutations.register_customer)
    update_customer = strawberry.mutation(resolver=customer_mutations.update_customer)
    place_order = strawberry.mutation(resolver=order_mutations.place_order)
    pay_order = strawberry.mutation(resolver=order_mutations.pay_order)
    ship_order = strawberry.mutation(resolver=order_mutations.ship_order)
    deliver_order = strawberry.mutation(resolver=order_mutations.deliver_order)
    cancel_order = strawberry.mutation(resolver=order_mutations.cancel_order)
    refund_order = strawberry.mutation(resolver=order_mutations.refund_order)


@strawberry.type
class Subscription:
    order_updated: AsyncIterator[Order] = strawberry.subscription(
        resolver=subscriptions.order_updated,
        description="Each change of the order, once the read model shows it: the order as queries now see it.",
    )
    product_updated: AsyncIterator[Product] = strawberry.subscription(
        resolver=subscriptions.product_updated,
        description="Each change of these products (at most 100), once the read model shows it.",
    )
    events: AsyncIterator[EventRecord] = strawberry.subscription(
        resolver=subscriptions.events,
        description="Every event after `after` (an EventRecord.position, an event cursor or a consistencyToken;"
        " none: from now on), in commit order, each once the read model shows it.",
    )


# graphql-core's "Did you mean 'salesReport'?" and the like, which name what the schema holds.
_SUGGESTION = re.compile(r" Did you mean .*\?$", re.DOTALL)


class TwofoldSchema(strawberry.Schema):
    hide_suggestions = False
    policy: Policy  # what every operation shares: its document cache, limits and observation (api/pipeline.py)

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        """The pipeline's own runner when it is the one extension (it always is here, api/pipeline.py)."""
        if len(extensions) == 1 and isinstance(extensions[0], OperationPipeline):
            return PipelineRunner(execution_context, extensions[0])
        return super().create_extensions_runner(execution_context, extensions)

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """The pipeline's straight-line version of Strawberry's `execute` when it is the one extension."""
        extensions = self.get_extensions()
        pipeline = extensions[0] if len(extensions) == 1 else None
        if not isinstance(pipeline, OperationPipeline):
            return await super().execute(
                query,
                variable_values,
                context_value,
                root_value,
                operation_name,
                allowed_operation_types,
                operation_extensions,
            )
        execution = self._create_execution_context(
            query=query,
            allowed_operation_types=DEFAULT_ALLOWED_OPERATION_TYPES
            if allowed_operation_types is None
            else allowed_operation_types,
            variable_values=variable_values,
            context_value=context_value,
            root_value=root_value,
            operation_name=operation_name,
            operation_extensions=operation_extensions,
        )
        pipeline.execution_context = execution
        return await run_operation(self, execution, pipeline)

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Logs only the unexpected errors: a coded error or a bad document is the client's, not a fault.

        Where introspection is off, the messages lose their suggestions too: they would list, a guess at a
        time, the fields, arguments and values that introspection hides."""
        if self.hide_suggestions:
            for error in errors:
                error.message = _SUGGESTION.sub("", error.message)
        unexpected = [
            error
            for error in errors
            if error.path is not None
            and error.original_error is not None
            and not isinstance(error.original_error, GraphQLError)
        ]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema(settings: Settings | None = None, metrics: Metrics | None = None) -> strawberry.Schema:
    """The served schema; with `settings`, with its limits, introspection switch and error policy."""
    policy = Policy.of(settings, metrics)
    max_operations = 1 if settings is None else settings.max_operations
    schema = TwofoldSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # Types reachable only through interfaces or unions must be named to appear in the schema.
        types=[
            Product,
            Customer,
            Order,
            ValidationFailed,
            NotFound,
            VersionConflict,
            DuplicateSku,
            DuplicateEmail,
            InsufficientStock,
            ProductUnavailable,
            InvalidTransition,
        ],
        # A factory, not an instance: Strawberry gives each operation its own (api/pipeline.py).
        extensions=[lambda: OperationPipeline(policy)],
        config=StrawberryConfig(scalar_map=SCALARS, batching_config={"max_operations": max_operations}),
        execution_context_class=TwofoldExecutionContext,
    )
    schema.hide_suggestions = settings is not None and not settings.introspection
    schema.policy = policy
    inputs.install(schema)
    return schema
