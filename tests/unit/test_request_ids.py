from __future__ import annotations

import random
import uuid

from api.observation import request_id


def test_a_sane_client_request_id_is_kept_and_any_other_replaced() -> None:
    assert request_id("checkout-42.retry:1") == "checkout-42.retry:1"
    for refused in (None, "", "has space", "x" * 129, "naïve"):
        assert request_id(refused) != refused


def test_a_fresh_request_id_is_the_random_uuid4_of_the_same_bits() -> None:
    random.seed(7)
    made = [request_id(None) for _ in range(200)]
    random.seed(7)
    expected = [str(uuid.UUID(int=random.getrandbits(128), version=4)) for _ in range(200)]
    assert made == expected
    assert all(uuid.UUID(made_id).version == 4 for made_id in made)
    assert len(set(made)) == 200
