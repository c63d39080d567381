"""Records to Twilio's JSON, field for field as the OpenAPI response schemas name them.

Each renderer is made by `resource` from the names of the response's fields, in Twilio's order.
A field is the record's attribute of that name unless it is given as a constant or as a function
of the record. The 2010 API writes dates as RFC 2822 and relative `uri`s; the v1/v2 APIs write
ISO 8601 dates and absolute `url`s on Twilio's own hosts, as Twilio does (a client pointed at the
emulator sends those hosts to it, see README.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime
from typing import Any, TypeVar

from . import models
from .numbers import AvailableNumber
from .regulations import requirements

API = "/2010-04-01"
MESSAGING = "https://messaging.twilio.com"
NUMBERS = "https://numbers.twilio.com/v2/RegulatoryCompliance"
TRUSTHUB = "https://trusthub.twilio.com/v1"

R = TypeVar("R")
_ATTRIBUTE = object()


def rfc2822(value: datetime) -> str:
    return format_datetime(value)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def resource(
    record_type: type[R],
    fields: str,
    *,
    dates: Callable[[datetime], str | None] = iso,
    **values: Any,
) -> Callable[[R], dict[str, Any]]:
    """A renderer of `record_type` records into Twilio's JSON object with the keys of `fields`
    (space-separated, in order). A key in `values` is that constant or, if callable, its result
    for the record; any other key is the record's attribute of that name, datetimes written with
    `dates`. Names that are neither raise at import time."""
    names = fields.split()
    unknown = [n for n in values if n not in names]
    unknown += [n for n in names if n not in values and not _has(record_type, n)]
    if unknown:
        raise ValueError(f"{record_type.__name__} renderer: unknown fields {unknown}")
    plan = [(name, values.get(name, _ATTRIBUTE)) for name in names]

    def render(record: R) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in plan:
            if value is _ATTRIBUTE:
                value = getattr(record, name)
                if isinstance(value, datetime):
                    value = dates(value)
            elif callable(value):
                value = value(record)
            out[name] = value
        return out

    return render


def _has(record_type: type, name: str) -> bool:
    return name in getattr(record_type, "__dataclass_fields__", {}) or hasattr(record_type, name)


# ---------------------------------------------------------------------- 2010 API
#: Settings of 2010 applications and numbers that the emulator keeps at Twilio's defaults.
_DEFAULT_2010 = {
    "api_version": "2010-04-01",
    "sms_fallback_method": "POST",
    "sms_fallback_url": None,
    "voice_caller_id_lookup": False,
    "voice_fallback_method": "POST",
    "voice_fallback_url": None,
}
_ACCOUNT_LISTS = {
    "addresses": "Addresses",
    "applications": "Applications",
    "available_phone_numbers": "AvailablePhoneNumbers",
    "incoming_phone_numbers": "IncomingPhoneNumbers",
    "messages": "Messages",
    "calls": "Calls",
}


def _uri(collection: str) -> Callable[[Any], str]:
    """The 2010 `uri` of a record of an account's `collection`."""
    return lambda r: f"{API}/Accounts/{r.account_sid}/{collection}/{r.sid}.json"


account = resource(
    models.Account,
    "auth_token date_created date_updated friendly_name owner_account_sid sid status"
    " subresource_uris type uri",
    dates=rfc2822,
    subresource_uris=lambda a: {
        name: f"{API}/Accounts/{a.sid}/{segment}.json" for name, segment in _ACCOUNT_LISTS.items()
    },
    uri=lambda a: f"{API}/Accounts/{a.sid}.json",
)

address = resource(
    models.Address,
    "account_sid city customer_name date_created date_updated friendly_name iso_country"
    " postal_code region sid street street_secondary uri emergency_enabled validated verified",
    dates=rfc2822,
    uri=_uri("Addresses"),
)

application = resource(
    models.Application,
    "account_sid api_version date_created date_updated friendly_name message_status_callback sid"
    " sms_fallback_method sms_fallback_url sms_method sms_status_callback sms_url status_callback"
    " status_callback_method uri voice_caller_id_lookup voice_fallback_method voice_fallback_url"
    " voice_method voice_url public_application_connect_enabled",
    dates=rfc2822,
    message_status_callback=None,
    sms_status_callback=None,
    uri=_uri("Applications"),
    public_application_connect_enabled=False,
    **_DEFAULT_2010,
)

