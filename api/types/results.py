"""The interface every mutation success implements."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="A write that succeeded. Pass `consistencyToken` as `consistentWith` to read it.")
class MutationSuccess:
    consistency_token: str
