"""The query side's ports together, as the composition root (api/bootstrap.py) wires them."""

from __future__ import annotations

from dataclasses import dataclass

from read_model.consistency import ConsistencyWaiter
from read_model.search.customers import AbstractCustomerLookup, AbstractCustomerReports, AbstractCustomerSearch
from read_model.search.events import AbstractEventSearch
from read_model.search.history import AbstractOrderHistory
from read_model.search.orders import AbstractOrderSearch
from read_model.search.products import AbstractProductSearch
from read_model.search.records import AbstractRecordLookup
from read_model.search.sales import AbstractSalesReports
from read_model.status import AbstractProjectionStatus


@dataclass(frozen=True)
class ReadModel:
    """The query side: its searches and lookups, the read-your-writes waiter, the projections' status."""

    products: AbstractProductSearch
    orders: AbstractOrderSearch
    customers: AbstractCustomerLookup
    customer_search: AbstractCustomerSearch
    customer_reports: AbstractCustomerReports
    records: AbstractRecordLookup
    events: AbstractEventSearch
    order_history: AbstractOrderHistory
    sales: AbstractSalesReports
    consistency: ConsistencyWaiter
    projections: AbstractProjectionStatus
