"""Every gateway call sends requests Twilio's OpenAPI files accept.

The SDK's requests are captured at the lowest point, a `requests` transport adapter mounted on the
gateway's own `GatewayHttpClient` session, so what is checked is exactly what would go on the wire
to Twilio (no base URL: real `https://{sub}.twilio.com` hosts). Canned answers are minimal but
valid against the response schemas of the same files (also checked), and list answers come in two
pages so that paging is exercised. Each request is judged by the shared oracle `oai.py`: the
host's file has a path template that matches, the method exists there, every query/form parameter
is declared and fits its type, the required ones are present, and the JSON body of the Senders API
validates against its request schema (here also: no undeclared key).
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema
import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from clienteling_setup.providers.messaging import (
    AccountCredentials,
    MessagingGateway,
    MonthlyPrice,
    NotFound,
    SenderProfile,
)
from clienteling_setup.providers.twilio import GatewayHttpClient, RetryPolicy, TwilioGateway
from tests.contract import oai

MASTER_SID = "AC" + "0" * 31 + "1"
MASTER_TOKEN = "master-token-0123456789abcdef"
TENANT = AccountCredentials("AC" + "a" * 32, "tenant-token-0123456789abcdef")


def sid(prefix: str, n: int = 1) -> str:
    return f"{prefix}{n:032x}"


# -- Twilio's OpenAPI files (through the shared oracle in `oai.py`) ----------------------------
def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = doc
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def check_json_keys(doc: dict[str, Any], schema: dict[str, Any], body: Any, where: str) -> None:
    """Every key we send is declared (the request schemas do not forbid extra keys)."""
    schema = _resolve(doc, schema)
    if not isinstance(body, dict) or "properties" not in schema:
        return
    for key, value in body.items():
        assert key in schema["properties"], f"{where}.{key} is not declared"
        check_json_keys(doc, schema["properties"][key], value, f"{where}.{key}")


def validate_request(request: requests.PreparedRequest) -> str:
    """Assert `request` is valid for Twilio's API; returns `METHOD template` for reporting."""
    url = urlsplit(request.url or "")
    assert url.scheme == "https", request.url
    assert url.hostname, request.url
    assert url.hostname.endswith(".twilio.com"), request.url
    method = request.method or ""
    template, operation = oai.find_operation(url.hostname, method, url.path)
    query = dict(parse_qsl(url.query, keep_blank_values=True))
    content_type = (request.headers.get("Content-Type") or "").split(";")[0]
    body = request.body.decode() if isinstance(request.body, bytes) else request.body or ""
    if method not in ("POST", "PUT"):
        assert not body, f"{method} {template} has a body"
        oai.validate_request(url.hostname, method, url.path, query)
    elif content_type == "application/json":
        payload = json.loads(body)
        oai.validate_request(url.hostname, method, url.path, query, json_body=payload)
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        doc = oai.load("twilio_messaging_v2.json").doc  # the one JSON API the gateway uses
        check_json_keys(doc, schema, payload, "body")
    else:
        assert content_type == "application/x-www-form-urlencoded", content_type
        assert not query, f"{method} {template} sends form fields in the query string"
        form = dict(parse_qsl(body, keep_blank_values=True))
        oai.validate_request(url.hostname, method, url.path, form)
    return f"{method} {template}"


def validate_response(request: requests.PreparedRequest, status: int, payload: Any) -> None:
    """The canned answers are minimal (not every field), but what they carry must be valid."""
    url = urlsplit(request.url or "")
    oai.validate_response(
        url.hostname or "", request.method or "", url.path, status, payload, complete=False
    )


# -- canned Twilio ------------------------------------------------------------------------------
def basic_auth_user(request: requests.PreparedRequest) -> str:
    scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
    assert scheme == "Basic"
    return base64.b64decode(value).decode().split(":", 1)[0]


def envelope_2010(key: str, items: list[Any], path: str, next_uri: str | None) -> dict[str, Any]:
    return {
        key: items,
        "end": len(items) - 1,
        "first_page_uri": f"{path}?PageSize=50&Page=0",
        "next_page_uri": next_uri,
        "page": 1 if next_uri is None else 0,
        "page_size": 50,
        "previous_page_uri": None,
        "start": 0,
        "uri": f"{path}?PageSize=50&Page=0",
    }


def envelope_v(key: str, items: list[Any], url: str, next_url: str | None) -> dict[str, Any]:
    return {
        key: items,
        "meta": {
            "first_page_url": f"{url}?PageSize=50&Page=0",
            "key": key,
            "next_page_url": next_url,
            "page": 0,
            "page_size": 50,
            "previous_page_url": None,
            "url": f"{url}?PageSize=50&Page=0",
        },
    }


