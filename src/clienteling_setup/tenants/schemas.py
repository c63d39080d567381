from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from clienteling_setup.schemas import read_from
from clienteling_setup.tenants.models import OptInTemplate, Tenant
from clienteling_setup.text import Text
from clienteling_setup.validation import absolute_url, require_not_blank

#: The longest `ecom_link` accepted (its column is unbounded text; 2,048 is what browsers and
#: SMS links handle everywhere).
ECOM_LINK_MAX_LENGTH = 2048
#: The longest opt-in disclaimer: ten concatenated SMS segments.
OPT_IN_MAX_LENGTH = 1600

EcomLink = Annotated[str, Text(ECOM_LINK_MAX_LENGTH)]


class StrictBody(BaseModel):
    """Request bodies reject unknown fields: a typo must not pass silently."""

    model_config = ConfigDict(extra="forbid")


class ConfigurationCreate(StrictBody):
    ecom_link: EcomLink = Field(
        pattern=r".*\S.*",
        description="The link to the retailer's website. Must not be blank.",
        examples=["https://www.dodici.example"],
    )

    @field_validator("ecom_link")
    @classmethod
    def _url(cls, value: str) -> str:
        return absolute_url(require_not_blank(value, "ecom_link"), "ecom_link")


class ConfigurationUpdate(StrictBody):
    ecom_link: EcomLink | None = Field(
        default=None, description="The link to the retailer's website."
    )

    @field_validator("ecom_link")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError("ecom_link must not be null; omit it to keep the current value")
        return absolute_url(require_not_blank(value, "ecom_link"), "ecom_link")


class CallForwardingRead(BaseModel):
    sid: str | None
    name: str | None


class TwilioAccountRead(BaseModel):
    sid: str | None = Field(description="The tenant's Twilio subaccount SID.")
    messaging_service_sid: str | None
    call_forwarding: CallForwardingRead


class ConfigurationRead(BaseModel):
    tenant: str
    ecom_link: str
    created_at: datetime
    updated_at: datetime
    twilio: TwilioAccountRead


class OptInTemplateWrite(StrictBody):
    body: Annotated[str, Text(OPT_IN_MAX_LENGTH, multiline=True)] = Field(
        description="The SMS opt-in disclaimer sent to customers (at most 1,600 characters).",
        examples=["Reply YES to receive messages from Dodici. Msg&data rates may apply."],
    )

    @field_validator("body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        return require_not_blank(value, "body")


class OptInTemplateRead(BaseModel):
    id: str
    body: str
    updated_at: datetime


def configuration_read(tenant: Tenant) -> ConfigurationRead:
    forwarding = CallForwardingRead(sid=tenant.voice_app_sid, name=tenant.voice_app_name)
    twilio = read_from(
        TwilioAccountRead, tenant, sid=tenant.subaccount_sid, call_forwarding=forwarding
    )
    return read_from(ConfigurationRead, tenant, tenant=tenant.id, twilio=twilio)


def opt_in_read(template: OptInTemplate) -> OptInTemplateRead:
    return read_from(OptInTemplateRead, template)
