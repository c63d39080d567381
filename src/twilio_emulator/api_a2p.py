"""US A2P 10DLC: trusthub v1 (Policies, CustomerProfiles, EndUsers, trust product writes,
entity assignments, evaluations) and messaging v1 (BrandRegistrations, their Vettings, and the
`Compliance/Usa2p` campaigns and Usecases of a Messaging Service). See `a2p.py` for the rules.

Like the other v1 APIs they act on the authenticated account itself.
"""

from __future__ import annotations

import json
from typing import Any

from . import a2p, render
from .errors import TwilioError, invalid_param, not_found
from .models import (
    BrandRegistration,
    BrandVetting,
    Bundle,
    Campaign,
    Evaluation,
    ItemAssignment,
    SupportingDocument,
)
from .routing import SID, Ctx, page_v, record_routes, route

CP = r"/v1/CustomerProfiles"
TP = r"/v1/TrustProducts"
BRANDS = r"/v1/a2p/BrandRegistrations"
USA2P = rf"/v1/Services/(?P<MessagingServiceSid>MG{SID})/Compliance/Usa2p"


# ---------------------------------------------------------------------- policies
@route("GET", "trusthub", r"/v1/Policies")
def list_policies(ctx: Ctx) -> tuple[int, Any]:
    found = [(sid, name, req) for sid, (name, req) in a2p.POLICIES.items()]
    return page_v(ctx, "results", found, lambda p: render.policy(*p))


@route("GET", "trusthub", rf"/v1/Policies/(?P<Sid>RN{SID})")
def fetch_policy(ctx: Ctx) -> tuple[int, Any]:
    sid = ctx.groups["Sid"]
    if sid not in a2p.POLICIES:
        raise not_found(ctx.path)
    return 200, render.policy(sid, *a2p.POLICIES[sid])


# ---------------------------------------------------------------------- end users
def _attributes(ctx: Ctx) -> dict[str, Any]:
    raw = ctx.params.get("Attributes")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise invalid_param("Attributes must be a JSON object") from exc
    if not isinstance(value, dict):
        raise invalid_param("Attributes must be a JSON object")
    return value


@route("POST", "trusthub", r"/v1/EndUsers")
def create_end_user(ctx: Ctx) -> tuple[int, Any]:
    kind = ctx.require("Type")
    if kind not in a2p.REQUIRED_ATTRIBUTES:
        raise invalid_param(f"Type {kind!r} is not an end user type")
    user = a2p.new_end_user(
        ctx.state, ctx.account.sid, ctx.require("FriendlyName"), kind, _attributes(ctx)
    )
    return 201, render.end_user(user)


@route("GET", "trusthub", r"/v1/EndUsers")
def list_end_users(ctx: Ctx) -> tuple[int, Any]:
    return page_v(ctx, "results", ctx.state.end_users(ctx.account.sid), render.end_user)


def _update_end_user(ctx: Ctx, user: Any) -> None:
    if "FriendlyName" in ctx.params:
        user.friendly_name = ctx.params["FriendlyName"]
    if "Attributes" in ctx.params:
        user.attributes = _attributes(ctx)
    user.date_updated = ctx.state.now()


def _delete_end_user(ctx: Ctx, user: Any) -> None:
    del ctx.state.end_users_by_sid[user.sid]


record_routes(
    "trusthub",
    rf"/v1/EndUsers/(?P<Sid>IT{SID})",
    lambda ctx: ctx.owned(ctx.state.end_users_by_sid),
    render.end_user,
    _update_end_user,
    _delete_end_user,
)


@route("POST", "trusthub", r"/v1/SupportingDocuments")
def create_trust_document(ctx: Ctx) -> tuple[int, Any]:
    now = ctx.state.now()
    doc = SupportingDocument(
        ctx.state.new_sid("RD"),
        ctx.account.sid,
        ctx.require("FriendlyName"),
        ctx.require("Type"),
        "DRAFT",
        now,
        now,
        mime_type=None,
        attributes=_attributes(ctx),
    )
    ctx.state.trust_documents[doc.sid] = doc
    return 201, render.trust_document(doc)


# ---------------------------------------------------------------------- customer profiles and
# trust products: the same moves on two kinds of bundle
def _create_bundle(ctx: Ctx, records: dict[str, Bundle], policies: tuple[str, ...]) -> Bundle:
    policy_sid = ctx.require("PolicySid")
    if policy_sid not in policies:
        raise invalid_param(f"PolicySid {policy_sid} is not a policy of this resource")
    bundle = a2p.new_bundle(
        ctx.state,
        ctx.account.sid,
        policy_sid,
        ctx.require("FriendlyName"),
        ctx.require("Email"),
    )
    bundle.status_callback = ctx.params.get("StatusCallback") or None
    records[bundle.sid] = bundle
    return bundle


