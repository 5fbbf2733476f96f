"""Alembic, driven from code: the migrations' head revision, and upgrading a database to it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(sqlalchemy_url: str | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    if sqlalchemy_url is not None:
        config.set_main_option("sqlalchemy.url", sqlalchemy_url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the migrations have no head revision")
    return head


def upgrade_to_head(sqlalchemy_url: str) -> None:
    command.upgrade(alembic_config(sqlalchemy_url), "head")
