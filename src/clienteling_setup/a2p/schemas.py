"""The business profile (what Twilio and The Campaign Registry ask of a brand) and the
registration's read model. Field names and accepted values follow Twilio's "A2P 10DLC - Gather
Business Information" page; each value Twilio spells its own way is mapped in `registration`."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, Field, field_validator, model_validator

from clienteling_setup.tenants.schemas import StrictBody
from clienteling_setup.text import Text
from clienteling_setup.validation import E164_PATTERN, absolute_url, country_code

Name = Annotated[str, Text(255)]
Short = Annotated[str, Text(100)]
Message = Annotated[str, Text(1024, multiline=True)]

BusinessType = Literal[
    "Sole Proprietorship",
    "Partnership",
    "Limited Liability Corporation",
    "Co-operative",
    "Non-profit Corporation",
    "Corporation",
]
Industry = Literal[
    "AGRICULTURE", "AUTOMOTIVE", "BANKING", "CONSUMER", "EDUCATION", "ELECTRONICS", "ENERGY",
    "ENGINEERING", "FAST_MOVING_CONSUMER_GOODS", "FINANCIAL", "FINTECH", "FOOD_AND_BEVERAGE",
    "GOVERNMENT", "HEALTHCARE", "HOSPITALITY", "INSURANCE", "JEWELRY", "LEGAL", "MANUFACTURING",
    "MEDIA", "NOT_FOR_PROFIT", "OIL_AND_GAS", "ONLINE", "RAW_MATERIALS", "REAL_ESTATE",
    "RELIGION", "RETAIL", "TECHNOLOGY", "TELECOMMUNICATIONS", "TRANSPORTATION", "TRAVEL",
]  # fmt: skip
RegistrationType = Literal["EIN", "CBN", "CN", "ACN", "CIN", "VAT", "VATRN", "RN", "Other"]
Region = Literal["AFRICA", "ASIA", "EUROPE", "LATIN_AMERICA", "USA_AND_CANADA"]
JobPosition = Literal["Director", "GM", "VP", "CEO", "CFO", "General Counsel", "Other"]
CompanyType = Literal["public", "private", "non_profit"]
StockExchange = Literal[
    "NONE", "NASDAQ", "NYSE", "AMEX", "AMX", "ASX", "B3", "BME", "BSE", "FRA", "ICEX", "JPX",
    "JSE", "KRX", "LON", "NSE", "OMX", "SEHK", "SSE", "STO", "SWX", "SZSE", "TSX", "TWSE", "VSE",
    "OTHER",
]  # fmt: skip
_EIN = re.compile(r"^\d{2}-?\d{7}$")


class BusinessAddress(StrictBody):
    street: Name = Field(min_length=1, description="Street and number.")
    street_secondary: Name | None = Field(default=None, description="Suite, floor, unit.")
    city: Short = Field(min_length=1)
    region: Short = Field(min_length=1, description="State or province, e.g. 'NY'.")
    postal_code: Annotated[str, Text(20)] = Field(min_length=1)
    country: Annotated[str, Text(2)] = Field(description="ISO 3166-1 alpha-2, e.g. 'US'.")

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        return country_code(value)


class AuthorizedRepresentative(StrictBody):
    """Who TCR may contact about the brand. Their email and phone are stored encrypted."""

    first_name: Short = Field(min_length=1)
    last_name: Short = Field(min_length=1)
    title: Short = Field(min_length=1, description="Business title, e.g. 'Head of Retail'.")
    job_position: JobPosition = Field(description="Twilio's job position of the title.")
    email: Annotated[str, Text(255)] = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: Annotated[str, Text(16)] = Field(pattern=E164_PATTERN, examples=["+12025550143"])


class CampaignSettings(StrictBody):
    """Overrides of the campaign each Messaging Service registers (defaults in brackets)."""

    use_case: Annotated[str, Text(64)] | None = Field(
        default=None,
        description="A code of Twilio's Usecases operation [CUSTOMER_CARE, else MIXED].",
    )
    description: Message | None = Field(
        default=None, min_length=40, description="What the messages are for [from the name]."
    )
    message_samples: list[Message] | None = Field(
        default=None,
        min_length=2,
        max_length=5,
        description="Two to five sample messages [from the legal name and the website].",
    )


class BusinessProfileWrite(StrictBody):
    legal_name: Name = Field(min_length=1, description="The business's legal name, as registered.")
    business_type: BusinessType
    industry: Industry
    registration_number: Annotated[str, Text(64)] = Field(
        min_length=1, description="The tax or company number (EIN in the US). Stored encrypted."
    )
    registration_type: RegistrationType = Field(default="EIN")
    website: Annotated[str, Text(2048)] | None = Field(
        default=None, description="The business's website. Default: the configuration's ecom_link."
    )
    regions_of_operation: list[Region] = Field(min_length=1)
    address: BusinessAddress
    authorized_representative: AuthorizedRepresentative
    company_type: CompanyType
    stock_exchange: StockExchange | None = Field(default=None, description="When public.")
    stock_ticker: Annotated[str, Text(10)] | None = Field(default=None, description="When public.")
    low_volume: bool = Field(
        default=False,
        description="Register a Low-Volume Standard brand (under 6,000 segments a day; no "
        "secondary vetting, a lower fee).",
    )
    campaign: CampaignSettings | None = None

    @field_validator("website")
    @classmethod
    def _website(cls, value: str | None) -> str | None:
        return None if value is None else absolute_url(value, "website")

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.registration_type == "EIN" and not _EIN.match(self.registration_number):
            raise ValueError(
                "registration_number: an EIN has nine digits ('12-3456789'); for another "
                "kind of number set registration_type"
            )
        if self.company_type == "public":
            missing = [n for n in ("stock_exchange", "stock_ticker") if not getattr(self, n)]
            if missing:
                raise ValueError(f"{' and '.join(missing)}: required when company_type is 'public'")
        return self

    def split(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(what is stored in clear, what is stored encrypted)."""
        data = self.model_dump(mode="json")
        sensitive = {
            "registration_number": data.pop("registration_number"),
            "authorized_representative": data.pop("authorized_representative"),
        }
        return data, sensitive