def _list_bundles(ctx: Ctx, records: list[Bundle]) -> list[Bundle]:
    return ctx.matching(
        records, Status="status", FriendlyName="friendly_name", PolicySid="regulation_sid"
    )


def _update_bundle(ctx: Ctx, bundle: Bundle) -> None:
    if "FriendlyName" in ctx.params:
        bundle.friendly_name = ctx.params["FriendlyName"]
    if "Email" in ctx.params:
        bundle.email = ctx.params["Email"]
    if "StatusCallback" in ctx.params:
        bundle.status_callback = ctx.params["StatusCallback"] or None
    status = ctx.params.get("Status")
    if status is None:
        bundle.date_updated = ctx.state.now()
        return
    if status != "pending-review":
        raise invalid_param("Status can only be set to pending-review (a submission)")
    if bundle.status in ("pending-review", "in-review", "twilio-approved"):
        raise TwilioError(400, 22211, f"The bundle {bundle.sid} is already {bundle.status}.")
    a2p.submit(ctx.state, bundle)


def _assign(ctx: Ctx, parent: Bundle, allowed: tuple[dict[str, Any], ...]) -> ItemAssignment:
    object_sid = ctx.require("ObjectSid")
    owner = next((r.get(object_sid) for r in allowed if object_sid in r), None)
    # The one object of another account it takes: its parent's (the ISV's) primary profile.
    isv_primary = (
        isinstance(owner, Bundle)
        and owner.regulation_sid == a2p.PRIMARY_CUSTOMER_PROFILE
        and owner.account_sid == ctx.account.owner_account_sid
    )
    if owner is None or (owner.account_sid != ctx.account.sid and not isv_primary):
        raise TwilioError(404, 20404, f"The requested resource {object_sid} was not found")
    if any(
        i.parent_sid == parent.sid and i.object_sid == object_sid
        for i in ctx.state.entity_assignments.values()
    ):
        raise TwilioError(400, 22226, f"{object_sid} is already assigned to {parent.sid}.")
    item = ItemAssignment(
        ctx.state.new_sid("BV"), parent.sid, ctx.account.sid, object_sid, ctx.state.now()
    )
    ctx.state.entity_assignments[item.sid] = item
    return item


def _assignments(ctx: Ctx, parent: Bundle) -> list[ItemAssignment]:
    items = [i for i in ctx.state.entity_assignments.values() if i.parent_sid == parent.sid]
    if object_type := ctx.params.get("ObjectType"):
        prefix = {"supporting_document": "RD", "end_user": "IT", "customer_profile": "BU"}
        items = [i for i in items if i.object_sid.startswith(prefix.get(object_type, "??"))]
    return items


def _evaluate(ctx: Ctx, parent: Bundle) -> Evaluation:
    if ctx.require("PolicySid") != parent.regulation_sid:
        raise invalid_param("PolicySid must be the policy of the bundle evaluated")
    return a2p.evaluate(ctx.state, parent)


def _evaluations(ctx: Ctx, parent: Bundle) -> list[Evaluation]:
    found = [e for e in ctx.state.evaluations.values() if e.bundle_sid == parent.sid]
    return list(reversed(found))  # the latest first, as Twilio lists them


def _one_evaluation(ctx: Ctx, parent: Bundle) -> Evaluation:
    evaluation = ctx.state.evaluations.get(ctx.groups["Sid"])
    if evaluation is None or evaluation.bundle_sid != parent.sid:
        raise not_found(ctx.path)
    return evaluation


def _profile(ctx: Ctx, group: str = "Sid") -> Bundle:
    return ctx.owned(ctx.state.customer_profiles_by_sid, group)


def _product(ctx: Ctx, group: str = "Sid") -> Bundle:
    return ctx.owned(ctx.state.trust_products_by_sid, group)


@route("POST", "trusthub", CP)
def create_customer_profile(ctx: Ctx) -> tuple[int, Any]:
    policies = (a2p.SECONDARY_CUSTOMER_PROFILE, a2p.PRIMARY_CUSTOMER_PROFILE)
    bundle = _create_bundle(ctx, ctx.state.customer_profiles_by_sid, policies)
    return 201, render.customer_profile(bundle)


@route("GET", "trusthub", CP)
def list_customer_profiles(ctx: Ctx) -> tuple[int, Any]:
    found = _list_bundles(ctx, ctx.state.customer_profiles(ctx.account.sid))
    return page_v(ctx, "results", found, render.customer_profile)


