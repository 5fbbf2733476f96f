"""The one place Elasticsearch's exceptions become the read model's own errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from elasticsearch import ApiError, BadRequestError, TransportError

from read_model.errors import InvalidSearchPosition, SearchUnavailable


@contextlib.contextmanager
def search_failures(what: str, *, position_given: bool = False) -> Iterator[None]:
    """Runs the block, turning what Elasticsearch raises into `SearchUnavailable` ("`what`: why"), or into
    `InvalidSearchPosition` for a request it refused as malformed when it carried a search position
    (`position_given`: a cursor's `search_after` or point in time, which the client may have forged).
    An answer the caller expects, such as a 404 of a lookup, is caught inside the block."""
    try:
        yield
    except BadRequestError as exc:
        if position_given:
            raise InvalidSearchPosition("the cursor does not fit this search") from exc
        raise SearchUnavailable(f"{what}: {exc}") from exc
    except (ApiError, TransportError) as exc:
        raise SearchUnavailable(f"{what}: {exc}") from exc
