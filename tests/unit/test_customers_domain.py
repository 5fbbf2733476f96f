from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from write_model.domain.customers import Customer
from write_model.domain.errors import ValidationFailed
from write_model.events import CustomerRegistered, CustomerUpdated

NOW = datetime(2026, 1, 2, tzinfo=UTC)


def test_a_customer_is_registered_with_a_lowercased_email() -> None:
    customer = Customer.register(id=uuid.UUID(int=1), name=" Ada ", email=" Ada@Example.COM ", now=NOW)
    assert (customer.name, customer.email, customer.version) == ("Ada", "ada@example.com", 1)
    (event,) = customer.pending_events
    assert event == CustomerRegistered(customer_id=customer.id, name="Ada", email="ada@example.com", registered_at=NOW)


@pytest.mark.parametrize(
    "email", ["", "ada", "ada@", "@example.com", "ada@example", "a da@example.com", "ada@@example.com", "a@b..c"]
)
def test_an_invalid_email_is_a_field_error(email: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Customer.register(id=uuid.uuid4(), name="Ada", email=email, now=NOW)
    assert [f.field for f in caught.value.fields] == ["email"]


def test_every_bad_field_is_reported() -> None:
    with pytest.raises(ValidationFailed) as caught:
        Customer.register(id=uuid.uuid4(), name="x" * 201, email="a" * 250 + "@x.io", now=NOW)
    assert {f.field: f.message for f in caught.value.fields} == {
        "name": "must be at most 200 characters",
        "email": "must be at most 254 characters",
    }


@pytest.mark.parametrize("text", ["Ada\x00", "Ada\ud800", "\udc00Ada", "Ada\x07", "Ada\x9b"])
def test_text_that_cannot_be_stored_is_a_field_error_naming_the_field(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Customer.register(id=uuid.uuid4(), name=text, email=text + "@example.com", now=NOW)
    assert {f.field: f.message for f in caught.value.fields} == {
        "name": "must not contain control characters or unpaired UTF-16 surrogates",
        "email": "must not contain control characters or unpaired UTF-16 surrogates",
    }


def test_tabs_newlines_and_characters_outside_the_basic_plane_are_stored_as_they_are() -> None:
    customer = Customer.register(id=uuid.uuid4(), name="Ada\tLovelace\n\U0001f600", email="ada@example.com", now=NOW)
    assert customer.name == "Ada\tLovelace\n\U0001f600"


def test_an_update_records_the_whole_profile_and_what_changed() -> None:
    customer = Customer.register(id=uuid.UUID(int=1), name="Ada", email="ada@example.com", now=NOW)
    customer.pending_events.clear()
    customer.update(name=" Ada Lovelace ", email=" ADA@example.com ")
    assert (customer.name, customer.email, customer.version) == ("Ada Lovelace", "ada@example.com", 2)
    (event,) = customer.pending_events
    assert event == CustomerUpdated(
        customer_id=customer.id, name="Ada Lovelace", email="ada@example.com", changed=("name",)
    )


def test_an_update_to_the_same_values_records_nothing() -> None:
    customer = Customer.register(id=uuid.UUID(int=1), name="Ada", email="ada@example.com", now=NOW)
    customer.update(name="Ada", email="Ada@Example.com")
    assert customer.version == 1


def test_an_update_checks_each_field_given_like_registration_does_and_needs_one() -> None:
    customer = Customer.register(id=uuid.UUID(int=1), name="Ada", email="ada@example.com", now=NOW)
    with pytest.raises(ValidationFailed) as caught:
        customer.update(name="x" * 201, email="ada@example")
    assert {f.field: f.message for f in caught.value.fields} == {
        "name": "must be at most 200 characters",
        "email": "must be an email address such as ada@example.com",
    }
    with pytest.raises(ValidationFailed) as empty:
        customer.update()
    assert [f.field for f in empty.value.fields] == ["input"]
    assert (customer.name, customer.email, customer.version) == ("Ada", "ada@example.com", 1)
