"""Settings, read once from environment variables. README.md lists every one of them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it and says what it should be."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    database_url: str
    elasticsearch_url: str
    environment: Environment = Environment.DEVELOPMENT
    index_prefix: str = "twofold_"
    consistency_timeout_seconds: float = 5.0
    default_page_size: int = 20
    max_page_size: int = 100
    projector_batch_size: int = 500
    projector_poll_seconds: float = 1.0
    projector_max_attempts: int = 3
    projector_batch_bytes: int = 8 * 1024 * 1024
    host: str = "127.0.0.1"
    port: int = 8000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        settings = cls(
            database_url=_required(env, "DATABASE_URL"),
            elasticsearch_url=_required(env, "ELASTICSEARCH_URL"),
            environment=_environment(env.get("TWOFOLD_ENV", Environment.DEVELOPMENT.value)),
            index_prefix=env.get("TWOFOLD_INDEX_PREFIX", "twofold_"),
            consistency_timeout_seconds=_number(env, "TWOFOLD_CONSISTENCY_TIMEOUT", 5.0, 0.0, 60.0),
            default_page_size=int(_number(env, "TWOFOLD_DEFAULT_PAGE_SIZE", 20, 1, 1000)),
            max_page_size=int(_number(env, "TWOFOLD_MAX_PAGE_SIZE", 100, 1, 1000)),
            projector_batch_size=int(_number(env, "TWOFOLD_PROJECTOR_BATCH_SIZE", 500, 1, 10_000)),
            projector_poll_seconds=_number(env, "TWOFOLD_PROJECTOR_POLL_INTERVAL", 1.0, 0.01, 60.0),
            projector_max_attempts=int(_number(env, "TWOFOLD_PROJECTOR_MAX_ATTEMPTS", 3, 1, 100)),
            projector_batch_bytes=int(_number(env, "TWOFOLD_PROJECTOR_BATCH_BYTES", 8 * 1024 * 1024, 1024, 2**31)),
            host=env.get("TWOFOLD_HOST", "127.0.0.1"),
            port=int(_number(env, "TWOFOLD_PORT", 8000, 1, 65535)),
        )
        if settings.default_page_size > settings.max_page_size:
            raise SettingsError("TWOFOLD_DEFAULT_PAGE_SIZE must not exceed TWOFOLD_MAX_PAGE_SIZE")
        if not settings.index_prefix or settings.index_prefix != settings.index_prefix.lower():
            raise SettingsError("TWOFOLD_INDEX_PREFIX must be non-empty and lowercase")
        return settings

    @property
    def sqlalchemy_url(self) -> str:
        return sqlalchemy_url(self.database_url)


def sqlalchemy_url(database_url: str) -> str:
    """The SQLAlchemy URL for a libpq-style DATABASE_URL, using the psycopg 3 driver."""
    for scheme in ("postgresql://", "postgres://"):
        if database_url.startswith(scheme):
            return "postgresql+psycopg://" + database_url[len(scheme) :]
    return database_url


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is not set: `make run` starts local services and sets it (see README)")
    return value


def _environment(value: str) -> Environment:
    try:
        return Environment(value)
    except ValueError:
        choices = ", ".join(e.value for e in Environment)
        raise SettingsError(f"TWOFOLD_ENV must be one of {choices}, not {value!r}") from None


def _number(env: Mapping[str, str], name: str, default: float, minimum: float, maximum: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if not minimum <= value <= maximum:
        raise SettingsError(f"{name} must be between {minimum:g} and {maximum:g}, not {raw}")
    return value