ACCOUNT = {
    "sid": sid("AC", 0xB),
    "friendly_name": "tenant-acme",
    "status": "active",
    "auth_token": "tenant-token-sent-once",
    "owner_account_sid": MASTER_SID,
    "type": "Full",
    "uri": "/2010-04-01/Accounts/x.json",
    "subresource_uris": {},
}
SERVICE = {"sid": sid("MG"), "account_sid": TENANT.account_sid, "friendly_name": "acme-sms"}
APPLICATION = {
    "sid": sid("AP"),
    "account_sid": TENANT.account_sid,
    "friendly_name": "acme-call-forwarding",
    "voice_url": "https://example.test/voice",
    "voice_method": "POST",
}
AVAILABLE = {
    "friendly_name": "(415) 555-0100",
    "phone_number": "+14155550100",
    "locality": "San Francisco",
    "region": "CA",
    "postal_code": "94105",
    "iso_country": "US",
    "address_requirements": "none",
    "beta": False,
    "capabilities": {"voice": True, "SMS": True, "MMS": True, "fax": False},
}
NUMBER = {
    "sid": sid("PN"),
    "account_sid": TENANT.account_sid,
    "phone_number": "+14155550100",
    "friendly_name": "store-1",
    "voice_application_sid": sid("AP"),
    "address_sid": sid("AD"),
    "bundle_sid": None,
    "status": "in-use",
    "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
}
OTHER_NUMBER = {**NUMBER, "sid": sid("PN", 2), "phone_number": "+14155550199"}
ADDRESS = {
    "sid": sid("AD"),
    "account_sid": TENANT.account_sid,
    "friendly_name": "Store 1",
    "customer_name": "Acme",
    "street": "1 Main St",
    "street_secondary": None,
    "city": "Berlin",
    "region": "BE",
    "postal_code": "10115",
    "iso_country": "DE",
}
BUNDLE = {
    "sid": sid("BU"),
    "account_sid": TENANT.account_sid,
    "regulation_sid": sid("RN"),
    "friendly_name": "Acme DE local",
    "status": "twilio-rejected",
    "email": "ops@example.test",
}
REGULATION = {
    "sid": sid("RN"),
    "friendly_name": "Germany: Local - Business",
    "iso_country": "DE",
    "number_type": "local",
    "end_user_type": "business",
    "requirements": {},
}
EVALUATION = {
    "sid": sid("EL"),
    "account_sid": TENANT.account_sid,
    "regulation_sid": sid("RN"),
    "bundle_sid": sid("BU"),
    "status": "noncompliant",
    "results": [
        {
            "friendly_name": "Business",
            "passed": False,
            "failure_reason": "A Business End-User is missing.",
            "invalid": [{"object_field": "business_name", "failure_reason": "Name is missing."}],
        }
    ],
    "date_created": "2026-01-02T10:00:00Z",
}
DOCUMENT = {
    "sid": sid("RD"),
    "account_sid": TENANT.account_sid,
    "friendly_name": "Commercial register",
    "status": "approved",
    "type": "business_registration",
    "date_created": "2026-01-01T10:00:00Z",
    "date_updated": "2026-01-02T10:00:00Z",
}
TRUSTHUB_DOCUMENT = {**DOCUMENT, "status": "APPROVED"}  # trusthub spells statuses upper-case
TRUST_PRODUCT = {
    "sid": sid("BU", 7),
    "account_sid": TENANT.account_sid,
    "policy_sid": sid("RN", 7),
    "friendly_name": "Acme secondary profile",
    "status": "twilio-approved",
}
SENDER = {
    "sid": sid("XE"),
    "status": "CREATING",
    "sender_id": "whatsapp:+14155550100",
    "configuration": {"waba_id": "1234567890"},
    "webhook": {"status_callback_url": "https://example.test/cb", "status_callback_method": "POST"},
    "profile": {"name": "Acme Store 1"},
    "properties": {"quality_rating": "HIGH", "messaging_limit": "1K Customers/24hr"},
    "offline_reasons": None,
    "compliance": None,
    "url": f"https://messaging.twilio.com/v2/Channels/Senders/{sid('XE')}",
}
PRICES = {
    "country": "United States",
    "iso_country": "US",
    "phone_number_prices": [
        {"number_type": "local", "base_price": "1.15", "current_price": "1.15"},
        {"number_type": "toll free", "base_price": "2.15", "current_price": "2.00"},
    ],
    "price_unit": "USD",
    "url": "https://pricing.twilio.com/v1/PhoneNumbers/Countries/US",
}


CUSTOMER_PROFILE = {
    "sid": sid("BU", 8),
    "account_sid": TENANT.account_sid,
    "policy_sid": "RNdfbf3fae0e1107f8aded0e7cead80bf5",
    "friendly_name": "clienteling:acme:a2p-profile",
    "status": "twilio-rejected",
    "errors": [{"code": 22215, "message": "The EIN does not match."}],
}
A2P_PRODUCT = {
    **TRUST_PRODUCT,
    "sid": sid("BU", 9),
    "policy_sid": "RNb0d4771c2c98518d916a3d4cd70a8f8b",
    "friendly_name": "clienteling:acme:a2p-messaging",
}
END_USER = {
    "sid": sid("IT", 3),
    "account_sid": TENANT.account_sid,
    "friendly_name": "clienteling:acme:business",
    "type": "customer_profile_business_information",
    "attributes": {"business_name": "Acme"},
}
CP_EVALUATION = {
    "sid": sid("EL", 2),
    "account_sid": TENANT.account_sid,
    "policy_sid": CUSTOMER_PROFILE["policy_sid"],
    "customer_profile_sid": CUSTOMER_PROFILE["sid"],
    "status": "noncompliant",
    "results": EVALUATION["results"],
}
TP_EVALUATION = {
    "sid": sid("EL", 3),
    "account_sid": TENANT.account_sid,
    "policy_sid": A2P_PRODUCT["policy_sid"],
    "trust_product_sid": A2P_PRODUCT["sid"],
    "status": "compliant",
    "results": [],
}
BRAND = {
    "sid": sid("BN"),
    "account_sid": TENANT.account_sid,
    "customer_profile_bundle_sid": CUSTOMER_PROFILE["sid"],
    "a2p_profile_bundle_sid": A2P_PRODUCT["sid"],
    "brand_type": "STANDARD",
    "status": "FAILED",
    "failure_reason": "TCR could not verify the EIN.",
    "skip_automatic_sec_vet": False,
    "identity_status": "UNVERIFIED",
}
CAMPAIGN = {
    "sid": sid("QE"),
    "account_sid": TENANT.account_sid,
    "brand_registration_sid": sid("BN"),
    "messaging_service_sid": sid("MG"),
    "campaign_status": "FAILED",
    "us_app_to_person_usecase": "CUSTOMER_CARE",
    "errors": [{"error_code": 30896, "fields": ["MESSAGE_FLOW"], "description": "Consent?"}],
}
CAMPAIGN_CONTENT = {
    "description": "Store associates follow up with their clients.",
    "message_flow": "Clients opt in at the till.",
    "message_samples": ["Hi Ada, your order is ready.", "Hi Ada, the new season is in."],
    "has_embedded_links": True,
    "has_embedded_phone": False,
}


def assignment(object_sid: str, n: int) -> dict[str, Any]:
    return {"sid": sid("BV", n), "bundle_sid": sid("BU"), "object_sid": object_sid}