incoming_number = resource(
    models.IncomingNumber,
    "account_sid address_sid address_requirements api_version beta capabilities date_created"
    " date_updated friendly_name identity_sid phone_number origin sid sms_application_sid"
    " sms_fallback_method sms_fallback_url sms_method sms_url status_callback"
    " status_callback_method trunk_sid uri voice_receive_mode voice_application_sid"
    " voice_caller_id_lookup voice_fallback_method voice_fallback_url voice_method voice_url"
    " emergency_status emergency_address_sid emergency_address_status bundle_sid status type",
    dates=rfc2822,
    beta=False,
    capabilities=lambda n: {"voice": True, "sms": n.sms, "mms": n.mms, "fax": False},
    identity_sid=None,
    origin="twilio",
    sms_application_sid=None,
    status_callback_method="POST",
    trunk_sid=None,
    uri=_uri("IncomingPhoneNumbers"),
    voice_receive_mode="voice",
    emergency_status="Inactive",
    emergency_address_sid=None,
    emergency_address_status="unregistered",
    status="in-use",
    type=lambda n: n.number_type,
    **_DEFAULT_2010,
)


def _nanp_place(number: AvailableNumber) -> bool:
    return number.iso_country in ("US", "CA") and number.place is not None


def _place(attribute: str) -> Callable[[AvailableNumber], Any]:
    return lambda n: getattr(n.place, attribute) if n.place else None


available_number = resource(
    AvailableNumber,
    "friendly_name phone_number lata locality rate_center latitude longitude region postal_code"
    " iso_country address_requirements beta capabilities",
    lata=lambda n: "132" if _nanp_place(n) else None,
    locality=_place("locality"),
    rate_center=lambda n: (
        n.place.locality.upper().replace(" ", "")[:10] if _nanp_place(n) and n.place else None
    ),
    latitude=_place("latitude"),
    longitude=_place("longitude"),
    region=_place("region"),
    postal_code=_place("postal_code"),
    beta=False,
    capabilities=lambda n: {"voice": n.voice, "sms": n.sms, "mms": n.mms, "fax": False},
)

# ---------------------------------------------------------------------- messaging v1/v2
_SERVICE_LINKS = {
    "phone_numbers": "PhoneNumbers",
    "short_codes": "ShortCodes",
    "alpha_senders": "AlphaSenders",
    "messages": "Messages",
    "us_app_to_person": "Compliance/Usa2p",
    "us_app_to_person_usecases": "Compliance/Usa2p/Usecases",
    "channel_senders": "ChannelSenders",
}


def _service_url(svc: models.MessagingService) -> str:
    return f"{MESSAGING}/v1/Services/{svc.sid}"


service = resource(
    models.MessagingService,
    "sid account_sid friendly_name date_created date_updated inbound_request_url inbound_method"
    " fallback_url fallback_method status_callback sticky_sender mms_converter smart_encoding"
    " scan_message_content fallback_to_long_code area_code_geomatch synchronous_validation"
    " validity_period url links usecase us_app_to_person_registered use_inbound_webhook_on_number",
    inbound_method="POST",
    fallback_url=None,
    fallback_method="POST",
    sticky_sender=True,
    mms_converter=True,
    smart_encoding=True,
    scan_message_content="inherit",
    fallback_to_long_code=True,
    area_code_geomatch=True,
    synchronous_validation=False,
    validity_period=14400,
    url=_service_url,
    links=lambda s: {k: f"{_service_url(s)}/{v}" for k, v in _SERVICE_LINKS.items()},
    use_inbound_webhook_on_number=False,
)

service_number = resource(
    models.ServiceNumber,
    "sid account_sid service_sid date_created date_updated phone_number country_code capabilities"
    " url",
    url=lambda n: f"{MESSAGING}/v1/Services/{n.service_sid}/PhoneNumbers/{n.sid}",
)

