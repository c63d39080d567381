"""Every route the Twilio emulator serves, answered for real and judged by Twilio's OpenAPI files.

One scenario drives the emulator over HTTP through all its routes (requests checked with
`oai.validate_request`, so the scenario itself speaks Twilio). Then, per route, each successful
answer must validate against the OAI response schema of that operation and status, with every
declared field present and no undeclared one; error answers must be Twilio's error body.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.contract import oai
from twilio_emulator import EmulatorServer, EmulatorState
from twilio_emulator.api_pricing import PRICING_TYPE_NAMES
from twilio_emulator.countries import COUNTRIES
from twilio_emulator.isv import primary_customer_profile_sid
from twilio_emulator.routing import ROUTES, Route, resolve


@dataclass
class Exchange:
    method: str
    host: str
    path: str
    status: int
    body: Any


class Recorder:
    def __init__(self, server: EmulatorServer) -> None:
        self.base = server.base_url
        self.http = httpx.Client(timeout=10)
        self.exchanges: list[Exchange] = []

    def call(
        self,
        auth: tuple[str, str],
        method: str,
        host: str,
        path: str,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        expect: int | None = None,
    ) -> Any:
        oai.validate_request(host, method, path, params, json_body)
        url = f"{self.base}/{host}{path}"
        if method == "GET":
            response = self.http.get(url, params=params, auth=auth)
        elif json_body is not None:
            response = self.http.request(method, url, json=json_body, auth=auth)
        else:
            response = self.http.request(method, url, data=params, auth=auth)
        body = response.json() if response.content else None
        self.exchanges.append(Exchange(method, host, path, response.status_code, body))
        if expect is not None:
            assert response.status_code == expect, (method, path, response.status_code, body)
        return body


def run_scenario(rec: Recorder, state: EmulatorState) -> None:
    master = (state.master_account_sid, state.master_auth_token)
    api = "/2010-04-01/Accounts"
    sub = rec.call(
        master, "POST", "api", f"{api}.json", {"FriendlyName": "tenant-contract"}, expect=201
    )
    acc, creds = sub["sid"], (sub["sid"], sub["auth_token"])
    rec.call(master, "GET", "api", f"{api}.json", {"FriendlyName": "tenant-contract"}, expect=200)
    rec.call(master, "GET", "api", f"{api}.json", {"Status": "active", "PageSize": 1}, expect=200)
    rec.call(creds, "GET", "api", f"{api}/{acc}.json", expect=200)
    rec.call(master, "POST", "api", f"{api}/{acc}.json", {"FriendlyName": "tenant-c"}, expect=200)
    base = f"{api}/{acc}"

    gb_addresses = rec.call(creds, "GET", "api", f"{base}/Addresses.json", {"IsoCountry": "GB"})
    gb_address = gb_addresses["addresses"][0]["sid"]
    address = rec.call(
        creds,
        "POST",
        "api",
        f"{base}/Addresses.json",
        {
            "CustomerName": "Shop",
            "Street": "1 Main St",
            "City": "Austin",
            "Region": "TX",
            "PostalCode": "78701",
            "IsoCountry": "US",
            "FriendlyName": "Austin store",
        },
        expect=201,
    )
    rec.call(creds, "GET", "api", f"{base}/Addresses/{address['sid']}.json", expect=200)

    app = rec.call(
        creds,
        "POST",
        "api",
        f"{base}/Applications.json",
        {
            "FriendlyName": "call-forwarding",
            "VoiceUrl": "https://example.com/voice",
            "VoiceMethod": "POST",
        },
        expect=201,
    )
    rec.call(creds, "GET", "api", f"{base}/Applications.json", {"FriendlyName": "call-forwarding"})
    rec.call(creds, "GET", "api", f"{base}/Applications/{app['sid']}.json", expect=200)
    rec.call(
        creds,
        "POST",
        "api",
        f"{base}/Applications/{app['sid']}.json",
        {"VoiceUrl": "https://example.com/v2"},
        expect=200,
    )
    spare = rec.call(creds, "POST", "api", f"{base}/Applications.json", {"FriendlyName": "x"})
    rec.call(creds, "DELETE", "api", f"{base}/Applications/{spare['sid']}.json", expect=204)

    available = f"{base}/AvailablePhoneNumbers"
    us = rec.call(
        creds,
        "GET",
        "api",
        f"{available}/US/Local.json",
        {"SmsEnabled": "true", "InRegion": "CA", "PageSize": 5},
        expect=200,
    )
    rec.call(creds, "GET", "api", f"{available}/US/TollFree.json", {"Contains": "8**"}, expect=200)
    gb = rec.call(creds, "GET", "api", f"{available}/GB/Mobile.json", {"SmsEnabled": "true"})
    rec.call(creds, "GET", "api", f"{available}/FR/National.json", expect=200)
    rec.call(creds, "GET", "api", f"{available}/US/Mobile.json", expect=404)

    numbers = f"{base}/IncomingPhoneNumbers"
    bought = rec.call(
        creds,
        "POST",
        "api",
        f"{numbers}.json",
        {
            "PhoneNumber": us["available_phone_numbers"][0]["phone_number"],
            "FriendlyName": "store-1",
            "VoiceApplicationSid": app["sid"],
        },
        expect=201,
    )
    bundles = rec.call(
        creds,
        "GET",
        "numbers",
        "/v2/RegulatoryCompliance/Bundles",
        {"IsoCountry": "GB", "NumberType": "mobile", "Status": "twilio-approved"},
        expect=200,
    )
    bundle = bundles["results"][0]["sid"]
    rec.call(
        creds,
        "POST",
        "api",
        f"{numbers}.json",
        {
            # Everything onboarding sets, in the purchase itself (one call per number).
            "PhoneNumber": gb["available_phone_numbers"][0]["phone_number"],
            "AddressSid": gb_address,
            "BundleSid": bundle,
            "FriendlyName": "clienteling:acme:store:gb-1",
            "VoiceApplicationSid": app["sid"],
        },
        expect=201,
    )
    rec.call(
        creds,
        "POST",
        "api",
        f"{numbers}.json",
        {"PhoneNumber": gb["available_phone_numbers"][1]["phone_number"]},
        expect=400,
    )
    rec.call(creds, "GET", "api", f"{numbers}.json", {"PhoneNumber": bought["phone_number"]})
    rec.call(creds, "GET", "api", f"{numbers}/{bought['sid']}.json", expect=200)
    rec.call(
        creds,
        "POST",
        "api",
        f"{numbers}/{bought['sid']}.json",
        {"FriendlyName": "store-1 main"},
        expect=200,
    )
    extra = rec.call(
        creds,
        "POST",
        "api",
        f"{numbers}.json",
        {"PhoneNumber": us["available_phone_numbers"][1]["phone_number"]},
    )
    rec.call(creds, "DELETE", "api", f"{numbers}/{extra['sid']}.json", expect=204)
    # Released: gone from the account (a second release is 20404), and not for sale at once.
    rec.call(creds, "DELETE", "api", f"{numbers}/{extra['sid']}.json", expect=404)
    again = rec.call(
        creds, "POST", "api", f"{numbers}.json", {"PhoneNumber": extra["phone_number"]}, expect=400
    )
    assert again["code"] == 21422

    svc = rec.call(
        creds, "POST", "messaging", "/v1/Services", {"FriendlyName": "tenant"}, expect=201
    )
    rec.call(creds, "GET", "messaging", "/v1/Services", expect=200)
    rec.call(creds, "GET", "messaging", f"/v1/Services/{svc['sid']}", expect=200)
    rec.call(
        creds,
        "POST",
        "messaging",
        f"/v1/Services/{svc['sid']}",
        {"FriendlyName": "tenant services"},
        expect=200,
    )
    spare_svc = rec.call(creds, "POST", "messaging", "/v1/Services", {"FriendlyName": "spare"})
    rec.call(creds, "DELETE", "messaging", f"/v1/Services/{spare_svc['sid']}", expect=204)
    rec.call(creds, "DELETE", "messaging", f"/v1/Services/{spare_svc['sid']}", expect=404)
    svc_numbers = f"/v1/Services/{svc['sid']}/PhoneNumbers"
    rec.call(creds, "POST", "messaging", svc_numbers, {"PhoneNumberSid": bought["sid"]}, expect=201)
    rec.call(creds, "POST", "messaging", svc_numbers, {"PhoneNumberSid": bought["sid"]}, expect=409)
    rec.call(creds, "GET", "messaging", svc_numbers, expect=200)
    rec.call(creds, "GET", "messaging", f"{svc_numbers}/{bought['sid']}", expect=200)
    rec.call(creds, "DELETE", "messaging", f"{svc_numbers}/{bought['sid']}", expect=204)

    senders = "/v2/Channels/Senders"
    state.mark_waba_bad("999")
    online = rec.call(
        creds,
        "POST",
        "messaging",
        senders,
        json_body={
            "sender_id": f"whatsapp:{bought['phone_number']}",
            "configuration": {"waba_id": "123"},
            "profile": {
                "name": "Shop",
                "about": "Hi",
                "emails": [{"email": "a@b.example"}],
                "websites": [{"website": "https://shop.example", "label": "Shop"}],
            },
            "webhook": {"status_callback_url": "http://127.0.0.1:9/cb"},
        },
        expect=202,
    )
    rec.call(
        creds,
        "POST",
        "messaging",
        senders,
        json_body={
            "sender_id": "whatsapp:+14155550100",
            "configuration": {"waba_id": "999"},
        },
        expect=202,
    )
    state.callback_timeout = 0.5
    state.advance_clock(60)
    rec.call(creds, "GET", "messaging", senders, {"Channel": "whatsapp"}, expect=200)
    rec.call(creds, "GET", "messaging", f"{senders}/{online['sid']}", expect=200)
    rec.call(
        creds,
        "POST",
        "messaging",
        f"{senders}/{online['sid']}",
        json_body={"profile": {"about": "New"}},
        expect=202,
    )
    temp = rec.call(
        creds, "POST", "messaging", senders, json_body={"sender_id": "whatsapp:+14155550101"}
    )
    rec.call(creds, "DELETE", "messaging", f"{senders}/{temp['sid']}", expect=204)

    rc = "/v2/RegulatoryCompliance"
    rec.call(creds, "GET", "numbers", f"{rc}/Bundles/{bundle}", expect=200)
    rejected = rec.call(creds, "GET", "numbers", f"{rc}/Bundles", {"Status": "twilio-rejected"})
    rejected_sid = rejected["results"][0]["sid"]
    items = rec.call(creds, "GET", "numbers", f"{rc}/Bundles/{rejected_sid}/ItemAssignments")
    evaluations = rec.call(creds, "GET", "numbers", f"{rc}/Bundles/{rejected_sid}/Evaluations")
    rec.call(
        creds,
        "GET",
        "numbers",
        f"{rc}/Bundles/{rejected_sid}/Evaluations/{evaluations['results'][0]['sid']}",
        expect=200,
    )
    for item in items["results"]:
        if item["object_sid"].startswith("RD"):
            rec.call(creds, "GET", "numbers", f"{rc}/SupportingDocuments/{item['object_sid']}")
    rec.call(creds, "GET", "numbers", f"{rc}/SupportingDocuments", expect=200)
    regulations = rec.call(
        creds,
        "GET",
        "numbers",
        f"{rc}/Regulations",
        {"IsoCountry": "DE", "NumberType": "mobile", "EndUserType": "business"},
        expect=200,
    )
    rec.call(creds, "GET", "numbers", f"{rc}/Regulations/{regulations['results'][0]['sid']}")

    products = rec.call(creds, "GET", "trusthub", "/v1/TrustProducts", expect=200)
    product = products["results"][0]["sid"]
    rec.call(creds, "GET", "trusthub", f"/v1/TrustProducts/{product}", expect=200)
    entities = rec.call(creds, "GET", "trusthub", f"/v1/TrustProducts/{product}/EntityAssignments")
    for item in entities["results"]:
        if item["object_sid"].startswith("RD"):
            rec.call(creds, "GET", "trusthub", f"/v1/SupportingDocuments/{item['object_sid']}")
    rec.call(creds, "GET", "trusthub", "/v1/SupportingDocuments", expect=200)

    run_a2p_scenario(rec, state, creds, svc["sid"])

    # closing a subaccount: its owner still sees it, closed; its own credentials stop working
    other = rec.call(master, "POST", "api", f"{api}.json", {"FriendlyName": "closing"})
    closed = {"Status": "closed"}
    rec.call(master, "POST", "api", f"{api}/{other['sid']}.json", closed, expect=200)
    rec.call(master, "POST", "api", f"{api}/{other['sid']}.json", closed, expect=200)
    rec.call(master, "GET", "api", f"{api}/{other['sid']}.json", expect=200)
    reopen = {"Status": "active"}
    rec.call(master, "POST", "api", f"{api}/{other['sid']}.json", reopen, expect=400)
    own = (other["sid"], other["auth_token"])
    rec.call(own, "GET", "api", f"{api}/{other['sid']}.json", expect=401)

    # number prices: the nine countries, each with a price per number type sold there
    countries = rec.call(master, "GET", "pricing", "/v1/PhoneNumbers/Countries", expect=200)
    listed = [c["iso_country"] for c in countries["countries"]]
    assert sorted(listed) == ["AU", "CA", "DE", "ES", "FR", "GB", "IT", "NL", "US"]
    for iso in listed:
        prices = rec.call(creds, "GET", "pricing", f"/v1/PhoneNumbers/Countries/{iso}", expect=200)
        assert prices["price_unit"] == "USD", prices
        sold = {PRICING_TYPE_NAMES[kind] for kind in COUNTRIES[iso].types}
        assert {p["number_type"] for p in prices["phone_number_prices"]} == sold, iso
    rec.call(master, "GET", "pricing", "/v1/PhoneNumbers/Countries", {"PageSize": 2}, expect=200)
    rec.call(master, "GET", "pricing", "/v1/PhoneNumbers/Countries/JP", expect=404)

    # error answers
    rec.call(("AC" + "f" * 32, "nope"), "GET", "trusthub", "/v1/TrustProducts", expect=401)
    rec.call(creds, "GET", "numbers", f"{rc}/Bundles/BU{'0' * 32}", expect=404)


SECONDARY = "RNdfbf3fae0e1107f8aded0e7cead80bf5"
A2P_PROFILE = "RNb0d4771c2c98518d916a3d4cd70a8f8b"
BUSINESS = {
    "business_name": "Acme Retail Inc",
    "business_type": "Corporation",
    "business_industry": "RETAIL",
    "business_registration_identifier": "EIN",
    "business_registration_number": "12-3456789",
    "business_regions_of_operation": "USA_AND_CANADA",
    "website_url": "https://acme.example",
    "business_identity": "direct_customer",
}
REPRESENTATIVE = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@acme.example",
    "phone_number": "+12025550143",
    "business_title": "CEO",
    "job_position": "CEO",
}


def run_a2p_scenario(
    rec: Recorder, state: EmulatorState, creds: tuple[str, str], service_sid: str
) -> None:
    """The ISV flow of Twilio's A2P 10DLC onboarding guide, every new route at least once."""
    import json

    policies = rec.call(creds, "GET", "trusthub", "/v1/Policies", expect=200)
    assert {SECONDARY, A2P_PROFILE} <= {p["sid"] for p in policies["results"]}
    rec.call(creds, "GET", "trusthub", f"/v1/Policies/{SECONDARY}", expect=200)
    rec.call(creds, "GET", "trusthub", f"/v1/Policies/RN{'0' * 32}", expect=404)

    profile = rec.call(
        creds,
        "POST",
        "trusthub",
        "/v1/CustomerProfiles",
        {"FriendlyName": "acme", "Email": "ops@acme.example", "PolicySid": SECONDARY},
        expect=201,
    )
    cp = f"/v1/CustomerProfiles/{profile['sid']}"
    rec.call(creds, "GET", "trusthub", "/v1/CustomerProfiles", {"PolicySid": SECONDARY})
    rec.call(creds, "GET", "trusthub", cp, expect=200)
    rec.call(creds, "POST", "trusthub", cp, {"FriendlyName": "acme retail"}, expect=200)
    business = rec.call(
        creds,
        "POST",
        "trusthub",
        "/v1/EndUsers",
        {
            "FriendlyName": "acme business",
            "Type": "customer_profile_business_information",
            "Attributes": json.dumps({**BUSINESS, "business_registration_number": "12"}),
        },
        expect=201,
    )
    rep = rec.call(
        creds,
        "POST",
        "trusthub",
        "/v1/EndUsers",
        {
            "FriendlyName": "acme representative",
            "Type": "authorized_representative_1",
            "Attributes": json.dumps(REPRESENTATIVE),
        },
        expect=201,
    )
    rec.call(creds, "GET", "trusthub", "/v1/EndUsers", expect=200)
    rec.call(creds, "GET", "trusthub", f"/v1/EndUsers/{rep['sid']}", expect=200)
    doc = rec.call(
        creds,
        "POST",
        "trusthub",
        "/v1/SupportingDocuments",
        {
            "FriendlyName": "acme address",
            "Type": "customer_profile_address",
            "Attributes": json.dumps({"address_sids": "AD" + "1" * 32}),
        },
        expect=201,
    )
    assignments = f"{cp}/EntityAssignments"
    for sid in (business["sid"], rep["sid"], doc["sid"]):
        rec.call(creds, "POST", "trusthub", assignments, {"ObjectSid": sid}, expect=201)
    rec.call(creds, "POST", "trusthub", assignments, {"ObjectSid": rep["sid"]}, expect=400)
    rec.call(creds, "GET", "trusthub", assignments, {"ObjectType": "end_user"}, expect=200)
    evaluations = f"{cp}/Evaluations"
    failed = rec.call(creds, "POST", "trusthub", evaluations, {"PolicySid": SECONDARY}, expect=201)
    assert failed["status"] == "noncompliant"
    fields = [i["object_field"] for r in failed["results"] for i in r["invalid"]]
    # Twilio's ISV guide: the ISV's own (the parent account's) approved primary profile too.
    assert fields == ["business_registration_number", "primary_customer_profile"], failed
    primary = primary_customer_profile_sid(state.master_account_sid)
    rec.call(creds, "POST", "trusthub", assignments, {"ObjectSid": primary}, expect=201)
    rec.call(
        creds,
        "POST",
        "trusthub",
        f"/v1/EndUsers/{business['sid']}",
        {"Attributes": json.dumps(BUSINESS)},
        expect=200,
    )
    passed = rec.call(creds, "POST", "trusthub", evaluations, {"PolicySid": SECONDARY}, expect=201)
    assert passed["status"] == "compliant", passed
    rec.call(creds, "GET", "trusthub", evaluations, expect=200)
    rec.call(creds, "GET", "trusthub", f"{evaluations}/{passed['sid']}", expect=200)
    submitted = rec.call(creds, "POST", "trusthub", cp, {"Status": "pending-review"}, expect=200)
    assert submitted["status"] == "pending-review"

    product = rec.call(
        creds,
        "POST",
        "trusthub",
        "/v1/TrustProducts",
        {"FriendlyName": "acme a2p", "Email": "ops@acme.example", "PolicySid": A2P_PROFILE},
        expect=201,
    )
    tp = f"/v1/TrustProducts/{product['sid']}"
    a2p_user = rec.call(
        creds,
        "POST",
        "trusthub",
        "/v1/EndUsers",
        {
            "FriendlyName": "acme a2p profile",
            "Type": "us_a2p_messaging_profile_information",
            "Attributes": json.dumps({"company_type": "private"}),
        },
        expect=201,
    )
    for sid in (a2p_user["sid"], profile["sid"]):
        rec.call(
            creds, "POST", "trusthub", f"{tp}/EntityAssignments", {"ObjectSid": sid}, expect=201
        )
    tp_eval = rec.call(
        creds, "POST", "trusthub", f"{tp}/Evaluations", {"PolicySid": A2P_PROFILE}, expect=201
    )
    assert tp_eval["status"] == "compliant", tp_eval
    rec.call(creds, "GET", "trusthub", f"{tp}/Evaluations", expect=200)
    rec.call(creds, "GET", "trusthub", f"{tp}/Evaluations/{tp_eval['sid']}", expect=200)
    rec.call(creds, "POST", "trusthub", tp, {"Status": "pending-review"}, expect=200)
    rec.call(creds, "POST", "trusthub", tp, {"Status": "pending-review"}, expect=400)

    brand = rec.call(
        creds,
        "POST",
        "messaging",
        "/v1/a2p/BrandRegistrations",
        {"CustomerProfileBundleSid": profile["sid"], "A2PProfileBundleSid": product["sid"]},
        expect=201,
    )
    assert brand["status"] == "PENDING"
    bn = f"/v1/a2p/BrandRegistrations/{brand['sid']}"
    rec.call(creds, "GET", "messaging", "/v1/a2p/BrandRegistrations", expect=200)
    campaign_form = {
        "BrandRegistrationSid": brand["sid"],
        "Description": "Store associates answer and follow up with their clients.",
        "MessageFlow": "Clients opt in at the till by ticking the SMS box.",
        "MessageSamples": ["Hi Ada, your order is ready.", "Hi Ada, the new season is in."],
        "UsAppToPersonUsecase": "CUSTOMER_CARE",
        "HasEmbeddedLinks": "true",
        "HasEmbeddedPhone": "false",
        "OptInKeywords": ["START"],
        "OptOutKeywords": ["STOP", "UNSUBSCRIBE"],
        "OptInMessage": "Acme: you are opted in. Reply STOP to opt out.",
        "OptOutMessage": "Acme: you are opted out.",
    }
    usa2p = f"/v1/Services/{service_sid}/Compliance/Usa2p"
    rec.call(creds, "POST", "messaging", usa2p, campaign_form, expect=400)  # brand not approved
    state.advance_clock(state.a2p_profile_review_seconds + state.brand_review_seconds)
    approved = rec.call(creds, "GET", "messaging", bn, expect=200)
    assert approved["status"] == "APPROVED", approved
    vettings = rec.call(creds, "GET", "messaging", f"{bn}/Vettings", expect=200)
    vetting_sid = vettings["data"][0]["brand_vetting_sid"]
    rec.call(creds, "GET", "messaging", f"{bn}/Vettings/{vetting_sid}", expect=200)
    rec.call(creds, "POST", "messaging", f"{bn}/Vettings", {"VettingProvider": "aegis"}, expect=201)
    usecases = rec.call(
        creds, "GET", "messaging", f"{usa2p}/Usecases", {"BrandRegistrationSid": brand["sid"]}
    )
    assert "CUSTOMER_CARE" in {u["code"] for u in usecases["us_app_to_person_usecases"]}
    campaign = rec.call(creds, "POST", "messaging", usa2p, campaign_form, expect=201)
    assert campaign["message_samples"] == campaign_form["MessageSamples"]
    assert campaign["opt_out_keywords"] == ["STOP", "UNSUBSCRIBE"]
    rec.call(creds, "POST", "messaging", usa2p, campaign_form, expect=409)
    rec.call(creds, "GET", "messaging", usa2p, expect=200)
    qe = f"{usa2p}/{campaign['sid']}"
    state.set_campaign_status(campaign["sid"], "FAILED")
    failed_campaign = rec.call(creds, "GET", "messaging", qe, expect=200)
    assert failed_campaign["errors"][0]["error_code"] == 30896
    update = {k: campaign_form[k] for k in ("Description", "MessageFlow", "MessageSamples")}
    update |= {"HasEmbeddedLinks": "true", "HasEmbeddedPhone": "false"}
    update |= {"AgeGated": "false", "DirectLending": "false"}
    resubmitted = rec.call(creds, "POST", "messaging", qe, update, expect=200)
    assert resubmitted["campaign_status"] == "IN_PROGRESS"
    state.advance_clock(state.campaign_review_seconds)
    verified = rec.call(creds, "GET", "messaging", qe, expect=200)
    assert verified["campaign_status"] == "VERIFIED", verified
    service = rec.call(creds, "GET", "messaging", f"/v1/Services/{service_sid}", expect=200)
    assert service["us_app_to_person_registered"] is True

    state.set_brand_status(brand["sid"], "FAILED", "The EIN does not match the legal name.")
    failed_brand = rec.call(creds, "GET", "messaging", bn, expect=200)
    assert failed_brand["failure_reason"] == "The EIN does not match the legal name."
    rec.call(creds, "POST", "messaging", bn, expect=202)
    rec.call(creds, "POST", "messaging", bn, expect=400)
    rec.call(creds, "DELETE", "messaging", qe, expect=204)
    rec.call(creds, "POST", "trusthub", f"/v1/EndUsers/{'IT' + '0' * 32}", expect=404)
    rec.call(creds, "DELETE", "trusthub", f"/v1/EndUsers/{a2p_user['sid']}", expect=204)


