"""The `twofold` command line: help everywhere, development tokens, and demo data through the command bus."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import jwt
import pytest
import sqlalchemy as sa
from elasticsearch import Elasticsearch

from api.auth import Role, actor_from_token
from api.ids import to_global_id
from api.settings import Settings
from read_model.indexes import CUSTOMERS, IndexNames
from tests._launcher import launcher
from tests.conftest import cli_env, own_database

SECRET = "cli-test-secret-0123456789abcdef-xyz"
COMMANDS = [
    [],
    ["serve"],
    ["project"],
    ["saga"],
    ["relay"],
    ["export-event-schemas"],
    ["rebuild"],
    ["status"],
    ["dead-letters"],
    ["dead-letters", "list"],
    ["dead-letters", "retry"],
    ["dead-letters", "skip"],
    ["migrate"],
    ["token"],
    ["seed"],
    ["export-schema"],
]


def twofold(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`twofold ARGS` run to its end, forked from the session's warm launcher."""
    return launcher().run(list(args), env or dict(os.environ))


def twofold_interpreter(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m api.cli ARGS` in a new interpreter, as a shell runs it."""
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, timeout=300, check=False
    )


# A database of each test's own: the seed's counts are over everything in it.
database_url = own_database()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command) or "twofold")
def test_every_command_answers_help(command: list[str]) -> None:
    shown = twofold_interpreter(*command, "--help")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("usage: twofold")


def test_token_mints_admin_and_customer_tokens_the_api_accepts(settings: Settings) -> None:
    env = cli_env(settings, TWOFOLD_JWT_SECRET=SECRET)
    admin = twofold("token", "--role", "admin", env=env)
    assert admin.returncode == 0, admin.stderr
    assert actor_from_token(admin.stdout.strip(), SECRET, now=_issued_at(admin.stdout)).role is Role.ADMIN

    customer_id = uuid.uuid4()
    for given in (str(customer_id), to_global_id("Customer", customer_id)):
        minted = twofold("token", "--customer", given, env=env)
        assert minted.returncode == 0, minted.stderr
        assert actor_from_token(minted.stdout.strip(), SECRET, now=_issued_at(minted.stdout)).customer_id == customer_id

    refused = twofold("token", "--customer", "nobody", env=env)
    assert (refused.returncode, refused.stdout) == (2, "")
    assert "not a customer id" in refused.stderr
    production = twofold("token", "--role", "admin", env={**env, "TWOFOLD_ENV": "production", "TWOFOLD_JWT_SECRET": ""})
    assert production.returncode == 2
    assert "TWOFOLD_JWT_SECRET must be set in production" in production.stderr


def _issued_at(token: str) -> datetime:
    """When the CLI says it issued `token`, checked to be valid for the default 12 hours from then."""
    claims = jwt.decode(token.strip(), options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 12 * 3600
    return datetime.fromtimestamp(claims["iat"], UTC)


def counts(settings: Settings) -> dict[str, int]:
    engine = sa.create_engine(settings.sqlalchemy_url)
    try:
        with engine.connect() as connection:
            return {
                table: connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
                for table in ("products", "customers", "orders")
            }
    finally:
        engine.dispose()


def test_seed_writes_demo_data_through_the_commands_and_only_into_an_empty_store_when_asked(
    settings: Settings,
) -> None:
    env = cli_env(settings)
    seeded = twofold(
        "seed", "--if-empty", "--products", "12", "--customers", "4", "--orders", "10", "--seed", "7", env=env
    )
    assert seeded.returncode == 0, seeded.stderr
    for label, total in (("products", 12), ("customers", 4), ("orders", 10)):
        assert re.search(rf"^{label} +\[#+\] {total}/{total} {label}", seeded.stderr, re.MULTILINE), seeded.stderr
    written = counts(settings)
    assert (written["products"], written["customers"]) == (12, 4)
    assert 0 < written["orders"] <= 10
    assert f"{written['orders']} orders" in seeded.stdout

    again = twofold("seed", "--if-empty", "--products", "5", env=env)
    assert again.returncode == 0, again.stderr
    assert "nothing seeded" in again.stdout
    assert counts(settings) == written

    more = twofold("seed", "--products", "3", "--customers", "1", "--orders", "0", env=env)
    assert more.returncode == 0, more.stderr
    assert counts(settings) == {**written, "products": 15, "customers": 5}

    engine = sa.create_engine(settings.sqlalchemy_url)
    try:
        with engine.connect() as connection:
            actors = connection.execute(sa.text("SELECT DISTINCT metadata->>'actor' FROM outbox")).scalars().all()
            statuses = connection.execute(sa.text("SELECT DISTINCT status FROM orders")).scalars().all()
    finally:
        engine.dispose()
    assert actors == ["seed"]
    assert len(statuses) > 1  # orders are moved along their lifecycle, not all left as placed


def test_seed_refuses_bad_quantities(settings: Settings) -> None:
    refused = twofold("seed", "--products", "-1", env=cli_env(settings))
    assert refused.returncode == 2
    assert "must be between 0 and 10000000" in refused.stderr


def test_project_over_an_index_of_an_older_version_names_the_rebuild_to_run(
    settings: Settings, es: Elasticsearch
) -> None:
    names = IndexNames(settings.index_prefix)
    older = f"{names.alias(CUSTOMERS)}_v{CUSTOMERS.version - 1}"
    es.indices.create(index=older, aliases={names.alias(CUSTOMERS): {}})
    refused = twofold("project", env=cli_env(settings))
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        f"twofold project: {names.alias(CUSTOMERS)} points at {older}, but this version of Twofold defines"
        f" {names.versioned(CUSTOMERS)}: run `twofold rebuild customers` with this version"
    )
