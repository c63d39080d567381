"""Records to Twilio's JSON, field for field as the OpenAPI response schemas name them.

The 2010 API writes dates as RFC 2822 and relative `uri`s; the v1/v2 APIs write ISO 8601 dates
and absolute `url`s on Twilio's own hosts (the gateway rewrites those hosts to the emulator).
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from typing import Any

from .compliance import requirements
from .models import (
    Account,
    Address,
    Application,
    Bundle,
    Evaluation,
    IncomingNumber,
    ItemAssignment,
    MessagingService,
    Regulation,
    Sender,
    ServiceNumber,
    SupportingDocument,
)
from .numbers import AvailableNumber

API = "/2010-04-01"
MESSAGING = "https://messaging.twilio.com"
NUMBERS = "https://numbers.twilio.com/v2/RegulatoryCompliance"
TRUSTHUB = "https://trusthub.twilio.com/v1"


def rfc2822(value: datetime) -> str:
    return format_datetime(value)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def account(acc: Account) -> dict[str, Any]:
    base = f"{API}/Accounts/{acc.sid}"
    names = (
        "addresses",
        "applications",
        "available_phone_numbers",
        "incoming_phone_numbers",
        "messages",
        "calls",
    )
    segments = (
        "Addresses",
        "Applications",
        "AvailablePhoneNumbers",
        "IncomingPhoneNumbers",
        "Messages",
        "Calls",
    )
    return {
        "auth_token": acc.auth_token,
        "date_created": rfc2822(acc.date_created),
        "date_updated": rfc2822(acc.date_updated),
        "friendly_name": acc.friendly_name,
        "owner_account_sid": acc.owner_account_sid,
        "sid": acc.sid,
        "status": acc.status,
        "subresource_uris": {n: f"{base}/{s}.json" for n, s in zip(names, segments, strict=True)},
        "type": acc.type,
        "uri": f"{base}.json",
    }


def address(addr: Address) -> dict[str, Any]:
    return {
        "account_sid": addr.account_sid,
        "city": addr.city,
        "customer_name": addr.customer_name,
        "date_created": rfc2822(addr.date_created),
        "date_updated": rfc2822(addr.date_updated),
        "friendly_name": addr.friendly_name,
        "iso_country": addr.iso_country,
        "postal_code": addr.postal_code,
        "region": addr.region,
        "sid": addr.sid,
        "street": addr.street,
        "street_secondary": addr.street_secondary,
        "uri": f"{API}/Accounts/{addr.account_sid}/Addresses/{addr.sid}.json",
        "emergency_enabled": addr.emergency_enabled,
        "validated": addr.validated,
        "verified": addr.verified,
    }


def application(app: Application) -> dict[str, Any]:
    return {
        "account_sid": app.account_sid,
        "api_version": "2010-04-01",
        "date_created": rfc2822(app.date_created),
        "date_updated": rfc2822(app.date_updated),
        "friendly_name": app.friendly_name,
        "message_status_callback": None,
        "sid": app.sid,
        "sms_fallback_method": "POST",
        "sms_fallback_url": None,
        "sms_method": app.sms_method,
        "sms_status_callback": None,
        "sms_url": app.sms_url,
        "status_callback": app.status_callback,
        "status_callback_method": app.status_callback_method,
        "uri": f"{API}/Accounts/{app.account_sid}/Applications/{app.sid}.json",
        "voice_caller_id_lookup": False,
        "voice_fallback_method": "POST",
        "voice_fallback_url": None,
        "voice_method": app.voice_method,
        "voice_url": app.voice_url,
        "public_application_connect_enabled": False,
    }


def available_number(number: AvailableNumber) -> dict[str, Any]:
    place = number.place
    nanp = number.iso_country in ("US", "CA") and place is not None
    return {
        "friendly_name": number.friendly_name,
        "phone_number": number.phone_number,
        "lata": "132" if nanp else None,
        "locality": place.locality if place else None,
        "rate_center": place.locality.upper().replace(" ", "")[:10] if nanp and place else None,
        "latitude": place.latitude if place else None,
        "longitude": place.longitude if place else None,
        "region": place.region if place else None,
        "postal_code": place.postal_code if place else None,
        "iso_country": number.iso_country,
        "address_requirements": number.address_requirements,
        "beta": False,
        "capabilities": {"voice": number.voice, "sms": number.sms, "mms": number.mms, "fax": False},
    }


def incoming_number(num: IncomingNumber) -> dict[str, Any]:
    return {
        "account_sid": num.account_sid,
        "address_sid": num.address_sid,
        "address_requirements": num.address_requirements,
        "api_version": "2010-04-01",
        "beta": False,
        "capabilities": {"voice": True, "sms": num.sms, "mms": num.mms, "fax": False},
        "date_created": rfc2822(num.date_created),
        "date_updated": rfc2822(num.date_updated),
        "friendly_name": num.friendly_name,
        "identity_sid": None,
        "phone_number": num.phone_number,
        "origin": "twilio",
        "sid": num.sid,
        "sms_application_sid": None,
        "sms_fallback_method": "POST",
        "sms_fallback_url": None,
        "sms_method": num.sms_method,
        "sms_url": num.sms_url,
        "status_callback": num.status_callback,
        "status_callback_method": "POST",
        "trunk_sid": None,
        "uri": f"{API}/Accounts/{num.account_sid}/IncomingPhoneNumbers/{num.sid}.json",
        "voice_receive_mode": "voice",
        "voice_application_sid": num.voice_application_sid,
        "voice_caller_id_lookup": False,
        "voice_fallback_method": "POST",
        "voice_fallback_url": None,
        "voice_method": num.voice_method,
        "voice_url": num.voice_url,
        "emergency_status": "Inactive",
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "bundle_sid": num.bundle_sid,
        "status": "in-use",
        "type": num.number_type,
    }


def service(svc: MessagingService) -> dict[str, Any]:
    url = f"{MESSAGING}/v1/Services/{svc.sid}"
    links = {
        k: f"{url}/{v}"
        for k, v in (
            ("phone_numbers", "PhoneNumbers"),
            ("short_codes", "ShortCodes"),
            ("alpha_senders", "AlphaSenders"),
            ("messages", "Messages"),
            ("us_app_to_person", "Compliance/Usa2p"),
            ("us_app_to_person_usecases", "Compliance/Usa2p/Usecases"),
            ("channel_senders", "ChannelSenders"),
        )
    }
    return {
        "sid": svc.sid,
        "account_sid": svc.account_sid,
        "friendly_name": svc.friendly_name,
        "date_created": iso(svc.date_created),
        "date_updated": iso(svc.date_updated),
        "inbound_request_url": svc.inbound_request_url,
        "inbound_method": "POST",
        "fallback_url": None,
        "fallback_method": "POST",
        "status_callback": svc.status_callback,
        "sticky_sender": True,
        "mms_converter": True,
        "smart_encoding": True,
        "scan_message_content": "inherit",
        "fallback_to_long_code": True,
        "area_code_geomatch": True,
        "synchronous_validation": False,
        "validity_period": 14400,
        "url": url,
        "links": links,
        "usecase": svc.usecase,
        "us_app_to_person_registered": False,
        "use_inbound_webhook_on_number": False,
    }


def service_number(num: ServiceNumber) -> dict[str, Any]:
    return {
        "sid": num.sid,
        "account_sid": num.account_sid,
        "service_sid": num.service_sid,
        "date_created": iso(num.date_created),
        "date_updated": iso(num.date_updated),
        "phone_number": num.phone_number,
        "country_code": num.country_code,
        "capabilities": num.capabilities,
        "url": f"{MESSAGING}/v1/Services/{num.service_sid}/PhoneNumbers/{num.sid}",
    }


def bundle(b: Bundle) -> dict[str, Any]:
    url = f"{NUMBERS}/Bundles/{b.sid}"
    return {
        "sid": b.sid,
        "account_sid": b.account_sid,
        "regulation_sid": b.regulation_sid,
        "friendly_name": b.friendly_name,
        "status": b.status,
        "valid_until": iso(b.valid_until),
        "email": b.email,
        "status_callback": b.status_callback,
        "date_created": iso(b.date_created),
        "date_updated": iso(b.date_updated),
        "url": url,
        "links": {
            "evaluations": f"{url}/Evaluations",
            "item_assignments": f"{url}/ItemAssignments",
            "bundle_copies": f"{url}/Copies",
        },
    }


def item_assignment(item: ItemAssignment) -> dict[str, Any]:
    return {
        "sid": item.sid,
        "bundle_sid": item.parent_sid,
        "account_sid": item.account_sid,
        "object_sid": item.object_sid,
        "date_created": iso(item.date_created),
        "url": f"{NUMBERS}/Bundles/{item.parent_sid}/ItemAssignments/{item.sid}",
    }


def evaluation(ev: Evaluation) -> dict[str, Any]:
    return {
        "sid": ev.sid,
        "account_sid": ev.account_sid,
        "regulation_sid": ev.regulation_sid,
        "bundle_sid": ev.bundle_sid,
        "status": ev.status,
        "results": ev.results,
        "date_created": iso(ev.date_created),
        "url": f"{NUMBERS}/Bundles/{ev.bundle_sid}/Evaluations/{ev.sid}",
    }


def regulatory_document(doc: SupportingDocument) -> dict[str, Any]:
    return {
        "sid": doc.sid,
        "account_sid": doc.account_sid,
        "friendly_name": doc.friendly_name,
        "mime_type": doc.mime_type,
        "status": doc.status,
        "failure_reason": doc.failure_reason,
        "errors": [{"code": 22217, "message": doc.failure_reason}] if doc.failure_reason else None,
        "type": doc.type,
        "attributes": doc.attributes,
        "date_created": iso(doc.date_created),
        "date_updated": iso(doc.date_updated),
        "url": f"{NUMBERS}/SupportingDocuments/{doc.sid}",
    }


def regulation(reg: Regulation) -> dict[str, Any]:
    return {
        "sid": reg.sid,
        "friendly_name": reg.friendly_name,
        "iso_country": reg.iso_country,
        "number_type": reg.number_type,
        "end_user_type": reg.end_user_type,
        "requirements": requirements(reg),
        "url": f"{NUMBERS}/Regulations/{reg.sid}",
    }


def trust_product(tp: Bundle) -> dict[str, Any]:
    url = f"{TRUSTHUB}/TrustProducts/{tp.sid}"
    return {
        "sid": tp.sid,
        "account_sid": tp.account_sid,
        "policy_sid": tp.regulation_sid,
        "friendly_name": tp.friendly_name,
        "status": tp.status,
        "valid_until": iso(tp.valid_until),
        "email": tp.email,
        "status_callback": tp.status_callback,
        "date_created": iso(tp.date_created),
        "date_updated": iso(tp.date_updated),
        "url": url,
        "links": {
            "trust_products_entity_assignments": f"{url}/EntityAssignments",
            "trust_products_evaluations": f"{url}/Evaluations",
            "trust_products_channel_endpoint_assignment": f"{url}/ChannelEndpointAssignments",
        },
        "errors": tp.errors or None,
    }


def entity_assignment(item: ItemAssignment) -> dict[str, Any]:
    return {
        "sid": item.sid,
        "trust_product_sid": item.parent_sid,
        "account_sid": item.account_sid,
        "object_sid": item.object_sid,
        "date_created": iso(item.date_created),
        "url": f"{TRUSTHUB}/TrustProducts/{item.parent_sid}/EntityAssignments/{item.sid}",
    }


def trust_document(doc: SupportingDocument) -> dict[str, Any]:
    return {
        "sid": doc.sid,
        "account_sid": doc.account_sid,
        "friendly_name": doc.friendly_name,
        "mime_type": doc.mime_type,
        "status": doc.status,
        "type": doc.type,
        "attributes": doc.attributes,
        "date_created": iso(doc.date_created),
        "date_updated": iso(doc.date_updated),
        "url": f"{TRUSTHUB}/SupportingDocuments/{doc.sid}",
    }


def sender(s: Sender) -> dict[str, Any]:
    return {
        "sid": s.sid,
        "status": s.status,
        "sender_id": s.sender_id,
        "configuration": s.configuration,
        "webhook": s.webhook,
        "profile": s.profile,
        "properties": {"quality_rating": s.quality_rating, "messaging_limit": s.messaging_limit},
        "offline_reasons": s.offline_reasons,
        "compliance": None,
        "url": f"{MESSAGING}/v2/Channels/Senders/{s.sid}",
    }
