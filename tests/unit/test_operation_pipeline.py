from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass

import pytest
import strawberry
from prometheus_client import generate_latest
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from api.auth import ANONYMOUS, Actor, Role
from api.cost import Paging, RequestBudget
from api.errors import graphql_error
from api.metrics import MAX_OPERATION_LABELS, Metrics
from api.observation import INTERNAL_ERROR_MESSAGE
from api.pipeline import Documents, Limits, Observing, OperationPipeline, PipelineRunner, Policy, _Step
from api.schema import TwofoldSchema


@strawberry.type
class Query:
    @strawberry.field
    def fine(self) -> int:
        return 1

    @strawberry.field
    def echo(self, n: int) -> int:
        return n

    @strawberry.field
    def broken(self) -> int:
        raise RuntimeError("connection to postgresql://admin:hunter2@db failed")

    @strawberry.field
    def refused(self) -> int:
        raise graphql_error("FORBIDDEN", "Only an admin may do this.")


def run(query: str, *, mask: bool, metrics: Metrics | None = None) -> list[tuple[str, str]]:
    observed = metrics or Metrics()
    policy = Policy(Documents(max_tokens=None), observing=Observing(observed, mask_internal_errors=mask))
    schema = TwofoldSchema(Query, extensions=[lambda: OperationPipeline(policy)])
    result = asyncio.run(schema.execute(query))
    return [(error.message, (error.extensions or {}).get("code", "")) for error in result.errors or []]


def test_an_unexpected_error_is_coded_and_masked_when_asked() -> None:
    assert run("{ broken }", mask=True) == [(INTERNAL_ERROR_MESSAGE, "INTERNAL_SERVER_ERROR")]
    [(message, code)] = run("{ broken }", mask=False)
    assert code == "INTERNAL_SERVER_ERROR"
    assert "hunter2" in message  # development shows the fault; production never does


def test_expected_errors_keep_their_code_and_message_even_when_masking() -> None:
    assert run("{ refused }", mask=True) == [("Only an admin may do this.", "FORBIDDEN")]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ fine ", "GRAPHQL_PARSE_FAILED"),
        ("{ nothing }", "GRAPHQL_VALIDATION_FAILED"),
        ("query($n: Int!) { fine }", "GRAPHQL_VALIDATION_FAILED"),
        ("query($n: Int!) { echo(n: $n) }", "BAD_USER_INPUT"),
    ],
)
def test_a_bad_document_gets_a_code_that_says_so(query: str, code: str) -> None:
    assert [found for _, found in run(query, mask=True)] == [code]


def test_operations_are_counted_by_name_outcome_and_error_code() -> None:
    metrics = Metrics()
    run("query Good { fine }", mask=True, metrics=metrics)
    run("query Bad { refused }", mask=True, metrics=metrics)
    run("{ fine }", mask=True, metrics=metrics)
    text = generate_latest(metrics.registry).decode()
    assert 'twofold_graphql_operations_total{operation="Good",outcome="ok"} 1.0' in text
    assert 'twofold_graphql_operations_total{operation="Bad",outcome="error"} 1.0' in text
    assert 'twofold_graphql_operations_total{operation="anonymous",outcome="ok"} 1.0' in text
    assert 'twofold_graphql_errors_total{code="FORBIDDEN"} 1.0' in text
    assert 'twofold_graphql_operation_duration_seconds_count{operation="Good"} 1.0' in text


def test_operation_names_cannot_grow_the_metrics_without_bound() -> None:
    metrics = Metrics()
    labels = {metrics.operation_label(f"Op{number}") for number in range(MAX_OPERATION_LABELS + 50)}
    assert len(labels) == MAX_OPERATION_LABELS + 1
    assert "other" in labels
    assert metrics.operation_label("not a name!") == "other"


def test_a_document_is_parsed_and_validated_once_however_often_it_is_asked() -> None:
    documents = Documents(max_tokens=None, maxsize=2)
    policy = Policy(documents)
    schema = TwofoldSchema(Query, extensions=[lambda: OperationPipeline(policy)])
    for _ in range(3):
        assert asyncio.run(schema.execute("{ fine }")).data == {"fine": 1}
        [error] = asyncio.run(schema.execute("{ nothing }")).errors or []
        assert "Cannot query field 'nothing'" in error.message
    info = documents.get.cache_info()
    assert (info.misses, info.hits, info.currsize) == (2, 4, 2)


def test_the_document_cache_keeps_at_most_its_size_and_never_a_document_that_fails_to_parse() -> None:
    documents = Documents(max_tokens=None, maxsize=2)
    schema = TwofoldSchema(Query, extensions=[lambda: OperationPipeline(Policy(documents))])
    for query in ("{ fine }", "{ a: fine }", "{ b: fine }", "{ fine ", "{ }"):
        asyncio.run(schema.execute(query))
    assert documents.get.cache_info().currsize == 2
    assert asyncio.run(schema.execute("{ fine ")).errors  # still refused: a failure is not cached


def test_an_empty_selection_set_and_a_document_over_the_token_limit_do_not_parse() -> None:
    schema = TwofoldSchema(Query, extensions=[lambda: OperationPipeline(Policy(Documents(max_tokens=5)))])
    [empty] = asyncio.run(schema.execute("{ }")).errors or []
    assert "A selection set must select at least one field." in empty.message
    [long] = asyncio.run(schema.execute("{ a: fine b: fine c: fine }")).errors or []
    assert "Document contains more than 5 tokens" in long.message


