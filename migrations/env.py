"""Alembic environment: migrates the database named by DATABASE_URL, or by the caller's configuration."""

from __future__ import annotations

import os
from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context

from api.settings import sqlalchemy_url

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    configured = config.get_main_option("sqlalchemy.url")
    if configured:
        return configured
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        raise SystemExit("DATABASE_URL is not set: `make run` starts a local PostgreSQL and sets it")
    return sqlalchemy_url(database_url)


def run_migrations_online() -> None:
    engine = sa.create_engine(_url(), poolclass=sa.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run them against a database")
run_migrations_online()
