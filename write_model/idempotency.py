"""Idempotency keys: a client's promise that two requests with the same key are the same request.

The first command to use a key runs and records its result under the key in its own transaction; a retry
with the same key and the same command gets that result back and writes nothing; the same key with a
different command is refused (`ValidationFailed`, code `IDEMPOTENCY_KEY_REUSED`). Keys belong to the actor
that used them. A command refused with an error records nothing, so a retry after fixing the cause runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re

from write_model.commands import Command
from write_model.domain.errors import FieldError, ValidationFailed

KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")


def check_key(key: str) -> None:
    if not KEY_PATTERN.fullmatch(key):
        raise ValidationFailed([FieldError("idempotencyKey", "must be 1 to 255 printable ASCII characters")])


def fingerprint(command: Command) -> str:
    """A digest of the command's type and every field, equal for equal commands."""
    canonical = json.dumps(
        {"command": type(command).__name__, "fields": dataclasses.asdict(command)}, sort_keys=True, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def key_reused() -> ValidationFailed:
    return ValidationFailed(
        [FieldError("idempotencyKey", "was already used with a different input")],
        message="This idempotency key was already used for a different request.",
        code="IDEMPOTENCY_KEY_REUSED",
    )
