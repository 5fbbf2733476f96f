"""The Customer aggregate: someone who places orders, known by a unique email address."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from write_model.domain._checks import UNSTORABLE, check_text, storable
from write_model.domain.aggregate import Aggregate
from write_model.domain.errors import FieldErrors
from write_model.events import CustomerRegistered, CustomerUpdated

MAX_NAME = 200
MAX_EMAIL = 254
# Deliberately plain: one @, no whitespace, a dot in the domain, no empty labels. Whether the mailbox exists
# is for a confirmation mail to find out, not for a pattern.
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


@dataclass(kw_only=True)
class Customer(Aggregate):
    name: str
    email: str
    created_at: datetime

    @classmethod
    def register(cls, *, id: UUID, name: str, email: str, now: datetime) -> Customer:
        """A new customer at version 1. The email is stored lowercased, so uniqueness is case-insensitive."""
        errors = FieldErrors()
        name = check_text(errors, "name", name, required=True, maximum=MAX_NAME)
        email = _check_email(errors, email)
        errors.raise_if_any()
        customer = cls(id=id, version=0, name=name, email=email, created_at=now)
        customer._record(CustomerRegistered(customer_id=id, name=name, email=email, registered_at=now))
        return customer

    def update(self, *, name: str | None = None, email: str | None = None) -> None:
        """Replace the given fields (`None` keeps a field as it is) under the rules of `register`; at least one
        must be given. Giving the values the customer already has changes nothing and records nothing."""
        errors = FieldErrors()
        if name is None and email is None:
            errors.add("input", "give at least one of name, email")
        new_name = self.name if name is None else check_text(errors, "name", name, required=True, maximum=MAX_NAME)
        new_email = self.email if email is None else _check_email(errors, email)
        errors.raise_if_any()
        changed = tuple(key for key, value in (("name", new_name), ("email", new_email)) if getattr(self, key) != value)
        if not changed:
            return
        self.name, self.email = new_name, new_email
        self._record(CustomerUpdated(customer_id=self.id, name=new_name, email=new_email, changed=changed))


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _check_email(errors: FieldErrors, email: str) -> str:
    """`email` normalized, with its field error added to `errors` when it is no storable email address."""
    email = normalize_email(email)
    if not storable(email):
        errors.add("email", UNSTORABLE)
    elif len(email) > MAX_EMAIL:
        errors.add("email", f"must be at most {MAX_EMAIL} characters")
    elif not EMAIL_PATTERN.fullmatch(email):
        errors.add("email", "must be an email address such as ada@example.com")
    return email
