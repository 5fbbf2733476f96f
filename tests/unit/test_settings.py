from __future__ import annotations

import pytest

from api.settings import DEVELOPMENT_JWT_SECRET, Environment, Settings, SettingsError, sqlalchemy_url

SECRET = "a-production-secret-of-enough-length-42"
BASE = {"DATABASE_URL": "postgresql://u@127.0.0.1:5432/db", "ELASTICSEARCH_URL": "http://127.0.0.1:9200"}


def test_defaults_and_overrides() -> None:
    settings = Settings.from_env(BASE)
    assert settings.environment is Environment.DEVELOPMENT
    assert settings.consistency_timeout_seconds == 5.0
    assert settings.jwt_secret == DEVELOPMENT_JWT_SECRET
    assert settings.introspection is True
    custom = Settings.from_env(
        {**BASE, "TWOFOLD_ENV": "production", "TWOFOLD_MAX_PAGE_SIZE": "50", "TWOFOLD_JWT_SECRET": SECRET}
    )
    assert custom.environment is Environment.PRODUCTION
    assert custom.max_page_size == 50
    assert custom.jwt_secret == SECRET
    assert custom.introspection is False


def test_development_defaults_to_the_local_services_that_make_setup_starts() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "postgresql://twofold@127.0.0.1:55432/twofold"
    assert settings.elasticsearch_url == "http://127.0.0.1:59200"
    moved = Settings.from_env({"TWOFOLD_PG_PORT": "6000", "TWOFOLD_ES_PORT": "6001", "ELASTICSEARCH_URL": " "})
    assert moved.database_url == "postgresql://twofold@127.0.0.1:6000/twofold"
    assert moved.elasticsearch_url == "http://127.0.0.1:6001"
    assert Settings.from_env(BASE).database_url == BASE["DATABASE_URL"]


def test_introspection_can_be_turned_on_in_production_and_off_in_development() -> None:
    production = {**BASE, "TWOFOLD_ENV": "production", "TWOFOLD_JWT_SECRET": SECRET}
    assert Settings.from_env({**production, "TWOFOLD_INTROSPECTION": "on"}).introspection is True
    assert Settings.from_env({**BASE, "TWOFOLD_INTROSPECTION": "off"}).introspection is False


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ELASTICSEARCH_URL": "http://x", "TWOFOLD_ENV": "production"}, "DATABASE_URL must be set in production"),
        (
            {"DATABASE_URL": "postgresql://x", "TWOFOLD_ENV": "production"},
            "ELASTICSEARCH_URL must be set in production",
        ),
        ({**BASE, "TWOFOLD_ENV": "staging"}, "TWOFOLD_ENV must be one of"),
        ({**BASE, "TWOFOLD_CONSISTENCY_TIMEOUT": "soon"}, "must be a number"),
        ({**BASE, "TWOFOLD_MAX_PAGE_SIZE": "0"}, "must be between"),
        ({**BASE, "TWOFOLD_DEFAULT_PAGE_SIZE": "60", "TWOFOLD_MAX_PAGE_SIZE": "50"}, "must not exceed"),
        ({**BASE, "TWOFOLD_INDEX_PREFIX": "Upper_"}, "lowercase"),
        ({**BASE, "TWOFOLD_ENV": "production"}, "TWOFOLD_JWT_SECRET must be set in production"),
        ({**BASE, "TWOFOLD_JWT_SECRET": "short"}, "at least 32 characters"),
        (
            {**BASE, "TWOFOLD_ENV": "production", "TWOFOLD_JWT_SECRET": DEVELOPMENT_JWT_SECRET},
            "must not be the public development secret",
        ),
        ({**BASE, "TWOFOLD_INTROSPECTION": "maybe"}, "must be on or off"),
        ({**BASE, "TWOFOLD_MAX_DEPTH": "1"}, "TWOFOLD_MAX_DEPTH must be between"),
        ({**BASE, "TWOFOLD_WS_MAX_SUBSCRIPTIONS": "0"}, "TWOFOLD_WS_MAX_SUBSCRIPTIONS must be between"),
        ({**BASE, "TWOFOLD_WS_MAX_CONNECTIONS": "many"}, "TWOFOLD_WS_MAX_CONNECTIONS must be a number"),
        ({**BASE, "TWOFOLD_WS_INIT_TIMEOUT": "0"}, "TWOFOLD_WS_INIT_TIMEOUT must be between"),
        ({**BASE, "TWOFOLD_WS_MAX_MESSAGE_BYTES": "100"}, "TWOFOLD_WS_MAX_MESSAGE_BYTES must be between"),
        ({**BASE, "TWOFOLD_WS_ALLOWED_ORIGINS": "shop.example"}, "TWOFOLD_WS_ALLOWED_ORIGINS must list origins"),
        ({**BASE, "TWOFOLD_WS_ALLOWED_ORIGINS": "https://a.example/path"}, "must list origins"),
        ({**BASE, "TWOFOLD_LIVE_POLL_INTERVAL": "0.001"}, "TWOFOLD_LIVE_POLL_INTERVAL must be between"),
        ({**BASE, "TWOFOLD_PERSISTED_QUERIES_MAX_BYTES": "-1"}, "TWOFOLD_PERSISTED_QUERIES_MAX_BYTES must be between"),
        ({**BASE, "TWOFOLD_PERSISTED_QUERIES_MAX_BYTES": "lots"}, "TWOFOLD_PERSISTED_QUERIES_MAX_BYTES must be"),
        ({**BASE, "TWOFOLD_GET_MAX_AGE": "86401"}, "TWOFOLD_GET_MAX_AGE must be between"),
        ({**BASE, "TWOFOLD_MAX_OPEN_SEARCHES": "0"}, "TWOFOLD_MAX_OPEN_SEARCHES must be between"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_websocket_origins_are_a_list_or_any() -> None:
    listed = Settings.from_env({**BASE, "TWOFOLD_WS_ALLOWED_ORIGINS": " https://Shop.example:8443, http://a.example "})
    assert listed.ws_allowed_origins == ("https://shop.example:8443", "http://a.example")
    assert Settings.from_env({**BASE, "TWOFOLD_WS_ALLOWED_ORIGINS": "*"}).ws_allowed_origins == ("*",)
    assert Settings.from_env(BASE).ws_allowed_origins == ()


def test_sqlalchemy_url_uses_psycopg() -> None:
    assert sqlalchemy_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert sqlalchemy_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