def answer(request: requests.PreparedRequest) -> tuple[int, Any]:
    """A canned, schema-valid answer for the request; lists come in two pages."""
    url = urlsplit(request.url or "")
    host, path, method = url.hostname, url.path, request.method
    query = dict(parse_qsl(url.query))
    second_page = "PageToken" in query
    base = f"https://{host}{path}"

    def paged_2010(key: str, first: list[Any], second: list[Any]) -> dict[str, Any]:
        if second_page:
            return envelope_2010(key, second, path, None)
        return envelope_2010(key, first, path, f"{path}?PageSize=50&Page=1&PageToken=PA1")

    def paged_v(key: str, first: list[Any], second: list[Any]) -> dict[str, Any]:
        if second_page:
            return envelope_v(key, second, base, None)
        kept = "".join(f"&{k}={v}" for k, v in query.items() if k not in ("Page", "PageSize"))
        return envelope_v(key, first, base, f"{base}?PageSize=50&Page=1&PageToken=PT1{kept}")

    routes: list[tuple[str, str, Callable[[], tuple[int, Any]]]] = [
        ("POST", r"/2010-04-01/Accounts\.json", lambda: (201, ACCOUNT)),
        (
            "GET",
            r"/2010-04-01/Accounts\.json",
            lambda: (200, paged_2010("accounts", [], [ACCOUNT])),
        ),
        ("GET", r"/2010-04-01/Accounts/\w+\.json", lambda: (200, ACCOUNT)),
        ("POST", r"/2010-04-01/Accounts/\w+\.json", lambda: (200, {**ACCOUNT, "status": "closed"})),
        ("DELETE", r"/v1/Services/\w+/PhoneNumbers/\w+", lambda: (204, None)),
        ("DELETE", r"/v1/Services/\w+", lambda: (204, None)),
        ("DELETE", r"/2010-04-01/Accounts/\w+/Applications/\w+\.json", lambda: (204, None)),
        ("DELETE", r"/v2/Channels/Senders/\w+", lambda: (204, None)),
        ("GET", r"/v1/Services", lambda: (200, paged_v("services", [], [SERVICE]))),
        ("POST", r"/v1/Services", lambda: (201, SERVICE)),
        ("POST", r"/v1/Services/\w+/PhoneNumbers", lambda: (201, {"sid": NUMBER["sid"]})),
        ("GET", r"/v1/Services/\w+/PhoneNumbers/\w+", lambda: (200, {"sid": NUMBER["sid"]})),
        (
            "GET",
            r"/2010-04-01/Accounts/\w+/Applications\.json",
            lambda: (200, paged_2010("applications", [], [APPLICATION])),
        ),
        ("POST", r"/2010-04-01/Accounts/\w+/Applications\.json", lambda: (201, APPLICATION)),
        ("POST", r"/2010-04-01/Accounts/\w+/Applications/\w+\.json", lambda: (200, APPLICATION)),
        (
            "GET",
            r"/2010-04-01/Accounts/\w+/AvailablePhoneNumbers/\w+/\w+\.json",
            lambda: (200, envelope_2010("available_phone_numbers", [AVAILABLE], path, None)),
        ),
        (
            "GET",
            r"/2010-04-01/Accounts/\w+/IncomingPhoneNumbers\.json",
            lambda: (200, paged_2010("incoming_phone_numbers", [OTHER_NUMBER], [NUMBER])),
        ),
        ("POST", r"/2010-04-01/Accounts/\w+/IncomingPhoneNumbers\.json", lambda: (201, NUMBER)),
        ("GET", r"/2010-04-01/Accounts/\w+/IncomingPhoneNumbers/\w+\.json", lambda: (200, NUMBER)),
        ("POST", r"/2010-04-01/Accounts/\w+/IncomingPhoneNumbers/\w+\.json", lambda: (200, NUMBER)),
        ("DELETE", r"/2010-04-01/Accounts/\w+/IncomingPhoneNumbers/\w+\.json", lambda: (204, None)),
        (
            "GET",
            r"/2010-04-01/Accounts/\w+/Addresses\.json",
            lambda: (200, paged_2010("addresses", [ADDRESS], [])),
        ),
        (
            "GET",
            r"/v2/RegulatoryCompliance/Bundles",
            lambda: (200, paged_v("results", [BUNDLE], [])),
        ),
        ("GET", r"/v2/RegulatoryCompliance/Bundles/\w+", lambda: (200, BUNDLE)),
        (
            "GET",
            r"/v2/RegulatoryCompliance/Bundles/\w+/Evaluations",
            lambda: (200, paged_v("results", [], [EVALUATION])),
        ),
        (
            "GET",
            r"/v2/RegulatoryCompliance/Bundles/\w+/ItemAssignments",
            lambda: (
                200,
                paged_v(
                    "results",
                    [assignment(sid("IT"), 1), assignment(sid("RD"), 2)],
                    [assignment(sid("AD"), 3)],
                ),
            ),
        ),
        (
            "GET",
            r"/v2/RegulatoryCompliance/Regulations",
            lambda: (200, paged_v("results", [REGULATION], [])),
        ),
        ("GET", r"/v2/RegulatoryCompliance/Regulations/\w+", lambda: (200, REGULATION)),
        ("GET", r"/v2/RegulatoryCompliance/SupportingDocuments/\w+", lambda: (200, DOCUMENT)),
        ("GET", r"/v1/TrustProducts", lambda: (200, paged_v("results", [TRUST_PRODUCT], []))),
        ("GET", r"/v1/TrustProducts/\w+", lambda: (200, TRUST_PRODUCT)),
        (
            "GET",
            r"/v1/TrustProducts/\w+/EntityAssignments",
            lambda: (
                200,
                paged_v(
                    "results",
                    [
                        {
                            "sid": sid("BV", 4),
                            "trust_product_sid": TRUST_PRODUCT["sid"],
                            "object_sid": sid("IT"),
                        },
                        {
                            "sid": sid("BV", 5),
                            "trust_product_sid": TRUST_PRODUCT["sid"],
                            "object_sid": sid("RD"),
                        },
                    ],
                    [],
                ),
            ),
        ),
        ("GET", r"/v1/SupportingDocuments/\w+", lambda: (200, TRUSTHUB_DOCUMENT)),
        (
            "GET",
            r"/v1/SupportingDocuments",
            lambda: (
                200,
                paged_v(
                    "results", [TRUSTHUB_DOCUMENT], [{**TRUSTHUB_DOCUMENT, "sid": sid("RD", 2)}]
                ),
            ),
        ),
        ("POST", r"/v1/SupportingDocuments", lambda: (201, TRUSTHUB_DOCUMENT)),
        ("POST", r"/2010-04-01/Accounts/\w+/Addresses\.json", lambda: (201, ADDRESS)),
        ("GET", r"/v1/CustomerProfiles", lambda: (200, paged_v("results", [], [CUSTOMER_PROFILE]))),
        ("POST", r"/v1/CustomerProfiles", lambda: (201, CUSTOMER_PROFILE)),
        ("GET", r"/v1/CustomerProfiles/\w+", lambda: (200, CUSTOMER_PROFILE)),
        ("POST", r"/v1/CustomerProfiles/\w+", lambda: (200, CUSTOMER_PROFILE)),
        (
            "GET",
            r"/v1/CustomerProfiles/\w+/EntityAssignments",
            lambda: (
                200,
                paged_v(
                    "results",
                    [{"sid": sid("BV", 6), "object_sid": sid("IT", 3)}],
                    [{"sid": sid("BV", 7), "object_sid": sid("RD")}],
                ),
            ),
        ),
        (
            "POST",
            r"/v1/CustomerProfiles/\w+/EntityAssignments",
            lambda: (201, {"sid": sid("BV", 6), "object_sid": sid("IT", 3)}),
        ),
        ("POST", r"/v1/CustomerProfiles/\w+/Evaluations", lambda: (201, CP_EVALUATION)),
        ("POST", r"/v1/TrustProducts", lambda: (201, A2P_PRODUCT)),
        ("POST", r"/v1/TrustProducts/\w+", lambda: (200, A2P_PRODUCT)),
        (
            "POST",
            r"/v1/TrustProducts/\w+/EntityAssignments",
            lambda: (201, {"sid": sid("BV", 8), "object_sid": sid("IT", 3)}),
        ),
        ("POST", r"/v1/TrustProducts/\w+/Evaluations", lambda: (201, TP_EVALUATION)),
        ("GET", r"/v1/EndUsers", lambda: (200, paged_v("results", [], [END_USER]))),
        ("POST", r"/v1/EndUsers", lambda: (201, END_USER)),
        ("POST", r"/v1/EndUsers/\w+", lambda: (200, END_USER)),
        ("GET", r"/v1/a2p/BrandRegistrations", lambda: (200, paged_v("data", [], [BRAND]))),
        ("POST", r"/v1/a2p/BrandRegistrations", lambda: (201, BRAND)),
        ("GET", r"/v1/a2p/BrandRegistrations/\w+", lambda: (200, BRAND)),
        ("POST", r"/v1/a2p/BrandRegistrations/\w+", lambda: (202, {**BRAND, "status": "PENDING"})),
        (
            "GET",
            r"/v1/Services/\w+/Compliance/Usa2p/Usecases",
            lambda: (200, {"us_app_to_person_usecases": [{"code": "CUSTOMER_CARE"}]}),
        ),
        (
            "GET",
            r"/v1/Services/\w+/Compliance/Usa2p",
            lambda: (200, paged_v("compliance", [], [CAMPAIGN])),
        ),
        ("POST", r"/v1/Services/\w+/Compliance/Usa2p", lambda: (201, CAMPAIGN)),
        ("GET", r"/v1/Services/\w+/Compliance/Usa2p/\w+", lambda: (200, CAMPAIGN)),
        ("POST", r"/v1/Services/\w+/Compliance/Usa2p/\w+", lambda: (200, CAMPAIGN)),
        ("POST", r"/v2/Channels/Senders", lambda: (202, SENDER)),
        ("GET", r"/v2/Channels/Senders", lambda: (200, paged_v("senders", [SENDER], []))),
        ("GET", r"/v2/Channels/Senders/\w+", lambda: (200, SENDER)),
        ("POST", r"/v2/Channels/Senders/\w+", lambda: (202, SENDER)),
        ("GET", r"/v1/PhoneNumbers/Countries/\w+", lambda: (200, PRICES)),
    ]
    for route_method, pattern, handler in routes:
        if method == route_method and re.fullmatch(pattern, path):
            return handler()
    raise AssertionError(f"no canned answer for {method} {request.url}")


