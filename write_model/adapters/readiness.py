"""Whether the write model's database is reachable and its schema is at the migrations' head."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError


def check_database(engine: sa.Engine, expected_revision: str) -> tuple[bool, str]:
    """(ready, detail). Never raises: an unreachable database is an answer, not an error."""
    try:
        with engine.connect() as connection:
            revision = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as exc:
        return False, f"unreachable or not migrated: {type(exc).__name__}"
    if revision != expected_revision:
        return False, f"schema at {revision}, expected {expected_revision}: run `twofold migrate`"
    return True, f"schema at {revision}"


def store_is_empty(engine: sa.Engine) -> bool:
    """Whether nothing was ever written: the outbox, which is never truncated, holds no event."""
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT EXISTS (SELECT FROM outbox)")).scalar() is False
