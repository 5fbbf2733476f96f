from __future__ import annotations

from pathlib import Path

from api.schema import build_schema

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_schema_is_the_served_one() -> None:
    committed = (ROOT / "api" / "schema.graphql").read_text()
    assert committed == build_schema().as_str() + "\n", "run: make schema"