@dataclass
class Exchange:
    request: requests.PreparedRequest
    status: int
    payload: Any
    timeout: Any


@dataclass
class RecordingAdapter(BaseAdapter):
    """A `requests` transport that records what the SDK sends and answers from `answer`."""

    exchanges: list[Exchange] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None, **_: Any
    ) -> requests.Response:
        status, payload = answer(request)
        self.exchanges.append(Exchange(copy.copy(request), status, payload, timeout))
        response = requests.Response()
        response.status_code = status
        response._content = b"" if payload is None else json.dumps(payload).encode()
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        response.encoding = "utf-8"
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def wire() -> RecordingAdapter:
    return RecordingAdapter()


@pytest.fixture
def gateway(wire: RecordingAdapter) -> Iterator[TwilioGateway]:
    http = GatewayHttpClient(timeout=7.5, retry=RetryPolicy(max_attempts=1))
    http.session.mount("https://", wire)
    yield TwilioGateway(MASTER_SID, MASTER_TOKEN, http_client=http)
    http.session.close()


PROFILE = SenderProfile(
    name="Acme Store 1",
    about="Your store",
    address="1 Main St",
    description="Clienteling",
    emails=("store1@example.test",),
    websites=("https://example.test",),
    logo_url="https://example.test/logo.png",
)

