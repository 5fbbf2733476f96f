"""Every operation's way through the server, as one schema extension.

Strawberry runs each extension's hooks around each step of an operation (operation, parse, validate,
execute), and that bookkeeping costs per hook per extension whatever the hook does: the nine extensions
this replaces took more of a `{ __typename }` request than its execution (docs/benchmarks.md). One
`OperationPipeline` per operation does, step by step:

- operation: around everything, the error policy (every error gets a code; internals are masked in
  production) and the records (metrics, the request's log line), api/observation.py;
- parse: the document, from the schema's LRU cache of parsed documents (`Documents`), parsed under the
  token limit and refused when a selection set is empty (api/limits.py);
- validate: GraphQL's rules and the limits' (depth, aliases, fields, introspection), cached with the
  document;
- execute: a mutation operation's permissions (api/permissions.py), then the operation's price against the
  request's budget (api/cost.py); meanwhile what each command writes is recorded
  (api/mutations/_dispatch.py);
- results: `extensions.cost`, and `extensions.written` when `data` is null.

A query or mutation does not even go through Strawberry's extensions runner: `run_operation` (which
`TwofoldSchema.execute` calls) takes Strawberry's steps in straight-line code and calls the hooks where the
runner would enter them, about a tenth of a `{ __typename }` request less. Subscriptions still go through the
runner (`PipelineRunner`). A unit test runs the same operations both ways and compares what they answer.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from inspect import isawaitable
from types import TracebackType
from typing import Any, TypeGuard, cast

from graphql import ASTValidationRule, DocumentNode, ExecutionResult, GraphQLError, GraphQLSchema, parse
from graphql.execution import execute as execute_document
from strawberry.exceptions import MissingQueryError
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.schema.schema import Schema, validate_document
from strawberry.types import ExecutionContext
from strawberry.types import ExecutionResult as StrawberryResult

from api.cost import Paging, Prices, RequestBudget, operation_cost, over_budget
from api.limits import refuse_empty_selection_sets, validation_rules
from api.metrics import Metrics
from api.mutations._dispatch import record_writes, stop_recording_writes
from api.observation import INTERNAL_ERROR_MESSAGE, coded, record_operation
from api.permissions import mutation_refusal
from api.settings import Settings

logger = logging.getLogger("twofold.requests")

DOCUMENTS_CACHED = 1000


class Documents:
    """Parsed documents by query text, with their validation errors once validated: an LRU of `maxsize`.

    A document that does not parse (a syntax error, over `max_tokens` tokens, an empty selection set) is
    not kept: it raises each time."""

    def __init__(self, *, max_tokens: int | None, maxsize: int = DOCUMENTS_CACHED) -> None:
        self.max_tokens = max_tokens
        self.get = functools.lru_cache(maxsize=maxsize)(self._parse)

    def _parse(self, query: str) -> Prepared:
        document = parse(query) if self.max_tokens is None else parse(query, max_tokens=self.max_tokens)
        refuse_empty_selection_sets(query, document)
        return Prepared(document)


class Prepared:
    """A parsed document and, once asked, what it breaks of a set of validation rules, and its prices."""

    __slots__ = ("_errors", "_rules", "document", "prices")

    def __init__(self, document: DocumentNode) -> None:
        self.document = document
        self._rules: tuple[type[ASTValidationRule], ...] | None = None
        self._errors: list[GraphQLError] = []
        self.prices = Prices()

    def errors(self, schema: GraphQLSchema, rules: tuple[type[ASTValidationRule], ...]) -> list[GraphQLError]:
        if rules != self._rules:
            self._errors, self._rules = validate_document(schema, self.document, rules), rules
        return list(self._errors)


@dataclass(frozen=True)
class Limits:
    rules: tuple[type[ASTValidationRule], ...]  # beside GraphQL's own
    paging: Paging


@dataclass(frozen=True)
class Observing:
    metrics: Metrics
    mask_internal_errors: bool


@dataclass(frozen=True)
class Policy:
    """What every operation of a schema shares: its document cache, and, when served, its limits and how
    it is observed."""

    documents: Documents
    limits: Limits | None = None
    observing: Observing | None = None

    @classmethod
    def of(cls, settings: Settings | None, metrics: Metrics | None = None) -> Policy:
        """The served schema's policy under `settings`; without them (exporting the schema, say) only the
        caches and the writes' report."""
        if settings is None:
            return cls(Documents(max_tokens=None))
        return cls(
            Documents(max_tokens=settings.max_tokens),
            Limits(
                tuple(validation_rules(settings)),
                Paging(default=settings.default_page_size, maximum=settings.max_page_size),
            ),
            Observing(metrics or Metrics(), mask_internal_errors=settings.production),
        )


