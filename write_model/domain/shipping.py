"""Where an order goes and how it travels: the shipping address and the shipment, and their field rules."""

from __future__ import annotations

from dataclasses import dataclass

from write_model.commands import AddressRequest, ShipmentRequest
from write_model.domain._checks import check_text
from write_model.domain.countries import ISO_3166_ALPHA_2
from write_model.domain.errors import FieldErrors
from write_model.events import ShippingAddress

MAX_FIELD = 200


@dataclass(frozen=True)
class Shipment:
    carrier: str | None
    tracking_number: str | None


def check_address(errors: FieldErrors, field: str, request: AddressRequest) -> ShippingAddress:
    """The address with its fields trimmed (and the country code in capitals), with a field error for each
    bad one: a required field empty, any longer than 200 characters, a country no ISO 3166-1 alpha-2 code."""

    def required(name: str, value: str) -> str:
        return check_text(errors, f"{field}.{name}", value, required=True, maximum=MAX_FIELD)

    def optional(name: str, value: str | None) -> str | None:
        checked = (
            None if value is None else check_text(errors, f"{field}.{name}", value, required=False, maximum=MAX_FIELD)
        )
        return checked or None  # blank: none

    address = ShippingAddress(
        name=required("name", request.name),
        line1=required("line1", request.line1),
        line2=optional("line2", request.line2),
        city=required("city", request.city),
        postal_code=required("postalCode", request.postal_code),
        region=optional("region", request.region),
        country=request.country.strip().upper(),
    )
    if address.country not in ISO_3166_ALPHA_2:
        errors.add(f"{field}.country", "must be an ISO 3166-1 alpha-2 country code such as DE")
    return address


def check_shipment(errors: FieldErrors, field: str, request: ShipmentRequest) -> Shipment:
    return Shipment(
        carrier=check_text(errors, f"{field}.carrier", request.carrier, required=True, maximum=MAX_FIELD),
        tracking_number=check_text(
            errors, f"{field}.trackingNumber", request.tracking_number, required=True, maximum=MAX_FIELD
        ),
    )