Call = Callable[[TwilioGateway], Any]
CALLS: dict[str, tuple[Call, bool]] = {
    # name: (call, uses master credentials)
    "create_subaccount": (lambda g: g.create_subaccount("tenant-acme"), True),
    "find_subaccount": (lambda g: g.find_subaccount("tenant-acme"), True),
    "fetch_subaccount": (lambda g: g.fetch_subaccount(sid("AC", 0xB)), True),
    "close_subaccount": (lambda g: g.close_subaccount(sid("AC", 0xB)), True),
    "delete_messaging_service": (lambda g: g.delete_messaging_service(TENANT, sid("MG")), False),
    "remove_number_from_messaging_service": (
        lambda g: g.remove_number_from_messaging_service(TENANT, sid("MG"), sid("PN")),
        False,
    ),
    "delete_application": (lambda g: g.delete_application(TENANT, sid("AP")), False),
    "delete_sender": (lambda g: g.delete_sender(TENANT, sid("XE")), False),
    "list_subaccounts": (lambda g: g.list_subaccounts(), True),
    "find_messaging_service": (lambda g: g.find_messaging_service(TENANT, "acme-sms"), False),
    "create_messaging_service": (lambda g: g.create_messaging_service(TENANT, "acme-sms"), False),
    "add_number_to_messaging_service": (
        lambda g: g.add_number_to_messaging_service(TENANT, sid("MG"), sid("PN")),
        False,
    ),
    "messaging_service_has_number": (
        lambda g: g.messaging_service_has_number(TENANT, sid("MG"), sid("PN")),
        False,
    ),
    "find_application": (lambda g: g.find_application(TENANT, "acme-call-forwarding"), False),
    "create_application": (
        lambda g: g.create_application(TENANT, "acme-call-forwarding", "https://example.test/v"),
        False,
    ),
    "update_application": (
        lambda g: g.update_application(TENANT, sid("AP"), "https://example.test/v2"),
        False,
    ),
    "search_available_numbers": (
        lambda g: g.search_available_numbers(
            TENANT,
            "us",
            "local",
            in_region="CA",
            in_postal_code="94105",
            area_code="415",
            near_lat_long="37.79,-122.39",
            contains="555",
            limit=5,
        ),
        False,
    ),
    "buy_number": (
        lambda g: g.buy_number(
            TENANT,
            "+14155550100",
            friendly_name="store-1",
            address_sid=sid("AD"),
            bundle_sid=sid("BU"),
            voice_application_sid=sid("AP"),
        ),
        False,
    ),
    "find_owned_number": (lambda g: g.find_owned_number(TENANT, "+14155550100"), False),
    "fetch_owned_number": (lambda g: g.fetch_owned_number(TENANT, sid("PN")), False),
    "list_owned_numbers": (lambda g: g.list_owned_numbers(TENANT), False),
    "set_number_voice_application": (
        lambda g: g.set_number_voice_application(TENANT, sid("PN"), sid("AP")),
        False,
    ),
    "release_number": (lambda g: g.release_number(TENANT, sid("PN")), False),
    "monthly_number_price": (lambda g: g.monthly_number_price("us", "toll-free"), True),
    "list_addresses": (lambda g: g.list_addresses(TENANT, "de"), False),
    "list_bundles": (lambda g: g.list_bundles(TENANT, "DE"), False),
    "fetch_bundle": (lambda g: g.fetch_bundle(TENANT, sid("BU")), False),
    "bundle_address_sid": (lambda g: g.bundle_address_sid(TENANT, sid("BU")), False),
    "list_bundle_documents": (lambda g: g.list_bundle_documents(TENANT, sid("BU")), False),
    "list_regulations": (lambda g: g.list_regulations(TENANT, "DE", "local"), False),
    "list_trust_products": (lambda g: g.list_trust_products(TENANT), False),
    "fetch_trust_product": (lambda g: g.fetch_trust_product(TENANT, sid("BU", 7)), False),
    "list_trust_product_documents": (
        lambda g: g.list_trust_product_documents(TENANT, sid("BU", 7)),
        False,
    ),
    "create_address": (
        lambda g: g.create_address(
            TENANT,
            friendly_name="clienteling:acme:a2p-address",
            customer_name="Acme Retail Inc",
            street="1 Main St",
            street_secondary=None,
            city="Austin",
            region="TX",
            postal_code="78701",
            iso_country="US",
        ),
        False,
    ),
    "find_customer_profile": (
        lambda g: g.find_customer_profile(
            TENANT, "clienteling:acme:a2p-profile", "RNdfbf3fae0e1107f8aded0e7cead80bf5"
        ),
        False,
    ),
    "create_customer_profile": (
        lambda g: g.create_customer_profile(
            TENANT,
            "p",
            "ops@example.test",
            "RNdfbf3fae0e1107f8aded0e7cead80bf5",
            "https://clienteling.example/clienteling/webhooks/twilio/a2p-status",
        ),
        False,
    ),
    "fetch_customer_profile": (lambda g: g.fetch_customer_profile(TENANT, sid("BU", 8)), False),
    "submit_customer_profile": (lambda g: g.submit_customer_profile(TENANT, sid("BU", 8)), False),
    "customer_profile_object_sids": (
        lambda g: g.customer_profile_object_sids(TENANT, sid("BU", 8)),
        False,
    ),
    "assign_to_customer_profile": (
        lambda g: g.assign_to_customer_profile(TENANT, sid("BU", 8), sid("IT", 3)),
        False,
    ),
    "evaluate_customer_profile": (
        lambda g: g.evaluate_customer_profile(
            TENANT, sid("BU", 8), "RNdfbf3fae0e1107f8aded0e7cead80bf5"
        ),
        False,
    ),
    "find_a2p_trust_product": (
        lambda g: g.find_a2p_trust_product(
            TENANT, "clienteling:acme:a2p-messaging", "RNb0d4771c2c98518d916a3d4cd70a8f8b"
        ),
        False,
    ),
    "create_trust_product": (
        lambda g: g.create_trust_product(
            TENANT,
            "t",
            "ops@example.test",
            "RNb0d4771c2c98518d916a3d4cd70a8f8b",
            "https://clienteling.example/clienteling/webhooks/twilio/a2p-status",
        ),
        False,
    ),
    "submit_trust_product": (lambda g: g.submit_trust_product(TENANT, sid("BU", 9)), False),
    "trust_product_object_sids": (
        lambda g: g.trust_product_object_sids(TENANT, sid("BU", 9)),
        False,
    ),
    "assign_to_trust_product": (
        lambda g: g.assign_to_trust_product(TENANT, sid("BU", 9), sid("BU", 8)),
        False,
    ),
    "evaluate_trust_product": (
        lambda g: g.evaluate_trust_product(
            TENANT, sid("BU", 9), "RNb0d4771c2c98518d916a3d4cd70a8f8b"
        ),
        False,
    ),
    "find_end_user": (
        lambda g: g.find_end_user(
            TENANT, "clienteling:acme:business", "customer_profile_business_information"
        ),
        False,
    ),
    "create_end_user": (
        lambda g: g.create_end_user(
            TENANT, "b", "customer_profile_business_information", {"business_name": "Acme"}
        ),
        False,
    ),
    "update_end_user": (
        lambda g: g.update_end_user(TENANT, sid("IT", 3), {"business_name": "Acme Inc"}),
        False,
    ),
    "find_trust_document": (
        lambda g: g.find_trust_document(TENANT, "Commercial register", "business_registration"),
        False,
    ),
    "create_trust_document": (
        lambda g: g.create_trust_document(
            TENANT, "a", "customer_profile_address", {"address_sids": sid("AD")}
        ),
        False,
    ),
    "list_brand_registrations": (lambda g: g.list_brand_registrations(TENANT), False),
    "create_brand_registration": (
        lambda g: g.create_brand_registration(TENANT, sid("BU", 8), sid("BU", 9), low_volume=True),
        False,
    ),
    "fetch_brand_registration": (lambda g: g.fetch_brand_registration(TENANT, sid("BN")), False),
    "resubmit_brand_registration": (
        lambda g: g.resubmit_brand_registration(TENANT, sid("BN")),
        False,
    ),
    "list_a2p_usecases": (lambda g: g.list_a2p_usecases(TENANT, sid("MG"), sid("BN")), False),
    "find_campaign": (lambda g: g.find_campaign(TENANT, sid("MG")), False),
    "create_campaign": (
        lambda g: g.create_campaign(
            TENANT,
            sid("MG"),
            brand_sid=sid("BN"),
            usecase="CUSTOMER_CARE",
            opt_in_message="Acme: opted in.",
            opt_out_message="Acme: opted out.",
            help_message="Acme: reply STOP to opt out.",
            opt_in_keywords=["START"],
            opt_out_keywords=["STOP"],
            help_keywords=["HELP"],
            **CAMPAIGN_CONTENT,  # type: ignore[typeddict-item]
        ),
        False,
    ),
    "fetch_campaign": (lambda g: g.fetch_campaign(TENANT, sid("MG"), sid("QE")), False),
    "update_campaign": (
        lambda g: g.update_campaign(TENANT, sid("MG"), sid("QE"), **CAMPAIGN_CONTENT),  # type: ignore[arg-type]
        False,
    ),
    "create_sender": (
        lambda g: g.create_sender(
            TENANT,
            sender_id="whatsapp:+14155550100",
            waba_id="1234567890",
            profile=PROFILE,
            status_callback_url="https://example.test/cb",
        ),
        False,
    ),
    "fetch_sender": (lambda g: g.fetch_sender(TENANT, sid("XE")), False),
    "update_sender": (
        lambda g: g.update_sender(
            TENANT, sid("XE"), profile=PROFILE, status_callback_url="https://example.test/cb"
        ),
        False,
    ),
    "list_senders": (lambda g: g.list_senders(TENANT), False),
}