sender = resource(
    models.Sender,
    "sid status sender_id configuration webhook profile properties offline_reasons compliance url",
    properties=lambda s: {"quality_rating": s.quality_rating, "messaging_limit": s.messaging_limit},
    compliance=None,
    url=lambda s: f"{MESSAGING}/v2/Channels/Senders/{s.sid}",
)

# ---------------------------------------------------------------------- numbers v2, trusthub v1
#: The fields regulatory bundles (numbers v2) and trust products (trusthub v1) share.
_BUNDLE = "friendly_name status valid_until email status_callback date_created date_updated url"
_DOCUMENT = "sid account_sid friendly_name mime_type status"


def _links(base: Callable[[models.Bundle], str], **paths: str) -> Callable[[models.Bundle], Any]:
    return lambda b: {name: f"{base(b)}/{path}" for name, path in paths.items()}


def _bundle_url(b: models.Bundle) -> str:
    return f"{NUMBERS}/Bundles/{b.sid}"


def _trust_product_url(tp: models.Bundle) -> str:
    return f"{TRUSTHUB}/TrustProducts/{tp.sid}"


bundle = resource(
    models.Bundle,
    f"sid account_sid regulation_sid {_BUNDLE} links",
    url=_bundle_url,
    links=_links(
        _bundle_url,
        evaluations="Evaluations",
        item_assignments="ItemAssignments",
        bundle_copies="Copies",
    ),
)

trust_product = resource(
    models.Bundle,
    f"sid account_sid policy_sid {_BUNDLE} links errors",
    policy_sid=lambda tp: tp.regulation_sid,
    url=_trust_product_url,
    links=_links(
        _trust_product_url,
        trust_products_entity_assignments="EntityAssignments",
        trust_products_evaluations="Evaluations",
        trust_products_channel_endpoint_assignment="ChannelEndpointAssignments",
    ),
    errors=lambda tp: tp.errors or None,
)

item_assignment = resource(
    models.ItemAssignment,
    "sid bundle_sid account_sid object_sid date_created url",
    bundle_sid=lambda i: i.parent_sid,
    url=lambda i: f"{NUMBERS}/Bundles/{i.parent_sid}/ItemAssignments/{i.sid}",
)

entity_assignment = resource(
    models.ItemAssignment,
    "sid trust_product_sid account_sid object_sid date_created url",
    trust_product_sid=lambda i: i.parent_sid,
    url=lambda i: f"{TRUSTHUB}/TrustProducts/{i.parent_sid}/EntityAssignments/{i.sid}",
)

evaluation = resource(
    models.Evaluation,
    "sid account_sid regulation_sid bundle_sid status results date_created url",
    url=lambda e: f"{NUMBERS}/Bundles/{e.bundle_sid}/Evaluations/{e.sid}",
)

regulatory_document = resource(
    models.SupportingDocument,
    f"{_DOCUMENT} failure_reason errors type attributes date_created date_updated url",
    errors=lambda d: [{"code": 22217, "message": d.failure_reason}] if d.failure_reason else None,
    url=lambda d: f"{NUMBERS}/SupportingDocuments/{d.sid}",
)

trust_document = resource(
    models.SupportingDocument,
    f"{_DOCUMENT} type attributes date_created date_updated url",
    url=lambda d: f"{TRUSTHUB}/SupportingDocuments/{d.sid}",
)

regulation = resource(
    models.Regulation,
    "sid friendly_name iso_country number_type end_user_type requirements url",
    requirements=requirements,
    url=lambda r: f"{NUMBERS}/Regulations/{r.sid}",
)


# ---------------------------------------------------------------------- A2P 10DLC (trusthub v1)
def _customer_profile_url(cp: models.Bundle) -> str:
    return f"{TRUSTHUB}/CustomerProfiles/{cp.sid}"


customer_profile = resource(
    models.Bundle,
    f"sid account_sid policy_sid {_BUNDLE} links errors",
    policy_sid=lambda cp: cp.regulation_sid,
    url=_customer_profile_url,
    links=_links(
        _customer_profile_url,
        customer_profiles_entity_assignments="EntityAssignments",
        customer_profiles_evaluations="Evaluations",
        customer_profiles_channel_endpoint_assignment="ChannelEndpointAssignments",
    ),
    errors=lambda cp: cp.errors or None,
)

