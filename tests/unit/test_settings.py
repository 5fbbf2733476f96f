from __future__ import annotations

import pytest

from api.settings import Environment, Settings, SettingsError, sqlalchemy_url

BASE = {"DATABASE_URL": "postgresql://u@127.0.0.1:5432/db", "ELASTICSEARCH_URL": "http://127.0.0.1:9200"}


def test_defaults_and_overrides() -> None:
    settings = Settings.from_env(BASE)
    assert settings.environment is Environment.DEVELOPMENT
    assert settings.consistency_timeout_seconds == 5.0
    custom = Settings.from_env({**BASE, "TWOFOLD_ENV": "production", "TWOFOLD_MAX_PAGE_SIZE": "50"})
    assert custom.environment is Environment.PRODUCTION
    assert custom.max_page_size == 50


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ELASTICSEARCH_URL": "http://x"}, "DATABASE_URL is not set"),
        ({**BASE, "TWOFOLD_ENV": "staging"}, "TWOFOLD_ENV must be one of"),
        ({**BASE, "TWOFOLD_CONSISTENCY_TIMEOUT": "soon"}, "must be a number"),
        ({**BASE, "TWOFOLD_MAX_PAGE_SIZE": "0"}, "must be between"),
        ({**BASE, "TWOFOLD_DEFAULT_PAGE_SIZE": "60", "TWOFOLD_MAX_PAGE_SIZE": "50"}, "must not exceed"),
        ({**BASE, "TWOFOLD_INDEX_PREFIX": "Upper_"}, "lowercase"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_sqlalchemy_url_uses_psycopg() -> None:
    assert sqlalchemy_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert sqlalchemy_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