def test_every_port_method_is_covered() -> None:
    port = {
        name
        for name, value in vars(MessagingGateway).items()
        if callable(value) and not name.startswith("_")
    }
    assert port == set(CALLS)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_requests_match_twilio_openapi(
    name: str, gateway: TwilioGateway, wire: RecordingAdapter
) -> None:
    call, as_master = CALLS[name]
    call(gateway)

    assert wire.exchanges, f"{name} sent nothing"
    for exchange in wire.exchanges:
        validate_request(exchange.request)
        validate_response(exchange.request, exchange.status, exchange.payload)
        expected = MASTER_SID if as_master else TENANT.account_sid
        assert basic_auth_user(exchange.request) == expected
        assert exchange.timeout == 7.5


def test_tenant_2010_calls_address_the_subaccount(
    gateway: TwilioGateway, wire: RecordingAdapter
) -> None:
    gateway.list_owned_numbers(TENANT)
    for exchange in wire.exchanges:
        path = urlsplit(exchange.request.url or "").path
        assert path.startswith(f"/2010-04-01/Accounts/{TENANT.account_sid}/")


def test_lists_follow_every_page(gateway: TwilioGateway, wire: RecordingAdapter) -> None:
    found = gateway.find_owned_number(TENANT, "+14155550100")
    assert found is not None
    assert found.sid == NUMBER["sid"]
    assert len(wire.exchanges) == 2
    assert "PhoneNumber=%2B14155550100" in (wire.exchanges[0].request.url or "")

    assert gateway.find_messaging_service(TENANT, "acme-sms") is not None
    assert len(gateway.list_owned_numbers(TENANT)) == 2


def test_search_sends_every_filter(gateway: TwilioGateway, wire: RecordingAdapter) -> None:
    found = CALLS["search_available_numbers"][0](gateway)
    assert [n.phone_number for n in found] == ["+14155550100"]
    query = dict(parse_qsl(urlsplit(wire.exchanges[0].request.url or "").query))
    assert query == {
        "SmsEnabled": "true",
        "InRegion": "CA",
        "InPostalCode": "94105",
        "AreaCode": "415",
        "NearLatLong": "37.79,-122.39",
        "Contains": "555",
        "PageSize": "5",
    }
    assert urlsplit(wire.exchanges[0].request.url or "").path.endswith(
        "/AvailablePhoneNumbers/US/Local.json"
    )


@pytest.mark.parametrize(
    ("number_type", "resource"),
    [("local", "Local"), ("mobile", "Mobile"), ("national", "National"), ("toll-free", "TollFree")],
)
def test_search_picks_the_resource_by_number_type(
    number_type: Any, resource: str, gateway: TwilioGateway, wire: RecordingAdapter
) -> None:
    gateway.search_available_numbers(TENANT, "GB", number_type)
    url = urlsplit(wire.exchanges[0].request.url or "")
    assert (
        url.path
        == f"/2010-04-01/Accounts/{TENANT.account_sid}/AvailablePhoneNumbers/GB/{resource}.json"
    )
    validate_request(wire.exchanges[0].request)


def test_buy_number_form(gateway: TwilioGateway, wire: RecordingAdapter) -> None:
    bought = CALLS["buy_number"][0](gateway)
    assert bought.sid == NUMBER["sid"]
    (exchange,) = wire.exchanges
    body = exchange.request.body
    form = dict(parse_qsl(body.decode() if isinstance(body, bytes) else body or ""))
    assert form == {
        "PhoneNumber": "+14155550100",
        "FriendlyName": "store-1",
        "AddressSid": sid("AD"),
        "BundleSid": sid("BU"),
        "VoiceApplicationSid": sid("AP"),
    }


def test_number_prices_are_read_once_per_country(
    gateway: TwilioGateway, wire: RecordingAdapter
) -> None:
    """The current price (after any discount) in the port's number types, upper-case
    currency; a second question about the same country costs no call."""
    assert gateway.monthly_number_price("us", "toll-free") == MonthlyPrice("2.00", "USD")
    assert gateway.monthly_number_price("US", "local") == MonthlyPrice("1.15", "USD")
    assert gateway.monthly_number_price("US", "mobile") is None  # Twilio lists none
    (exchange,) = wire.exchanges
    assert urlsplit(exchange.request.url or "").path == "/v1/PhoneNumbers/Countries/US"


def test_bundle_details(gateway: TwilioGateway, wire: RecordingAdapter) -> None:
    bundle = gateway.fetch_bundle(TENANT, sid("BU"))
    assert bundle.iso_country == "DE"
    assert bundle.number_type == "local"
    assert bundle.failure_reason == "A Business End-User is missing.; Name is missing."
    assert gateway.bundle_address_sid(TENANT, sid("BU")) == sid("AD")
    docs = gateway.list_bundle_documents(TENANT, sid("BU"))
    assert [(d.sid, d.status, d.date_created) for d in docs] == [
        (sid("RD"), "approved", "2026-01-01T10:00:00Z")
    ]
    # The regulation is fetched once and then cached.
    wire.exchanges.clear()
    gateway.list_bundles(TENANT)
    paths = [urlsplit(e.request.url or "").path for e in wire.exchanges]
    assert not any("/Regulations/" in p for p in paths)


def test_sender_body(gateway: TwilioGateway, wire: RecordingAdapter) -> None:
    sender = CALLS["create_sender"][0](gateway)
    assert (sender.sid, sender.status, sender.waba_id) == (sid("XE"), "CREATING", "1234567890")
    assert (sender.quality_rating, sender.messaging_limit) == ("HIGH", "1K Customers/24hr")
    (exchange,) = wire.exchanges
    assert json.loads(exchange.request.body or b"") == {
        "sender_id": "whatsapp:+14155550100",
        "configuration": {"waba_id": "1234567890"},
        "webhook": {
            "status_callback_url": "https://example.test/cb",
            "status_callback_method": "POST",
        },
        "profile": {
            "name": "Acme Store 1",
            "about": "Your store",
            "address": "1 Main St",
            "description": "Clienteling",
            "logo_url": "https://example.test/logo.png",
            "emails": [{"email": "store1@example.test"}],
            "websites": [{"website": "https://example.test"}],
        },
    }


