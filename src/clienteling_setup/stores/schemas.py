from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, Field, field_validator, model_validator

from clienteling_setup.schemas import read_from
from clienteling_setup.stores.models import Store
from clienteling_setup.tenants.schemas import StrictBody
from clienteling_setup.text import Text, column_length
from clienteling_setup.validation import country_code, phone_of_country

STORE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"


class StoreWrite(StrictBody):
    name: Annotated[str, Text(column_length(Store.name))] = Field(
        min_length=1, examples=["Dodici Potsdamer Platz"]
    )
    country_code: Annotated[str, Text(column_length(Store.country_code))] = Field(
        description="ISO 3166-1 alpha-2 country code of the store.", examples=["DE"]
    )
    region: Annotated[str, Text(column_length(Store.region))] | None = Field(
        default=None, examples=["BE"]
    )
    locality: Annotated[str, Text(column_length(Store.locality))] | None = Field(
        default=None, examples=["Berlin"]
    )
    postal_code: Annotated[str, Text(column_length(Store.postal_code))] | None = Field(
        default=None, examples=["10785"]
    )
    phone: Annotated[str, Text(column_length(Store.phone))] | None = Field(
        default=None,
        description="The store's own phone line in E.164; calls to its clienteling number "
        "are forwarded to it.",
        examples=["+4930123456"],
    )
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be blank")
        return value.strip()

    @field_validator("country_code")
    @classmethod
    def _country(cls, value: str) -> str:
        return country_code(value)

    @field_validator("latitude", "longitude", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        # JSON true/false would otherwise become 1.0/0.0: a store placed off the coast of Africa.
        if isinstance(value, bool):
            raise ValueError("must be a number in degrees, not true or false")
        return value

    @model_validator(mode="after")
    def _phone_and_position(self) -> Self:
        if self.phone is not None:
            self.phone = phone_of_country(self.phone, self.country_code, "phone")
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude go together: give both or neither")
        return self


class StoreImportRow(StoreWrite):
    id: Annotated[str, Text(column_length(Store.id))] = Field(pattern=STORE_ID_PATTERN)

    def values(self) -> StoreValues:
        return (
            self.id,
            self.name,
            self.country_code,
            self.region,
            self.locality,
            self.postal_code,
            self.phone,
            self.latitude,
            self.longitude,
        )


#: A store row validated by `StoreImportRow`, as the import writes it (a tuple, not a model:
#: an import moves hundreds of thousands from its validation worker to the database):
#: id, name, country_code, region, locality, postal_code, phone, latitude, longitude.
StoreValues = tuple[
    str, str, str, str | None, str | None, str | None, str | None, float | None, float | None
]
#: The columns of `StoreValues`, in order.
STORE_VALUES = (
    "id",
    "name",
    "country_code",
    "region",
    "locality",
    "postal_code",
    "phone",
    "latitude",
    "longitude",
)


class StoreRead(BaseModel):
    id: str
    name: str
    country_code: str
    region: str | None
    locality: str | None
    postal_code: str | None
    phone: str | None
    latitude: float | None
    longitude: float | None
    created_at: datetime
    updated_at: datetime


class StorePage(BaseModel):
    items: list[StoreRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


def store_read(store: Store) -> StoreRead:
    return read_from(StoreRead, store)