record_routes(
    "trusthub",
    rf"{CP}/(?P<Sid>BU{SID})",
    _profile,
    render.customer_profile,
    _update_bundle,
)


@route("POST", "trusthub", rf"{CP}/(?P<CustomerProfileSid>BU{SID})/EntityAssignments")
def assign_to_customer_profile(ctx: Ctx) -> tuple[int, Any]:
    profile = _profile(ctx, "CustomerProfileSid")
    state = ctx.state
    allowed = (state.end_users_by_sid, state.trust_documents, state.customer_profiles_by_sid)
    return 201, render.customer_profile_assignment(_assign(ctx, profile, allowed))


@route("GET", "trusthub", rf"{CP}/(?P<CustomerProfileSid>BU{SID})/EntityAssignments")
def list_customer_profile_assignments(ctx: Ctx) -> tuple[int, Any]:
    items = _assignments(ctx, _profile(ctx, "CustomerProfileSid"))
    return page_v(ctx, "results", items, render.customer_profile_assignment)


@route("POST", "trusthub", rf"{CP}/(?P<CustomerProfileSid>BU{SID})/Evaluations")
def evaluate_customer_profile(ctx: Ctx) -> tuple[int, Any]:
    evaluation = _evaluate(ctx, _profile(ctx, "CustomerProfileSid"))
    return 201, render.customer_profile_evaluation(evaluation)


@route("GET", "trusthub", rf"{CP}/(?P<CustomerProfileSid>BU{SID})/Evaluations")
def list_customer_profile_evaluations(ctx: Ctx) -> tuple[int, Any]:
    found = _evaluations(ctx, _profile(ctx, "CustomerProfileSid"))
    return page_v(ctx, "results", found, render.customer_profile_evaluation)


record_routes(
    "trusthub",
    rf"{CP}/(?P<CustomerProfileSid>BU{SID})/Evaluations/(?P<Sid>EL{SID})",
    lambda ctx: _one_evaluation(ctx, _profile(ctx, "CustomerProfileSid")),
    render.customer_profile_evaluation,
)


@route("POST", "trusthub", TP)
def create_trust_product(ctx: Ctx) -> tuple[int, Any]:
    bundle = _create_bundle(ctx, ctx.state.trust_products_by_sid, (a2p.A2P_MESSAGING_PROFILE,))
    return 201, render.trust_product(bundle)


@route("POST", "trusthub", rf"{TP}/(?P<Sid>BU{SID})")
def update_trust_product(ctx: Ctx) -> tuple[int, Any]:
    product = _product(ctx)
    _update_bundle(ctx, product)
    return 200, render.trust_product(product)


@route("POST", "trusthub", rf"{TP}/(?P<TrustProductSid>BU{SID})/EntityAssignments")
def assign_to_trust_product(ctx: Ctx) -> tuple[int, Any]:
    product = _product(ctx, "TrustProductSid")
    state = ctx.state
    allowed = (state.end_users_by_sid, state.trust_documents, state.customer_profiles_by_sid)
    return 201, render.entity_assignment(_assign(ctx, product, allowed))


@route("POST", "trusthub", rf"{TP}/(?P<TrustProductSid>BU{SID})/Evaluations")
def evaluate_trust_product(ctx: Ctx) -> tuple[int, Any]:
    evaluation = _evaluate(ctx, _product(ctx, "TrustProductSid"))
    return 201, render.trust_product_evaluation(evaluation)


@route("GET", "trusthub", rf"{TP}/(?P<TrustProductSid>BU{SID})/Evaluations")
def list_trust_product_evaluations(ctx: Ctx) -> tuple[int, Any]:
    found = _evaluations(ctx, _product(ctx, "TrustProductSid"))
    return page_v(ctx, "results", found, render.trust_product_evaluation)


record_routes(
    "trusthub",
    rf"{TP}/(?P<TrustProductSid>BU{SID})/Evaluations/(?P<Sid>EL{SID})",
    lambda ctx: _one_evaluation(ctx, _product(ctx, "TrustProductSid")),
    render.trust_product_evaluation,
)


# ---------------------------------------------------------------------- brands
def _brand(ctx: Ctx, group: str = "Sid") -> BrandRegistration:
    return ctx.owned(ctx.state.brands_by_sid, group)