class BusinessProfileRead(BusinessProfileWrite):
    website: str | None = Field(default=None, description="As given, or the ecom_link.")
    version: int = Field(description="Grows with each change; the registration notes it.")
    updated_at: datetime


class StageRead(BaseModel):
    stage: Literal["customer_profile", "trust_product", "brand"]
    sid: str | None = Field(description="Twilio's SID once created.")
    twilio_status: str | None = Field(description="Twilio's own status, as last read.")
    failure_reason: str | None = Field(
        description="Why Twilio rejected it or found it noncompliant (its evaluation results, "
        "brand failure reason), when it did."
    )


class CampaignRead(BaseModel):
    messaging_service_sid: str
    sender_group_id: str | None = Field(description="None: the tenant's own Messaging Service.")
    sid: str | None
    twilio_status: str | None = Field(description="IN_PROGRESS, VERIFIED, FAILED, ...")
    use_case: str | None
    errors: list[str] = Field(description="The campaign's errors: 'CODE (FIELDS): description'.")


class A2PRegistrationRead(BaseModel):
    status: Literal[
        "not_started", "in_progress", "awaiting_review", "action_required", "registered"
    ] = Field(
        description="`registered`: every Messaging Service has a VERIFIED campaign; "
        "`awaiting_review`: Twilio or TCR is reviewing; `action_required`: something was "
        "rejected (see `action` and the stages' `failure_reason`)."
    )
    action: (
        Literal[
            "submit_business_profile",
            "await_brand_review",
            "fix_rejected_brand",
            "await_campaign_review",
            "fix_rejected_campaign",
        ]
        | None
    ) = Field(description="What to do next, in the README's vocabulary (docs/actions.md).")
    profile_version: int = Field(description="The business profile version Twilio last got.")
    low_volume: bool
    stages: list[StageRead]
    campaigns: list[CampaignRead]
    last_error: str | None