customer_profile_assignment = resource(
    models.ItemAssignment,
    "sid customer_profile_sid account_sid object_sid date_created url",
    customer_profile_sid=lambda i: i.parent_sid,
    url=lambda i: f"{TRUSTHUB}/CustomerProfiles/{i.parent_sid}/EntityAssignments/{i.sid}",
)

customer_profile_evaluation = resource(
    models.Evaluation,
    "sid account_sid policy_sid customer_profile_sid status results date_created url",
    policy_sid=lambda e: e.regulation_sid,
    customer_profile_sid=lambda e: e.bundle_sid,
    url=lambda e: f"{TRUSTHUB}/CustomerProfiles/{e.bundle_sid}/Evaluations/{e.sid}",
)

trust_product_evaluation = resource(
    models.Evaluation,
    "sid account_sid policy_sid trust_product_sid status results date_created url",
    policy_sid=lambda e: e.regulation_sid,
    trust_product_sid=lambda e: e.bundle_sid,
    url=lambda e: f"{TRUSTHUB}/TrustProducts/{e.bundle_sid}/Evaluations/{e.sid}",
)

end_user = resource(
    models.EndUser,
    "sid account_sid friendly_name type attributes date_created date_updated url",
    url=lambda u: f"{TRUSTHUB}/EndUsers/{u.sid}",
)


def policy(sid: str, friendly_name: str, requirements: dict[str, Any]) -> dict[str, Any]:
    return {
        "sid": sid,
        "friendly_name": friendly_name,
        "requirements": requirements,
        "url": f"{TRUSTHUB}/Policies/{sid}",
    }


# ---------------------------------------------------------------------- A2P 10DLC (messaging v1)
def _brand_url(b: models.BrandRegistration) -> str:
    return f"{MESSAGING}/v1/a2p/BrandRegistrations/{b.sid}"


brand_registration = resource(
    models.BrandRegistration,
    "sid account_sid customer_profile_bundle_sid a2p_profile_bundle_sid date_created date_updated"
    " brand_type status tcr_id failure_reason errors url brand_score brand_feedback"
    " identity_status russell_3000 government_entity tax_exempt_status skip_automatic_sec_vet"
    " mock links",
    errors=lambda b: [{"code": 30794, "message": b.failure_reason}] if b.failure_reason else [],
    url=_brand_url,
    brand_feedback=lambda b: ["TAX_ID"] if b.status == "FAILED" else None,
    russell_3000=False,
    government_entity=False,
    tax_exempt_status=None,
    links=lambda b: {
        "brand_vettings": f"{_brand_url(b)}/Vettings",
        "brand_registration_otps": f"{_brand_url(b)}/SmsOtp",
    },
)

brand_vetting = resource(
    models.BrandVetting,
    "account_sid brand_sid brand_vetting_sid date_updated date_created vetting_id vetting_class"
    " vetting_status vetting_provider url",
    brand_vetting_sid=lambda v: v.sid,
    url=lambda v: f"{MESSAGING}/v1/a2p/BrandRegistrations/{v.brand_sid}/Vettings/{v.sid}",
)

campaign = resource(
    models.Campaign,
    "sid account_sid brand_registration_sid messaging_service_sid description message_samples"
    " us_app_to_person_usecase has_embedded_links has_embedded_phone subscriber_opt_in age_gated"
    " direct_lending campaign_status campaign_id is_externally_registered rate_limits"
    " message_flow opt_in_message opt_out_message help_message opt_in_keywords opt_out_keywords"
    " help_keywords date_created date_updated url mock errors",
    us_app_to_person_usecase=lambda c: c.usecase,
    is_externally_registered=False,
    rate_limits=lambda c: (
        {"att": {"mps": 75, "msg_class": "T"}, "tmobile": {"brand_tier": "LOW"}}
        if c.campaign_status == "VERIFIED"
        else None
    ),
    url=lambda c: f"{MESSAGING}/v1/Services/{c.messaging_service_sid}/Compliance/Usa2p/{c.sid}",
    mock=False,
)