@route("POST", "messaging", BRANDS)
def create_brand(ctx: Ctx) -> tuple[int, Any]:
    profile_sid = ctx.require("CustomerProfileBundleSid")
    product_sid = ctx.require("A2PProfileBundleSid")
    profile = ctx.state.customer_profiles_by_sid.get(profile_sid)
    product = ctx.state.trust_products_by_sid.get(product_sid)
    for sid, bundle in ((profile_sid, profile), (product_sid, product)):
        if bundle is None or bundle.account_sid != ctx.account.sid:
            raise TwilioError(400, 21711, f"Bundle {sid} was not found in this account.")
        if bundle.status in ("draft", "twilio-rejected"):
            raise TwilioError(
                400, 21712, f"Bundle {sid} must be submitted (it is {bundle.status})."
            )
    brand = a2p.new_brand(
        ctx.state,
        ctx.account.sid,
        profile_sid,
        product_sid,
        brand_type=ctx.params.get("BrandType") or "STANDARD",
        skip_automatic_sec_vet=bool(ctx.flag("SkipAutomaticSecVet")),
        mock=bool(ctx.flag("Mock")),
    )
    return 201, render.brand_registration(brand)


@route("GET", "messaging", BRANDS)
def list_brands(ctx: Ctx) -> tuple[int, Any]:
    return page_v(ctx, "data", ctx.state.brands(ctx.account.sid), render.brand_registration)


record_routes("messaging", rf"{BRANDS}/(?P<Sid>BN{SID})", _brand, render.brand_registration)


@route("POST", "messaging", rf"{BRANDS}/(?P<Sid>BN{SID})")
def resubmit_brand(ctx: Ctx) -> tuple[int, Any]:
    brand = _brand(ctx)
    if brand.status != "FAILED":
        raise TwilioError(
            400, 21713, f"Brand {brand.sid} is {brand.status}; only FAILED resubmits."
        )
    a2p.resubmit_brand(ctx.state, brand)
    return 202, render.brand_registration(brand)


@route("POST", "messaging", rf"{BRANDS}/(?P<BrandSid>BN{SID})/Vettings")
def create_vetting(ctx: Ctx) -> tuple[int, Any]:
    brand = _brand(ctx, "BrandSid")
    provider = ctx.require("VettingProvider")
    if provider not in ("campaign-verify", "aegis"):
        raise invalid_param("VettingProvider must be campaign-verify or aegis")
    now = ctx.state.now()
    vetting = BrandVetting(
        ctx.state.new_sid("VT"),
        ctx.account.sid,
        brand.sid,
        provider,
        "PENDING",
        now,
        now,
        vetting_id=ctx.params.get("VettingId") or None,
    )
    ctx.state.vettings_by_sid[vetting.sid] = vetting
    return 201, render.brand_vetting(vetting)


@route("GET", "messaging", rf"{BRANDS}/(?P<BrandSid>BN{SID})/Vettings")
def list_vettings(ctx: Ctx) -> tuple[int, Any]:
    brand = _brand(ctx, "BrandSid")
    found = [v for v in ctx.state.vettings_by_sid.values() if v.brand_sid == brand.sid]
    found = ctx.matching(found, VettingProvider="vetting_provider")
    return page_v(ctx, "data", found, render.brand_vetting)


def _vetting(ctx: Ctx) -> Any:
    brand = _brand(ctx, "BrandSid")
    vetting = ctx.state.vettings_by_sid.get(ctx.groups["BrandVettingSid"])
    if vetting is None or vetting.brand_sid != brand.sid:
        raise not_found(ctx.path)
    return vetting


record_routes(
    "messaging",
    rf"{BRANDS}/(?P<BrandSid>BN{SID})/Vettings/(?P<BrandVettingSid>VT{SID})",
    _vetting,
    render.brand_vetting,
)


# ---------------------------------------------------------------------- campaigns
def _service_sid(ctx: Ctx) -> str:
    return ctx.owned(ctx.state.services_by_sid, "MessagingServiceSid").sid


def _flag(ctx: Ctx, name: str, default: bool) -> bool:
    value = ctx.flag(name)
    return default if value is None else value


@route("GET", "messaging", rf"{USA2P}/Usecases")
def list_usecases(ctx: Ctx) -> tuple[int, Any]:
    _service_sid(ctx)
    brand_sid = ctx.params.get("BrandRegistrationSid")
    usecases = list(a2p.USECASES)
    if brand_sid:
        brand = ctx.state.brands_by_sid.get(brand_sid)
        if brand is None or brand.account_sid != ctx.account.sid:
            raise not_found(brand_sid)
        if brand.skip_automatic_sec_vet:  # a low-volume brand: no high-throughput mixed use
            usecases = [u for u in usecases if u["code"] != "MIXED"]
    return 200, {"us_app_to_person_usecases": usecases}


