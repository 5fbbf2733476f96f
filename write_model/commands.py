"""Commands: what a caller asks the write model to do. Plain data, named in the imperative."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Command:
    """Base of all commands."""


@dataclass(frozen=True, kw_only=True)
class CreateProduct(Command):
    """Add a product to the catalog. `price` is decimal text as the client sent it, validated by the domain."""

    sku: str
    name: str
    brand: str
    category: str
    price: str
    description: str = ""
    tags: tuple[str, ...] = ()
    initial_stock: int = 0