class OperationPipeline(SchemaExtension):
    """One per operation (Strawberry builds it from the schema's factory); see the module's docstring."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.prepared: Prepared | None = None
        self.cost: int | None = None
        self.budget: RequestBudget | None = None
        self.remaining = 0  # what the budget held once this operation was paid for (or refused)
        self.written: list[dict[str, Any]] = []

    def on_operation(self) -> Generator[None, None, None]:
        execution = self.execution_context
        limits, observing = self.policy.limits, self.policy.observing
        if limits is not None:
            execution.validation_rules = execution.validation_rules + limits.rules
        if observing is None:
            yield
            return
        started = time.perf_counter()
        try:
            yield
        except GraphQLError as error:
            # A document that does not parse comes through here as an exception, and becomes the one error
            # of the response as it is: code it in place.
            self._record(observing, started, [coded(error, mask_internal_errors=observing.mask_internal_errors)])
            raise
        except (MissingQueryError, InvalidOperationTypeError, CannotGetOperationTypeError):
            raise  # the HTTP view answers these with a 400 of its own
        except Exception as exc:
            # A fault before execution (a validation rule that crashed, say): a coded internal error, logged.
            logger.exception("the operation failed before it ran", extra={"error_type": type(exc).__name__})
            message = INTERNAL_ERROR_MESSAGE if observing.mask_internal_errors else f"Internal server error: {exc}"
            internal = GraphQLError(message, extensions={"code": "INTERNAL_SERVER_ERROR"})
            self._record(observing, started, [internal])
            raise internal from exc
        result = execution.result
        errors: list[GraphQLError] = []
        if result is not None and result.errors:
            errors = result.errors = [
                coded(error, mask_internal_errors=observing.mask_internal_errors) for error in result.errors
            ]
        self._record(observing, started, errors)

    def on_parse(self) -> Generator[None, None, None]:
        self.parse()
        yield

    def on_validate(self) -> Generator[None, None, None]:
        self.validate()
        yield

    def on_execute(self) -> Generator[None, None, None]:
        self.admit()
        token = record_writes(self.written)
        try:
            yield
        finally:
            stop_recording_writes(token)

    def parse(self) -> None:
        """The document, from the cache (raising the GraphQLError of a document that does not parse)."""
        execution = self.execution_context
        if execution.graphql_document is None and execution.query is not None:
            self.prepared = self.policy.documents.get(execution.query)
            execution.graphql_document = self.prepared.document

    def validate(self) -> None:
        """The document's validation errors, from the cache, as the operation's pre-execution errors."""
        execution = self.execution_context
        if self.prepared is not None and execution.pre_execution_errors is None:
            execution.pre_execution_errors = self.prepared.errors(execution.schema._schema, execution.validation_rules)

    def admit(self) -> None:
        """Before execution: a mutation's permissions, then the operation's price; a refusal becomes the
        operation's result, and nothing runs."""
        execution = self.execution_context
        limits = self.policy.limits
        if limits is not None and execution.result is None:
            refusal = mutation_refusal(execution)
            if refusal is not None:
                execution.result = ExecutionResult(data=None, errors=[refusal])
            else:
                self._price(limits.paging)

    def get_results(self) -> dict[str, Any]:
        results: dict[str, Any] = {}
        if self.cost is not None and self.budget is not None:
            results["cost"] = {"requested": self.cost, "budget": self.budget.budget, "remaining": self.remaining}
        result = self.execution_context.result
        if self.written and (result is None or result.data is None):
            results["written"] = self.written
        return results

    def _price(self, paging: Paging) -> None:
        """Prices the operation, refusing it whole when the request's budget cannot pay for it."""
        execution = self.execution_context
        budget = getattr(execution.context, "budget", None)
        if not isinstance(budget, RequestBudget) or execution.graphql_document is None:
            return
        self.budget = budget
        price = operation_cost if self.prepared is None else self.prepared.prices.of
        self.cost = price(
            execution.schema._schema, execution.graphql_document, execution.operation_name, execution.variables, paging
        )
        if self.cost is not None and not budget.spend(self.cost):
            execution.result = ExecutionResult(data=None, errors=[over_budget(self.cost, budget)])
        self.remaining = budget.remaining

    def _record(self, observing: Observing, started: float, errors: list[GraphQLError]) -> None:
        record_operation(observing.metrics, self.execution_context, time.perf_counter() - started, errors)