def prepared(method: str, url: str, **kwargs: Any) -> requests.PreparedRequest:
    return requests.Request(method, url, **kwargs).prepare()


@pytest.mark.parametrize(
    ("request_", "complaint"),
    [
        (prepared("GET", "https://api.twilio.com/2010-04-01/Nowhere.json"), "no path template"),
        (prepared("DELETE", "https://api.twilio.com/2010-04-01/Accounts.json"), "has no DELETE"),
        (
            prepared("GET", "https://api.twilio.com/2010-04-01/Accounts.json?Colour=red"),
            "undeclared parameter(s) ['Colour']",
        ),
        (
            prepared("POST", "https://messaging.twilio.com/v1/Services", data={"Name": "x"}),
            "undeclared parameter(s) ['Name']",
        ),
        (
            prepared("POST", "https://messaging.twilio.com/v1/Services", data={"Usecase": "x"}),
            "required parameter(s) missing: ['FriendlyName']",
        ),
        (
            prepared("POST", "https://messaging.twilio.com/v2/Channels/Senders", json={"x": 1}),
            "sender_id",
        ),
        (
            prepared(
                "POST",
                "https://messaging.twilio.com/v2/Channels/Senders",
                json={"sender_id": "whatsapp:+1", "profile": {"nickname": "x"}},
            ),
            "body.profile.nickname is not declared",
        ),
    ],
)
def test_the_checker_rejects_what_twilio_would(
    request_: requests.PreparedRequest, complaint: str
) -> None:
    with pytest.raises((AssertionError, jsonschema.ValidationError), match=re.escape(complaint)):
        validate_request(request_)


# -- the same calls against the emulator, judged on both sides ------------------------------------
@dataclass
class HookExchange:
    method: str
    url: str  # as the SDK built it: https://{sub}.twilio.com/...
    params: dict[str, Any]
    data: Any
    headers: dict[str, str]
    status: int
    text: str


class RecordingHttpClient(GatewayHttpClient):
    """The gateway's HTTP client, keeping what the SDK asked for and what came back."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.exchanges: list[HookExchange] = []

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        response = super().request(method, url, params=params, data=data, headers=headers, **kwargs)
        self.exchanges.append(
            HookExchange(
                method, url, dict(params or {}), data, dict(headers or {}),
                int(response.status_code), response.text,
            )
        )  # fmt: skip
        return response


class Tracking:
    """Forwards to the gateway and remembers which port methods were exercised."""

    def __init__(self, gateway: TwilioGateway) -> None:
        self.gateway = gateway
        self.used: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.used.add(name)
        return getattr(self.gateway, name)


def judge(exchange: HookExchange) -> None:
    url = urlsplit(exchange.url)
    host = url.hostname or ""
    assert host.endswith(".twilio.com"), exchange.url
    query = {**dict(parse_qsl(url.query)), **exchange.params}
    where = f"{exchange.method} {url.path}"
    if exchange.headers.get("Content-Type") == "application/json":
        oai.validate_request(host, exchange.method, url.path, query, json_body=exchange.data)
    elif exchange.method == "POST":
        assert not query, f"{where}: form fields in the query string"
        oai.validate_request(host, exchange.method, url.path, dict(exchange.data or {}))
    else:
        assert not exchange.data, f"{where} has a body"
        oai.validate_request(host, exchange.method, url.path, query)

    body = json.loads(exchange.text) if exchange.text else None
    if exchange.status < 400:
        oai.validate_response(host, exchange.method, url.path, exchange.status, body)
    else:
        assert isinstance(body, dict), where
        assert {"code", "message", "status"} <= set(body), f"{where}: not Twilio's error body"


SECONDARY = "RNdfbf3fae0e1107f8aded0e7cead80bf5"
A2P_PROFILE = "RNb0d4771c2c98518d916a3d4cd70a8f8b"


def a2p_registration_against_the_emulator(
    g: Any, t: AccountCredentials, state: Any, service_sid: str
) -> None:
    """Every A2P call of the port, in the order of Twilio's ISV guide."""
    address = g.create_address(
        t,
        friendly_name="contract-a2p-address",
        customer_name="Acme Retail Inc",
        street="1 Main St",
        street_secondary="Suite 2",
        city="Austin",
        region="TX",
        postal_code="78701",
        iso_country="US",
    )
    assert address in g.list_addresses(t, "US")
    profile = g.create_customer_profile(t, "contract-profile", "ops@example.test", SECONDARY)
    assert g.find_customer_profile(t, "contract-profile", SECONDARY) == profile
    business = g.create_end_user(
        t, "contract-business", "customer_profile_business_information", {"business_name": "A"}
    )
    assert g.find_end_user(t, "contract-business", business.type) == business
    document = g.create_trust_document(
        t, "contract-address", "customer_profile_address", {"address_sids": "AD" + "1" * 32}
    )
    assert g.find_trust_document(t, "contract-address", "customer_profile_address") == document
    for object_sid in (business.sid, document):
        g.assign_to_customer_profile(t, profile.sid, object_sid)
    assert g.customer_profile_object_sids(t, profile.sid) == [business.sid, document]
    evaluation = g.evaluate_customer_profile(t, profile.sid, SECONDARY)
    assert evaluation.status == "noncompliant"
    assert "business_type: business_type is required" in evaluation.failures
    g.update_end_user(t, business.sid, {"business_name": "Acme"})
    assert g.submit_customer_profile(t, profile.sid).status == "pending-review"
    state.set_customer_profile_status(profile.sid, "twilio-rejected", "EIN does not match")
    assert g.fetch_customer_profile(t, profile.sid).failure_reason == "EIN does not match"

    product = g.create_trust_product(t, "contract-a2p", "ops@example.test", A2P_PROFILE)
    assert g.find_a2p_trust_product(t, "contract-a2p", A2P_PROFILE) == product
    a2p_user = g.create_end_user(
        t, "contract-a2p-user", "us_a2p_messaging_profile_information", {"company_type": "private"}
    )
    g.assign_to_trust_product(t, product.sid, a2p_user.sid)
    g.assign_to_trust_product(t, product.sid, profile.sid)
    assert g.trust_product_object_sids(t, product.sid) == [a2p_user.sid, profile.sid]
    assert g.evaluate_trust_product(t, product.sid, A2P_PROFILE).status == "compliant"
    assert g.submit_trust_product(t, product.sid).status == "pending-review"
    state.set_customer_profile_status(profile.sid, "twilio-approved")
    state.set_trust_product_status(t.account_sid, product.sid, "twilio-approved")

    brand = g.create_brand_registration(t, profile.sid, product.sid, low_volume=True)
    assert brand.low_volume
    assert brand.status == "PENDING"
    assert g.list_brand_registrations(t) == [brand]
    state.set_brand_status(brand.sid, "FAILED", "The EIN does not match the legal name.")
    failed = g.fetch_brand_registration(t, brand.sid)
    assert failed.failure_reason == "The EIN does not match the legal name."
    assert g.resubmit_brand_registration(t, brand.sid).status == "PENDING"
    state.set_brand_status(brand.sid, "APPROVED")
    assert "CUSTOMER_CARE" in g.list_a2p_usecases(t, service_sid, brand.sid)
    assert g.find_campaign(t, service_sid) is None
    content = dict(
        description="Store associates follow up with their clients.",
        message_flow="Clients opt in at the till.",
        message_samples=["Hi Ada, your order is ready.", "Hi Ada, the new season is in."],
        has_embedded_links=True,
        has_embedded_phone=False,
    )
    campaign = g.create_campaign(
        t,
        service_sid,
        brand_sid=brand.sid,
        usecase="CUSTOMER_CARE",
        opt_in_message="Acme: opted in.",
        opt_out_message="Acme: opted out.",
        help_message="Acme: reply STOP to opt out.",
        opt_in_keywords=["START"],
        opt_out_keywords=["STOP"],
        help_keywords=["HELP"],
        **content,
    )
    assert g.find_campaign(t, service_sid) == campaign
    state.set_campaign_status(campaign.sid, "FAILED")
    assert g.fetch_campaign(t, service_sid, campaign.sid).errors
    assert g.update_campaign(t, service_sid, campaign.sid, **content).status == "IN_PROGRESS"


