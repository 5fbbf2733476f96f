"""Settings, read once from environment variables. README.md lists every one of them."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

# Development only: production refuses to start without TWOFOLD_JWT_SECRET (see `Settings.from_env`).
DEVELOPMENT_JWT_SECRET = "twofold-development-secret-do-not-use-in-production"  # noqa: S105
MIN_SECRET_LENGTH = 32


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
    projector_fan_out_page: int = 500
    host: str = "127.0.0.1"
    port: int = 8000
    jwt_secret: str = DEVELOPMENT_JWT_SECRET
    introspection: bool = True
    max_body_bytes: int = 64 * 1024
    max_depth: int = 12
    # The depth of the standard introspection query (GraphiQL's and graphql-core's): 14.
    max_introspection_depth: int = 14
    max_aliases: int = 30
    max_tokens: int = 2000
    max_operations: int = 10
    # Fields once fragments are expanded: a few fragments that spread each other twice select billions.
    max_fields: int = 2000
    max_cost: int = 2000
    max_request_searches: int = 4
    # Points in time (searches a client may page on) one API process holds open at most.
    max_open_searches: int = 500
    # How long a client may take to send a request's headers, and each chunk of its body.
    read_timeout_seconds: float = 10.0
    # How long an order may wait for its payment before the expiry saga cancels it.
    payment_timeout_seconds: float = 30 * 60.0
    # The relay's broker: None in production when KAFKA_BOOTSTRAP_SERVERS is not set (the relay then refuses
    # to start; nothing else needs it).
    kafka_bootstrap_servers: str | None = None
    kafka_topic_prefix: str = "twofold."
    kafka_partitions: int = 3
    relay_batch_size: int = 2000
    event_source: str = "/twofold"
    # Subscriptions (docs/subscriptions.md): the limits of one WebSocket connection and of one process.
    ws_max_subscriptions: int = 10
    ws_max_connections: int = 1000
    ws_init_timeout_seconds: float = 10.0
    ws_max_message_bytes: int = 64 * 1024
    # Origins besides the API's own whose pages may open a WebSocket ("*": any); clients that send no
    # Origin (not browsers) are always let in, since they carry no cookies to abuse.
    ws_allowed_origins: tuple[str, ...] = ()
    # How often the process's one watcher reads the projections' published positions.
    live_poll_seconds: float = 0.05
    # Automatic persisted queries (docs/persisted-queries.md): the query texts one process keeps by hash.
    persisted_queries_max_bytes: int = 8 * 1024 * 1024
    # How long a shared cache may serve an anonymous query sent with GET (0: revalidate every time).
    get_max_age_seconds: int = 5

    @property
    def production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        environment = _environment(env.get("TWOFOLD_ENV", Environment.DEVELOPMENT.value))
        production = environment is Environment.PRODUCTION
        settings = cls(
            database_url=_service_url(env, "DATABASE_URL", production=production),
            elasticsearch_url=_service_url(env, "ELASTICSEARCH_URL", production=production),
            environment=environment,
            index_prefix=env.get("TWOFOLD_INDEX_PREFIX", "twofold_"),
            consistency_timeout_seconds=_number(env, "TWOFOLD_CONSISTENCY_TIMEOUT", 5.0, 0.0, 60.0),
            default_page_size=int(_number(env, "TWOFOLD_DEFAULT_PAGE_SIZE", 20, 1, 1000)),
            max_page_size=int(_number(env, "TWOFOLD_MAX_PAGE_SIZE", 100, 1, 1000)),
            projector_batch_size=int(_number(env, "TWOFOLD_PROJECTOR_BATCH_SIZE", 500, 1, 10_000)),
            projector_poll_seconds=_number(env, "TWOFOLD_PROJECTOR_POLL_INTERVAL", 1.0, 0.01, 60.0),
            projector_max_attempts=int(_number(env, "TWOFOLD_PROJECTOR_MAX_ATTEMPTS", 3, 1, 100)),
            projector_batch_bytes=int(_number(env, "TWOFOLD_PROJECTOR_BATCH_BYTES", 8 * 1024 * 1024, 1024, 2**31)),
            projector_fan_out_page=int(_number(env, "TWOFOLD_PROJECTOR_FAN_OUT_PAGE", 500, 1, 10_000)),
            host=env.get("TWOFOLD_HOST", "127.0.0.1"),
            port=int(_number(env, "TWOFOLD_PORT", 8000, 1, 65535)),
            jwt_secret=jwt_secret(env, production=production),
            introspection=_flag(env, "TWOFOLD_INTROSPECTION", default=not production),
            max_body_bytes=int(_number(env, "TWOFOLD_MAX_BODY_BYTES", 64 * 1024, 1024, 64 * 1024 * 1024)),
            max_depth=int(_number(env, "TWOFOLD_MAX_DEPTH", 12, 2, 100)),
            max_introspection_depth=int(_number(env, "TWOFOLD_MAX_INTROSPECTION_DEPTH", 14, 2, 100)),
            max_aliases=int(_number(env, "TWOFOLD_MAX_ALIASES", 30, 1, 1000)),
            max_tokens=int(_number(env, "TWOFOLD_MAX_TOKENS", 2000, 100, 100_000)),
            max_operations=int(_number(env, "TWOFOLD_MAX_OPERATIONS", 10, 1, 100)),
            max_fields=int(_number(env, "TWOFOLD_MAX_FIELDS", 2000, 100, 100_000)),
            max_cost=int(_number(env, "TWOFOLD_MAX_COST", 2000, 10, 1_000_000)),
            max_request_searches=int(_number(env, "TWOFOLD_MAX_REQUEST_SEARCHES", 4, 1, 100)),
            max_open_searches=int(_number(env, "TWOFOLD_MAX_OPEN_SEARCHES", 500, 1, 100_000)),
            read_timeout_seconds=_number(env, "TWOFOLD_READ_TIMEOUT", 10.0, 0.1, 300.0),
            payment_timeout_seconds=_duration(env, "TWOFOLD_PAYMENT_TIMEOUT", 30 * 60.0, 1.0, 7 * 24 * 3600.0),
            kafka_bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
            or (None if production else local_service_urls(env)["KAFKA_BOOTSTRAP_SERVERS"]),
            kafka_topic_prefix=_pattern(
                env,
                "TWOFOLD_KAFKA_TOPIC_PREFIX",
                "twofold.",
                TOPIC_PREFIX,
                "letters, digits, '.', '_' or '-', at most 200",
            ),
            kafka_partitions=int(_number(env, "TWOFOLD_KAFKA_PARTITIONS", 3, 1, 1000)),
            relay_batch_size=int(_number(env, "TWOFOLD_RELAY_BATCH_SIZE", 2000, 1, 10_000)),
            event_source=_pattern(
                env,
                "TWOFOLD_EVENT_SOURCE",
                "/twofold",
                EVENT_SOURCE,
                "a URI reference of 1 to 500 characters, no spaces",
            ),
            ws_max_subscriptions=int(_number(env, "TWOFOLD_WS_MAX_SUBSCRIPTIONS", 10, 1, 1000)),
            ws_max_connections=int(_number(env, "TWOFOLD_WS_MAX_CONNECTIONS", 1000, 1, 100_000)),
            ws_init_timeout_seconds=_number(env, "TWOFOLD_WS_INIT_TIMEOUT", 10.0, 0.1, 300.0),
            ws_max_message_bytes=int(_number(env, "TWOFOLD_WS_MAX_MESSAGE_BYTES", 64 * 1024, 1024, 16 * 1024 * 1024)),
            ws_allowed_origins=_origins(env, "TWOFOLD_WS_ALLOWED_ORIGINS"),
            live_poll_seconds=_number(env, "TWOFOLD_LIVE_POLL_INTERVAL", 0.05, 0.01, 10.0),
            persisted_queries_max_bytes=int(
                _number(env, "TWOFOLD_PERSISTED_QUERIES_MAX_BYTES", 8 * 1024 * 1024, 0, 1024 * 1024 * 1024)
            ),
            get_max_age_seconds=int(_number(env, "TWOFOLD_GET_MAX_AGE", 5, 0, 86_400)),
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


def jwt_secret(env: Mapping[str, str], *, production: bool) -> str:
    """TWOFOLD_JWT_SECRET; in development a fixed, public default stands in when it is not set."""
    secret = env.get("TWOFOLD_JWT_SECRET", "")
    if not secret:
        if production:
            raise SettingsError("TWOFOLD_JWT_SECRET must be set in production (32 characters or more)")
        return DEVELOPMENT_JWT_SECRET
    if len(secret) < MIN_SECRET_LENGTH:
        raise SettingsError(f"TWOFOLD_JWT_SECRET must be at least {MIN_SECRET_LENGTH} characters")
    if production and secret == DEVELOPMENT_JWT_SECRET:
        raise SettingsError("TWOFOLD_JWT_SECRET must not be the public development secret in production")
    return secret


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "on", "yes"):
        return True
    if raw in ("0", "false", "off", "no"):
        return False
    raise SettingsError(f"{name} must be on or off (1/0, true/false), not {raw!r}")


def local_service_urls(env: Mapping[str, str]) -> dict[str, str]:
    """Where `scripts/services.sh` runs the local PostgreSQL, Elasticsearch and Kafka (its TWOFOLD_PG_PORT,
    TWOFOLD_ES_PORT and TWOFOLD_KAFKA_PORT move them): what development uses when DATABASE_URL,
    ELASTICSEARCH_URL or KAFKA_BOOTSTRAP_SERVERS is not set."""
    pg_port = env.get("TWOFOLD_PG_PORT", "").strip() or "55432"
    es_port = env.get("TWOFOLD_ES_PORT", "").strip() or "59200"
    kafka_port = env.get("TWOFOLD_KAFKA_PORT", "").strip() or "59092"
    return {
        "DATABASE_URL": f"postgresql://twofold@127.0.0.1:{pg_port}/twofold",
        "ELASTICSEARCH_URL": f"http://127.0.0.1:{es_port}",
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{kafka_port}",
    }


def _service_url(env: Mapping[str, str], name: str, *, production: bool) -> str:
    value = env.get(name, "").strip()
    if value:
        return value
    if production:
        raise SettingsError(f"{name} must be set in production")
    return local_service_urls(env)[name]


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


_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
TOPIC_PREFIX = re.compile(r"[A-Za-z0-9._-]{0,200}")
EVENT_SOURCE = re.compile(r"[!-~]{1,500}")


def _pattern(env: Mapping[str, str], name: str, default: str, pattern: re.Pattern[str], what: str) -> str:
    raw = env.get(name)
    if raw is None:
        return default
    if not pattern.fullmatch(raw):
        raise SettingsError(f"{name} must be {what}, not {raw!r}")
    return raw


ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of origins (`scheme://host[:port]`, lowercase), or `*` for any."""
    raw = env.get(name, "")
    origins = tuple(part.strip().lower() for part in raw.split(",") if part.strip())
    for origin in origins:
        if origin != "*" and not ORIGIN.fullmatch(origin):
            raise SettingsError(f"{name} must list origins such as https://shop.example:8443, or *, not {origin!r}")
    return origins


def _duration(env: Mapping[str, str], name: str, default: float, minimum: float, maximum: float) -> float:
    """A duration in seconds, written as a number with an optional unit: `90`, `90s`, `30m`, `12h`, `7d`."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip().lower()
    unit = _UNITS.get(text[-1:])
    try:
        value = float(text[:-1] if unit is not None else text) * (unit or 1.0)
    except ValueError:
        raise SettingsError(f"{name} must be a duration such as 90s, 30m, 12h or 7d, not {raw!r}") from None
    if not minimum <= value <= maximum:  # NaN fails this too
        raise SettingsError(f"{name} must be between {minimum:g} seconds and {maximum / 86400:g} days, not {raw}")
    return value
