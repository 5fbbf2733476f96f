"""Enums of the contract."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum
class ProductStatus(Enum):
    ACTIVE = "ACTIVE"
    DISCONTINUED = "DISCONTINUED"


@strawberry.enum
class OrderStatus(Enum):
    PLACED = "PLACED"
    PAID = "PAID"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


@strawberry.enum
class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.enum
class ProductSortField(Enum):
    RELEVANCE = "RELEVANCE"
    PRICE = "PRICE"
    NAME = "NAME"
    CREATED_AT = "CREATED_AT"


@strawberry.enum
class OrderSortField(Enum):
    PLACED_AT = "PLACED_AT"
    TOTAL = "TOTAL"


@strawberry.enum
class CustomerSortField(Enum):
    RELEVANCE = "RELEVANCE"
    NAME = "NAME"
    REGISTERED_AT = "REGISTERED_AT"
    LIFETIME_VALUE = "LIFETIME_VALUE"
    ORDER_COUNT = "ORDER_COUNT"
    LAST_ORDER_AT = "LAST_ORDER_AT"


@strawberry.enum
class Interval(Enum):
    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


@strawberry.enum
class PaymentMethod(Enum):
    CARD = "CARD"
    BANK_TRANSFER = "BANK_TRANSFER"
    WALLET = "WALLET"
    OTHER = "OTHER"