def test_every_gateway_call_against_the_emulator() -> None:
    from twilio_emulator import EmulatorServer, EmulatorState

    state = EmulatorState(seed=3)
    server = EmulatorServer(state, host="127.0.0.1", port=0).start()
    http = RecordingHttpClient(base_url=server.base_url, timeout=5.0)
    try:
        g = Tracking(
            TwilioGateway(state.master_account_sid, state.master_auth_token, http_client=http)
        )
        sub = g.create_subaccount("tenant-contract")
        assert g.find_subaccount("tenant-contract") == sub
        assert g.fetch_subaccount(sub.sid).status == "active"
        assert sub.sid in [a.sid for a in g.list_subaccounts()]
        t = AccountCredentials(sub.sid, sub.auth_token)

        service = g.create_messaging_service(t, "contract-sms")
        assert g.find_messaging_service(t, "contract-sms") == service
        app = g.create_application(t, "contract-fwd", "https://example.test/voice")
        assert g.find_application(t, "contract-fwd") == app
        g.update_application(t, app.sid, "https://example.test/voice2")

        (us,) = g.search_available_numbers(t, "US", "local", in_region="CA", contains="5", limit=1)
        assert g.search_available_numbers(t, "US", "mobile") == []
        number = g.buy_number(t, us.phone_number, friendly_name="s1", voice_application_sid=app.sid)
        assert g.find_owned_number(t, us.phone_number) == number
        assert g.list_owned_numbers(t) == [number]
        assert g.fetch_owned_number(t, number.sid) == number
        g.set_number_voice_application(t, number.sid, app.sid)
        assert not g.messaging_service_has_number(t, service.sid, number.sid)
        g.add_number_to_messaging_service(t, service.sid, number.sid)
        g.add_number_to_messaging_service(t, service.sid, number.sid)  # 21710: success
        assert g.messaging_service_has_number(t, service.sid, number.sid)

        assert g.monthly_number_price("US", "local") == MonthlyPrice("1.15", "USD")
        assert g.monthly_number_price("AU", "mobile") == MonthlyPrice("6.50", "USD")
        assert g.monthly_number_price("US", "mobile") is None  # not sold there
        assert g.monthly_number_price("JP", "local") is None  # Twilio's 404: not one of the nine

        assert g.list_addresses(t, "DE")
        assert g.list_bundles(t)
        rejected = next(b for b in g.list_bundles(t, "FR") if b.status == "twilio-rejected")
        assert g.fetch_bundle(t, rejected.sid).failure_reason
        assert g.bundle_address_sid(t, rejected.sid)
        assert g.list_bundle_documents(t, rejected.sid)
        assert g.list_regulations(t, "DE", "mobile")
        product = g.list_trust_products(t)[0]
        assert g.fetch_trust_product(t, product.sid) == product
        assert g.list_trust_product_documents(t, product.sid)

        sender = g.create_sender(
            t,
            sender_id=f"whatsapp:{number.phone_number}",
            waba_id="1234567890",
            profile=PROFILE,
            status_callback_url="http://127.0.0.1:9/callbacks",
        )
        assert g.fetch_sender(t, sender.sid).sid == sender.sid
        g.update_sender(t, sender.sid, profile=PROFILE, status_callback_url="http://127.0.0.1:9/cb")
        assert [s.sid for s in g.list_senders(t)] == [sender.sid]

        a2p_registration_against_the_emulator(g, t, state, service.sid)

        # Taking it all down; each delete repeated finds it gone (Twilio's 404) and succeeds.
        for _ in range(2):
            g.delete_sender(t, sender.sid)
            g.remove_number_from_messaging_service(t, service.sid, number.sid)
        assert g.list_senders(t) == []
        assert not g.messaging_service_has_number(t, service.sid, number.sid)
        for _ in range(2):
            g.release_number(t, number.sid)  # Twilio's 404 for a released SID counts as done
            g.delete_application(t, app.sid)
            g.delete_messaging_service(t, service.sid)
        assert g.find_owned_number(t, number.phone_number) is None
        assert number.phone_number not in [
            n.phone_number for n in g.search_available_numbers(t, "US", "local", limit=1000)
        ]
        assert g.list_owned_numbers(t) == []
        with pytest.raises(NotFound):
            g.fetch_owned_number(t, number.sid)
        assert g.find_application(t, "contract-fwd") is None
        assert g.find_messaging_service(t, "contract-sms") is None
        assert g.close_subaccount(sub.sid).status == "closed"
        assert g.close_subaccount(sub.sid).status == "closed"
        assert g.fetch_subaccount(sub.sid).status == "closed"
        assert g.find_subaccount("tenant-contract") is None
    finally:
        http.session.close()
        server.stop()

    assert g.used == set(CALLS)
    assert len(http.exchanges) >= len(CALLS)
    for exchange in http.exchanges:
        judge(exchange)