@pytest.fixture(scope="module")
def exchanges() -> Iterator[list[Exchange]]:
    state = EmulatorState(seed=7)
    server = EmulatorServer(state).start()
    recorder = Recorder(server)
    try:
        run_scenario(recorder, state)
        yield recorder.exchanges
    finally:
        recorder.http.close()
        server.stop()


def _route_of(exchange: Exchange) -> Route | None:
    try:
        return resolve(exchange.method, exchange.host, exchange.path)[0]
    except Exception:
        return None


@pytest.mark.parametrize(
    "route", ROUTES, ids=[f"{r.method} {r.host}{r.pattern.pattern[:70]}" for r in ROUTES]
)
def test_route_answers_match_twilio_oai(route: Route, exchanges: list[Exchange]) -> None:
    mine = [e for e in exchanges if _route_of(e) is route and e.status < 400]
    assert mine, f"the scenario never exercised {route.method} {route.host} {route.pattern.pattern}"
    for exchange in mine:
        oai.validate_response(
            exchange.host, exchange.method, exchange.path, exchange.status, exchange.body
        )


def test_error_answers_are_twilio_error_bodies(exchanges: list[Exchange]) -> None:
    errors = [e for e in exchanges if e.status >= 400]
    assert {e.status for e in errors} >= {400, 401, 404, 409}
    for exchange in errors:
        assert set(exchange.body) == {"code", "message", "more_info", "status"}, exchange
        assert exchange.body["status"] == exchange.status
        assert isinstance(exchange.body["code"], int)
        assert exchange.body["more_info"].endswith(str(exchange.body["code"]))


def test_validation_catches_a_wrong_field() -> None:
    """The oracle itself: an undeclared field, a missing one and a bad enum value all fail."""
    state = EmulatorState()
    body = dict(
        sid="PN" + "a" * 32, account_sid=state.master_account_sid, phone_number="+14155550100"
    )
    path = (
        f"/2010-04-01/Accounts/{state.master_account_sid}/IncomingPhoneNumbers/{body['sid']}.json"
    )
    with pytest.raises(AssertionError, match="schema violation"):
        oai.validate_response("api", "GET", path, 200, body)
    with pytest.raises(AssertionError, match="status 418 not declared"):
        oai.validate_response("api", "GET", path, 418, body)
    with pytest.raises(AssertionError, match="undeclared parameter"):
        oai.validate_request("api", "POST", path, {"Voiceurl": "https://x.example"})