def test_one_request_cannot_change_the_validation_errors_the_next_one_gets() -> None:
    documents = Documents(max_tokens=None)
    schema = TwofoldSchema(Query, extensions=[lambda: OperationPipeline(Policy(documents))])
    first = asyncio.run(schema.execute("{ nothing }"))
    assert first.errors is not None
    first.errors.append(first.errors[0])
    assert len(asyncio.run(schema.execute("{ nothing }")).errors or []) == 1


def test_the_served_schema_runs_its_pipeline_with_the_pipelines_own_runner() -> None:
    schema = TwofoldSchema(Query, extensions=[lambda: OperationPipeline(Policy(Documents(max_tokens=None)))])
    [pipeline] = schema.get_extensions()
    assert isinstance(schema.create_extensions_runner(None, [pipeline]), PipelineRunner)  # type: ignore[arg-type]


def test_a_step_throws_an_error_into_its_hook_and_propagates_what_the_hook_raises() -> None:
    seen: list[str] = []

    def passes() -> Generator[None, None, None]:
        try:
            yield
        except KeyError:
            seen.append("passes")
            raise

    def converts() -> Generator[None, None, None]:
        try:
            yield
        except KeyError as error:
            raise ValueError("converted") from error

    def swallows() -> Generator[None, None, None]:
        try:
            yield
        except KeyError:
            seen.append("swallows")

    with pytest.raises(KeyError), _Step(passes):
        raise KeyError("x")
    with pytest.raises(ValueError, match="converted"), _Step(converts):
        raise KeyError("x")
    with _Step(swallows):
        raise KeyError("x")
    with _Step(passes):
        seen.append("body")
    assert seen == ["passes", "swallows", "body"]


def test_a_step_refuses_a_hook_that_yields_twice() -> None:
    def twice() -> Generator[None, None, None]:
        yield
        yield

    with pytest.raises(RuntimeError, match="yielded more than once"), _Step(twice):
        pass


@strawberry.type
class Mutation:
    @strawberry.mutation
    def create_product(self) -> int:
        return 7


@dataclass
class _Caller:
    actor: Actor
    budget: RequestBudget


ADMIN = Actor(Role.ADMIN, subject="root")
_QUERY_AND_MUTATION = {OperationType.QUERY, OperationType.MUTATION}


@pytest.mark.parametrize(
    ("query", "variables", "name", "caller", "allowed"),
    [
        ("{ fine }", None, None, ANONYMOUS, None),
        ("{ fine broken }", None, None, ANONYMOUS, None),
        ("{ refused }", None, None, ANONYMOUS, None),
        ("{ fine ", None, None, ANONYMOUS, None),
        ("{ nothing }", None, None, ANONYMOUS, None),
        ("query($n: Int!) { echo(n: $n) }", None, None, ANONYMOUS, None),
        ("query($n: Int!) { echo(n: $n) }", {"n": "x"}, None, ANONYMOUS, None),
        ("query($n: Int!) { echo(n: $n) }", {"n": 3}, None, ANONYMOUS, None),
        ("query A { fine } query B { echo(n: 2) }", None, "B", ANONYMOUS, None),
        ("query A { fine } query B { echo(n: 2) }", None, "C", ANONYMOUS, None),
        ("query A { fine } query B { echo(n: 2) }", None, None, ANONYMOUS, None),
        (None, None, None, ANONYMOUS, None),
        ("", None, None, ANONYMOUS, None),
        ("mutation { createProduct }", None, None, ANONYMOUS, None),
        ("mutation { createProduct }", None, None, ADMIN, None),
        ("mutation { createProduct }", None, None, ADMIN, {OperationType.QUERY}),
        ("{ a: fine b: fine }", None, None, "broke", None),
        ("{ fine }", None, None, None, _QUERY_AND_MUTATION),
    ],
)
def test_the_straight_line_execution_answers_as_strawberrys_does_through_the_pipelines_hooks(
    query: str | None,
    variables: dict[str, object] | None,
    name: str | None,
    caller: Actor | str | None,
    allowed: set[OperationType] | None,
) -> None:
    """`TwofoldSchema.execute` (api/pipeline.py's `run_operation`) against Strawberry's own `execute`, which
    enters the same pipeline through its extensions runner: the same results, errors, extensions, metrics."""

    def outcome(execute: Callable[..., Awaitable[ExecutionResult]]) -> tuple[object, str]:
        metrics = Metrics()
        policy = Policy(
            Documents(max_tokens=None),
            Limits((), Paging(default=10, maximum=50)),
            Observing(metrics, mask_internal_errors=True),
        )
        schema = TwofoldSchema(Query, Mutation, extensions=[lambda: OperationPipeline(policy)])
        context = (
            None
            if caller is None
            else _Caller(ANONYMOUS, RequestBudget(0))
            if caller == "broke"
            else _Caller(caller, RequestBudget(100))  # type: ignore[arg-type]
        )
        try:
            result = asyncio.run(
                execute(
                    schema,
                    query,
                    variable_values=variables,
                    context_value=context,
                    operation_name=name,
                    allowed_operation_types=allowed,
                )
            )
        except Exception as exc:  # which exception each raises is part of the comparison
            return type(exc).__name__, counts(metrics)
        answered = (result.data, [error.formatted for error in result.errors or []], result.extensions)
        return answered, counts(metrics)

    def counts(metrics: Metrics) -> list[str]:
        counted = ("twofold_graphql_operations_total", "twofold_graphql_errors_total", "_duration_seconds_count")
        lines = generate_latest(metrics.registry).decode().splitlines()
        return [line for line in lines if any(name in line.split("{")[0] for name in counted)]

    straight = outcome(TwofoldSchema.execute)
    through_hooks = outcome(strawberry.Schema.execute)
    assert straight == through_hooks