async def run_operation(schema: Schema, execution: ExecutionContext, pipeline: OperationPipeline) -> StrawberryResult:
    """What Strawberry's `Schema.execute` does for a query or mutation when the pipeline is the schema's one
    extension, step for step, in straight-line code: the steps' hooks are called where Strawberry's runner
    would enter them, and only the operation's, which handles errors, is entered as a context manager.
    Parse errors, validation errors and a refusal come back as the result; a missing query, an unknown
    operation name or an operation type the transport does not allow raise, as they do in Strawberry."""
    try:
        with _Step(pipeline.on_operation):
            result = await _prepared_and_executed(schema, execution, pipeline)
    except (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError):
        raise
    except Exception as exc:
        error = exc if isinstance(exc, GraphQLError) else GraphQLError(str(exc), original_error=exc)
        result = _pre_execution_result(schema, execution, [error])
    if result.errors:
        execution.pre_execution_errors = result.errors
    served = StrawberryResult(data=result.data, errors=result.errors, extensions=pipeline.get_results())
    execution.result = served
    return served


async def _prepared_and_executed(
    schema: Schema, execution: ExecutionContext, pipeline: OperationPipeline
) -> ExecutionResult | StrawberryResult:
    if not execution.query:
        raise MissingQueryError
    try:
        pipeline.parse()
    except GraphQLError as error:
        return _pre_execution_result(schema, execution, [error])
    except Exception as error:
        return _pre_execution_result(schema, execution, [GraphQLError(str(error), original_error=error)])
    document = execution.graphql_document
    if document is None:  # parse() sets it for any query
        raise MissingQueryError
    try:
        operation_type = execution.operation_type
    except RuntimeError as error:
        raise CannotGetOperationTypeError(execution.operation_name) from error
    if operation_type not in execution.allowed_operations:
        raise InvalidOperationTypeError(operation_type)
    pipeline.validate()
    if execution.pre_execution_errors:
        return _pre_execution_result(schema, execution, execution.pre_execution_errors)
    pipeline.admit()
    token = record_writes(pipeline.written)
    try:
        if execution.result is None:
            outcome = execute_document(
                schema._schema,
                document,
                root_value=execution.root_value,
                variable_values=execution.variables,
                operation_name=execution.operation_name,
                context_value=execution.context,
                is_awaitable=cast(Callable[[Any], TypeGuard[Awaitable[Any]]], optimized_is_awaitable),
                executor_class=schema.execution_context_class,
                operation_extensions=execution.operation_extensions,
            )
            result: ExecutionResult | StrawberryResult = await outcome if isawaitable(outcome) else outcome
            execution.result = result
        else:
            result = cast(ExecutionResult, execution.result)  # the refusal admit() set
        if result.errors:
            execution.pre_execution_errors = result.errors
            schema._process_errors(result.errors, execution)
    finally:
        stop_recording_writes(token)
    return result


def _pre_execution_result(schema: Schema, execution: ExecutionContext, errors: list[GraphQLError]) -> StrawberryResult:
    execution.pre_execution_errors = errors
    schema._process_errors(errors, execution)
    result = StrawberryResult(data=None, errors=errors)
    execution.result = result
    return result


class PipelineRunner(SchemaExtensionsRunner):
    """Strawberry's extensions runner for a schema whose one extension is an `OperationPipeline`: each step
    enters the pipeline's hook directly, without the hook lookups, wrappers and exit stacks Strawberry
    builds for every step of every operation to serve any number of extensions."""

    def __init__(self, execution_context: ExecutionContext, pipeline: OperationPipeline) -> None:
        super().__init__(execution_context, [pipeline])
        self.pipeline = pipeline

    def operation(self) -> Any:
        return _Step(self.pipeline.on_operation)

    def parsing(self) -> Any:
        return _Step(self.pipeline.on_parse)

    def validation(self) -> Any:
        return _Step(self.pipeline.on_validate)

    def executing(self) -> Any:
        return _Step(self.pipeline.on_execute)


class _Step:
    """A hook (a generator that yields once) as a context manager, sync or async, with the semantics of
    `contextlib.contextmanager`: an exception raised inside is thrown into the hook at its `yield`."""

    __slots__ = ("_generator", "_hook")

    def __init__(self, hook: Callable[[], Generator[None, None, None]]) -> None:
        self._hook = hook

    def __enter__(self) -> None:
        self._generator = self._hook()
        next(self._generator)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> bool:
        if kind is None:
            try:
                next(self._generator)
            except StopIteration:
                return False
            raise RuntimeError(f"{self._hook.__qualname__} yielded more than once")
        thrown = error if error is not None else kind()
        try:
            self._generator.throw(thrown)
        except StopIteration as stop:
            return stop is not thrown  # the hook swallowed the error
        except BaseException as raised:
            if raised is thrown:
                return False  # the hook let it through: it propagates as it was
            raise
        raise RuntimeError(f"{self._hook.__qualname__} yielded again after an error")

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> bool:
        return self.__exit__(kind, error, traceback)