@route("POST", "messaging", USA2P)
def create_campaign(ctx: Ctx) -> tuple[int, Any]:
    service_sid = _service_sid(ctx)
    brand_sid = ctx.require("BrandRegistrationSid")
    brand = ctx.state.brands_by_sid.get(brand_sid)
    if brand is None or brand.account_sid != ctx.account.sid:
        raise TwilioError(400, 21711, f"Brand {brand_sid} was not found in this account.")
    if brand.status != "APPROVED":
        raise TwilioError(400, 21714, f"Brand {brand_sid} is {brand.status}, not APPROVED.")
    if any(c.messaging_service_sid == service_sid for c in ctx.state.campaigns_by_sid.values()):
        raise TwilioError(
            409, 21712, f"Messaging Service {service_sid} already has an A2P campaign."
        )
    usecase = ctx.require("UsAppToPersonUsecase")
    if usecase not in {u["code"] for u in a2p.USECASES}:
        raise invalid_param(f"UsAppToPersonUsecase {usecase!r} is not a use case")
    samples = ctx.values("MessageSamples")
    if not 2 <= len(samples) <= 5:
        raise invalid_param("MessageSamples must list between 2 and 5 samples")
    campaign = a2p.new_campaign(
        ctx.state,
        account_sid=ctx.account.sid,
        messaging_service_sid=service_sid,
        brand_registration_sid=brand.sid,
        description=ctx.require("Description"),
        message_samples=samples,
        usecase=usecase,
        message_flow=ctx.require("MessageFlow"),
        has_embedded_links=_flag(ctx, "HasEmbeddedLinks", False),
        has_embedded_phone=_flag(ctx, "HasEmbeddedPhone", False),
        opt_in_message=ctx.params.get("OptInMessage") or None,
        opt_out_message=ctx.params.get("OptOutMessage") or None,
        help_message=ctx.params.get("HelpMessage") or None,
        opt_in_keywords=ctx.values("OptInKeywords") or None,
        opt_out_keywords=ctx.values("OptOutKeywords") or None,
        help_keywords=ctx.values("HelpKeywords") or None,
        subscriber_opt_in=_flag(ctx, "SubscriberOptIn", True),
        age_gated=_flag(ctx, "AgeGated", False),
        direct_lending=_flag(ctx, "DirectLending", False),
    )
    return 201, render.campaign(campaign)


@route("GET", "messaging", USA2P)
def list_campaigns(ctx: Ctx) -> tuple[int, Any]:
    service_sid = _service_sid(ctx)
    found = [
        c for c in ctx.state.campaigns_by_sid.values() if c.messaging_service_sid == service_sid
    ]
    return page_v(ctx, "compliance", found, render.campaign)


def _campaign(ctx: Ctx) -> Campaign:
    service_sid = _service_sid(ctx)
    campaign = ctx.state.campaigns_by_sid.get(ctx.groups["Sid"])
    if campaign is None or campaign.messaging_service_sid != service_sid:
        raise not_found(ctx.path)
    return campaign


def _update_campaign(ctx: Ctx, campaign: Campaign) -> None:
    """An update resubmits the campaign (Twilio reviews an edited campaign again)."""
    for param in ("Description", "MessageFlow", "HasEmbeddedLinks", "HasEmbeddedPhone"):
        ctx.require(param)
    samples = ctx.values("MessageSamples")
    if not 2 <= len(samples) <= 5:
        raise invalid_param("MessageSamples must list between 2 and 5 samples")
    campaign.description = ctx.params["Description"]
    campaign.message_flow = ctx.params["MessageFlow"]
    campaign.message_samples = samples
    campaign.has_embedded_links = _flag(ctx, "HasEmbeddedLinks", False)
    campaign.has_embedded_phone = _flag(ctx, "HasEmbeddedPhone", False)
    campaign.age_gated = _flag(ctx, "AgeGated", False)
    campaign.direct_lending = _flag(ctx, "DirectLending", False)
    a2p.resubmit_campaign(ctx.state, campaign)


def _delete_campaign(ctx: Ctx, campaign: Campaign) -> None:
    del ctx.state.campaigns_by_sid[campaign.sid]
    service = ctx.state.services_by_sid.get(campaign.messaging_service_sid)
    if service is not None:
        service.us_app_to_person_registered = False


record_routes(
    "messaging",
    rf"{USA2P}/(?P<Sid>QE{SID})",
    _campaign,
    render.campaign,
    _update_campaign,
    _delete_campaign,
)
