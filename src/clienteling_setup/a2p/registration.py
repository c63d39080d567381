"""The US A2P 10DLC registration, a workflow on the core (`workflow.core`).

Under the tenant's A2P lease, the registration row is claimed (committed) before anything is
created in Twilio. Then, in the order of Twilio's "A2P 10DLC onboarding guide for ISVs":

1. **Secondary customer profile**: the business address, end users for the business
   information and the authorized representative, the address document, the profile itself,
   their entity assignments, an evaluation (noncompliant: stop, the failures name the fields
   to fix in the business profile) and the submission.
2. **A2P messaging-profile trust product**: its end user (company type, stock), the customer
   profile assigned, an evaluation, the submission.
3. **Brand registration**: standard, or low-volume standard (no secondary vetting) when the
   profile says so. A FAILED brand is resubmitted once the business profile changed.
4. **Campaigns**, once the brand is APPROVED: one per Messaging Service (the tenant's and each
   sender group's), with a use case Twilio's Usecases operation offers. A FAILED campaign is
   updated (and so reviewed again) once the business profile changed.

Every resource is adopted when it exists already (by its friendly name, or its link: the brand
of this customer profile, the campaign of this Messaging Service) and its SID is recorded in a
unit of work of its own before the next step: a crash between any two steps is finished by the
same request repeated, or by reconciliation (`reconcile`), with one of each. A stage under
review is only read (once per run, and only while Twilio's status is not final).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from clienteling_setup import errors
from clienteling_setup.a2p.models import A2PCampaignRecord, A2PRegistration
from clienteling_setup.callback_auth import WEBHOOK_PREFIX
from clienteling_setup.db import changes
from clienteling_setup.providers.messaging import (
    A2PCampaign,
    AccountCredentials,
    BrandRegistration,
    CampaignContent,
    EndUser,
    MessagingGateway,
    NewAddress,
    ProviderError,
    TrustProduct,
)
from clienteling_setup.tenants.service import mark_onboarded_if_ready
from clienteling_setup.unit_of_work import UnitOfWork, UnitsOfWork
from clienteling_setup.workflow.core import Run, adopt_or_create, claim, exclusive, try_exclusive

T = TypeVar("T")

#: Twilio's Trust Hub policies (the same SIDs in every account).
SECONDARY_CUSTOMER_PROFILE_POLICY = "RNdfbf3fae0e1107f8aded0e7cead80bf5"
A2P_MESSAGING_PROFILE_POLICY = "RNb0d4771c2c98518d916a3d4cd70a8f8b"
BUSINESS_INFORMATION = "customer_profile_business_information"
AUTHORIZED_REPRESENTATIVE = "authorized_representative_1"
A2P_PROFILE_INFORMATION = "us_a2p_messaging_profile_information"
ADDRESS_DOCUMENT = "customer_profile_address"

#: Twilio's statuses after which a bundle is no longer reviewed, or is being reviewed.
BUNDLE_SUBMITTED = ("pending-review", "in-review", "twilio-approved")
BUNDLE_FINAL = ("twilio-approved", "twilio-rejected")
BRAND_FINAL = ("APPROVED", "FAILED", "SUSPENDED")
CAMPAIGN_FINAL = ("VERIFIED", "FAILED", "SUSPENDED")
#: The use case a clienteling campaign asks for, in order of preference.
PREFERRED_USE_CASES = ("CUSTOMER_CARE", "MIXED", "LOW_VOLUME")
#: How long a POST waits for a concurrent run of the same tenant before answering 409.
WAIT_SECONDS = 30.0
NAME_LIMIT = 64
OPT_OUT_KEYWORDS = ["STOP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]


def resource_name(tenant_id: str, what: str) -> str:
    """The friendly name of the tenant's A2P resource `what` (unique per tenant, at most 64
    characters: a long tenant id keeps a readable head and ends in a digest)."""
    name = f"clienteling:{tenant_id}:a2p-{what}"
    if len(name) <= NAME_LIMIT:
        return name
    digest = hashlib.sha256(f"{tenant_id}\0{what}".encode()).hexdigest()[:16]
    return f"{name[: NAME_LIMIT - len(digest) - 1]}~{digest}"


@dataclass(frozen=True)
class Plan:
    """What a run registers: the business profile as of the claim, and where campaigns go."""

    version: int
    details: dict[str, Any]
    sensitive: dict[str, Any]
    website: str
    opt_in_text: str | None
    #: (Messaging Service SID, sender group id or None for the tenant's own), in order.
    services: tuple[tuple[str, str | None], ...]

    @property
    def legal_name(self) -> str:
        return str(self.details["legal_name"])

    @property
    def representative(self) -> dict[str, Any]:
        value = self.sensitive["authorized_representative"]
        assert isinstance(value, dict)
        return value

    def business_attributes(self) -> dict[str, object]:
        d = self.details
        return {
            "business_name": d["legal_name"],
            "business_type": d["business_type"],
            "business_industry": d["industry"],
            "business_registration_identifier": d["registration_type"],
            "business_registration_number": self.sensitive["registration_number"],
            "business_regions_of_operation": ",".join(d["regions_of_operation"]),
            "website_url": self.website,
            "social_media_profile_urls": "",
            "business_identity": "direct_customer",
        }

    def representative_attributes(self) -> dict[str, object]:
        r = self.representative
        return {
            "first_name": r["first_name"],
            "last_name": r["last_name"],
            "email": r["email"],
            "phone_number": r["phone"],
            "business_title": r["title"],
            "job_position": r["job_position"],
        }

    def a2p_attributes(self) -> dict[str, object]:
        d = self.details
        attributes: dict[str, object] = {
            "company_type": "non-profit" if d["company_type"] == "non_profit" else d["company_type"]
        }
        if d["company_type"] == "public":
            attributes |= {"stock_exchange": d["stock_exchange"], "stock_ticker": d["stock_ticker"]}
        return attributes

    def campaign_content(self) -> CampaignContent:
        settings = self.details.get("campaign") or {}
        name, site = self.legal_name, self.website
        samples = settings.get("message_samples") or [
            f"Hi Ada, this is Sam from {name}. The jacket you asked about is back in your size; "
            "reply to reserve it. Reply STOP to opt out.",
            f"Hi Ada, thanks for your visit to {name} today. The looks we talked about: {site} "
            "Reply STOP to opt out.",
        ]
        description = settings.get("description") or (
            f"{name}'s store associates text customers who opted in: answers to their "
            "questions, follow-ups on their visits and orders, and news of products they asked "
            "about."
        )
        consent = (self.opt_in_text or "").strip() or (
            f"I agree to receive text messages from {name} store associates."
        )
        flow = (
            f"Customers opt in in a {name} store: the store associate shows them this consent "
            f'text and records their agreement before any message is sent: "{consent}" '
            f"Customers can also text START to the store's number. Terms: {site}"
        )
        return {
            "description": description,
            "message_flow": flow,
            "message_samples": list(samples),
            "has_embedded_links": True,
            "has_embedded_phone": False,
        }

    def use_case_override(self) -> str | None:
        settings = self.details.get("campaign") or {}
        value = settings.get("use_case")
        return str(value) if value else None


@dataclass(frozen=True)
class Isv:
    """What the service, as Twilio's ISV, brings to every registration."""

    #: The ISV's own approved Primary Customer Profile (BU...), None when not configured.
    primary_profile: str | None
    #: The service's public base URL, where Twilio's review status callbacks arrive.
    public_base_url: str

    @property
    def status_callback(self) -> str:
        return f"{self.public_base_url.rstrip('/')}{WEBHOOK_PREFIX}/{STATUS_CALLBACK_PATH}"


#: The customer profile's and A2P trust product's StatusCallback, under the webhooks' prefix.
STATUS_CALLBACK_PATH = "a2p-status"


def _read_plan(uow: UnitOfWork) -> tuple[AccountCredentials, Plan]:
    tenant = uow.tenants.require_open()
    profile = uow.business_profiles.current()
    if profile is None:
        raise errors.BadRequest(
            "The business profile is missing: submit it first with PUT "
            "/clienteling/business-profile (action submit_business_profile)."
        )
    template = uow.tenants.opt_in()
    services: list[tuple[str, str | None]] = [(tenant.messaging_service_sid, None)]
    services += [
        (g.messaging_service_sid, g.id) for g in uow.groups.all() if g.messaging_service_sid
    ]
    plan = Plan(
        version=profile.version,
        details=dict(profile.details),
        sensitive=uow.business_profiles.sensitive(profile),
        website=profile.details.get("website") or tenant.ecom_link,
        opt_in_text=template.body if template is not None else None,
        services=tuple(services),
    )
    return uow.tenants.account(tenant), plan


def start(
    uows: UnitsOfWork,
    gateway: MessagingGateway,
    tenant_id: str,
    isv: Isv,
    *,
    actor: str = "",
    request_id: str | None = None,
) -> None:
    """Start or resume the registration (`POST /clienteling/a2p-registration`).
    Without the ISV's Primary Customer Profile nothing is sent (503 naming the setting)."""
    if isv.primary_profile is None:
        raise errors.UpstreamUnavailable(
            "The ISV's primary customer profile is not configured: set "
            "CLIENTELING_TWILIO__PRIMARY_CUSTOMER_PROFILE_SID to the approved Primary Customer "
            "Profile (BU...) of the Twilio master account, then retry."
        )
    busy = errors.Conflict(
        "The A2P registration is running in another request. Retry in a few seconds."
    )
    with exclusive(uows, f"a2p:{tenant_id}", busy=busy, lost=busy, wait=WAIT_SECONDS) as run:

        def write(uow: UnitOfWork) -> tuple[AccountCredentials, Plan]:
            found = _read_plan(uow)
            if uow.a2p.current() is None:
                uow.a2p.add(A2PRegistration(actor=actor, request_id=request_id))
                uow.flush()
            return found

        account, plan = claim(uows, tenant_id, write, lambda _uow: busy)
        Runner(uows, gateway, tenant_id, account, plan, run, isv).advance()


def reconcile(uows: UnitsOfWork, gateway: MessagingGateway, tenant_id: str, isv: Isv) -> bool:
    """For reconciliation: read what Twilio is still reviewing, and go on where a review ended
    (campaigns once the brand is approved, one for a sender group created since). False when
    there is nothing to do (no registration, or everything final), which costs no Twilio call.
    Without the ISV's primary customer profile (not configured), there is nothing to do."""
    if isv.primary_profile is None:
        return False
    with uows.of(tenant_id) as uow:
        registration = uow.a2p.current()
        if registration is None or uow.tenants.get() is None:
            return False
        if not _unfinished(registration, uow.a2p_campaigns.all(), uow):
            return False
    lost = errors.Conflict("The A2P registration lease was lost.")
    with try_exclusive(uows, f"a2p:{tenant_id}", lost=lost) as run:
        if run is None:
            return False
        with uows.of(tenant_id) as uow:
            account, plan = _read_plan(uow)
        try:
            Runner(uows, gateway, tenant_id, account, plan, run, isv).advance()
        except errors.AppError:
            return False
        return True


def _unfinished(
    registration: A2PRegistration, campaigns: list[A2PCampaignRecord], uow: UnitOfWork
) -> bool:
    if registration.brand_status != "APPROVED":
        # Reviews under way are read; a rejection waits for the retailer's fix (a POST).
        reviewing = ("pending-review", "in-review")
        if registration.brand_sid is not None:
            return registration.brand_status not in BRAND_FINAL
        return (
            registration.customer_profile_status in reviewing
            or registration.trust_product_status in reviewing
        )
    done = {c.messaging_service_sid for c in campaigns if c.status in CAMPAIGN_FINAL}
    tenant = uow.tenants.get()
    wanted = {tenant.messaging_service_sid} if tenant else set()
    wanted |= {g.messaging_service_sid for g in uow.groups.all() if g.messaging_service_sid}
    return bool(wanted - done)


class Runner:
    """One run of the stages for one tenant, holding its lease."""

    def __init__(
        self,
        uows: UnitsOfWork,
        gateway: MessagingGateway,
        tenant_id: str,
        account: AccountCredentials,
        plan: Plan,
        run: Run,
        isv: Isv,
    ) -> None:
        assert isv.primary_profile is not None  # checked before the run
        self.uows = uows
        self.primary_profile = isv.primary_profile
        self.status_callback = isv.status_callback
        self.gateway = gateway
        self.tenant_id = tenant_id
        self.account = account
        self.plan = plan
        self.run = run

    # -- plumbing -------------------------------------------------------------------------------
    def _row(self) -> A2PRegistration:
        with self.uows.of(self.tenant_id) as uow:
            row = uow.a2p.current()
            assert row is not None  # claimed before any run
            return row

    def _record(self, **values: Any) -> None:
        with self.uows.of(self.tenant_id) as uow:
            row = uow.a2p.current()
            assert row is not None
            for name, value in values.items():
                setattr(row, name, value)

    def _step(self, action: str, effect: Callable[[], T]) -> T:
        try:
            return self.run.step(effect)
        except ProviderError as exc:
            failure = errors.from_provider(exc, action)
            self._record(last_error=failure.message)
            raise failure from exc

    def _name(self, what: str) -> str:
        return resource_name(self.tenant_id, what)

    # -- the stages -----------------------------------------------------------------------------
    def advance(self) -> None:
        row = self._row()
        self._record(last_error=None)
        stale = row.profile_version < self.plan.version
        if not self._customer_profile(row, stale):
            return
        if not self._trust_product(self._row(), stale):
            return
        brand = self._brand(self._row())
        if brand is None or brand.status != "APPROVED":
            self._record(profile_version=self.plan.version)
            return
        for service_sid, group_id in self.plan.services:
            self._campaign(brand.sid, service_sid, group_id)
        self._record(profile_version=self.plan.version)

    def _end_user(
        self, known: str | None, what: str, kind: str, attributes: Any, stale: bool
    ) -> str:
        gateway, account, name = self.gateway, self.account, self._name(what)
        if known is not None:
            if stale:
                self._step(
                    f"Updating the A2P end user '{what}'",
                    lambda: gateway.update_end_user(account, known, attributes),
                )
            return known

        def adopt(user: EndUser) -> EndUser:
            return gateway.update_end_user(account, user.sid, attributes)

        user = self._step(
            f"Creating the A2P end user '{what}'",
            lambda: adopt_or_create(
                lambda: gateway.find_end_user(account, name, kind),
                lambda: gateway.create_end_user(account, name, kind, attributes),
                adopt=adopt,
            ),
        )
        return user.sid

    def _customer_profile(self, row: A2PRegistration, stale: bool) -> bool:
        """True when the customer profile is submitted (or approved)."""
        gateway, account, plan = self.gateway, self.account, self.plan
        status = row.customer_profile_status
        if row.customer_profile_sid is not None and status in (
            *BUNDLE_SUBMITTED,
            "twilio-rejected",
        ):
            if status != "twilio-approved":
                sid = row.customer_profile_sid
                fetched = self._step(
                    "Reading the customer profile",
                    lambda: gateway.fetch_customer_profile(account, sid),
                )
                self._record(
                    customer_profile_status=fetched.status,
                    customer_profile_failure=fetched.failure_reason,
                )
                status = fetched.status
            if status in BUNDLE_SUBMITTED:
                if stale and status == "twilio-approved":
                    for known, what, kind, values in (
                        (row.business_user_sid, "business", BUSINESS_INFORMATION,
                         plan.business_attributes()),
                        (row.representative_user_sid, "representative",
                         AUTHORIZED_REPRESENTATIVE, plan.representative_attributes()),
                    ):  # fmt: skip
                        self._end_user(known, what, kind, values, True)
                return True
            if not stale:
                return False  # rejected: the retailer fixes the business profile first
            row = self._row()
        address = plan.details["address"]
        address_sid = row.address_sid
        if address_sid is None:
            address_name = self._name("address")
            new: NewAddress = {
                "friendly_name": address_name,
                "customer_name": plan.legal_name,
                "street": address["street"],
                "street_secondary": address.get("street_secondary"),
                "city": address["city"],
                "region": address["region"],
                "postal_code": address["postal_code"],
                "iso_country": address["country"],
            }
            created = self._step(
                "Registering the business address",
                lambda: adopt_or_create(
                    lambda: next(
                        (
                            a
                            for a in gateway.list_addresses(account, address["country"])
                            if a.friendly_name == address_name
                        ),
                        None,
                    ),
                    lambda: gateway.create_address(account, **new),
                ),
            )
            address_sid = created.sid
            self._record(address_sid=address_sid)
        business = self._end_user(
            row.business_user_sid,
            "business",
            BUSINESS_INFORMATION,
            plan.business_attributes(),
            stale,
        )
        self._record(business_user_sid=business)
        representative = self._end_user(
            row.representative_user_sid,
            "representative",
            AUTHORIZED_REPRESENTATIVE,
            plan.representative_attributes(),
            stale,
        )
        self._record(representative_user_sid=representative)
        document = row.address_document_sid
        if document is None:
            document_name = self._name("address-document")
            attributes: dict[str, object] = {"address_sids": address_sid}
            document = self._step(
                "Creating the business address document",
                lambda: adopt_or_create(
                    lambda: gateway.find_trust_document(account, document_name, ADDRESS_DOCUMENT),
                    lambda: gateway.create_trust_document(
                        account, document_name, ADDRESS_DOCUMENT, attributes
                    ),
                ),
            )
            self._record(address_document_sid=document)
        profile = self._bundle(
            row.customer_profile_sid,
            "profile",
            SECONDARY_CUSTOMER_PROFILE_POLICY,
            find=gateway.find_customer_profile,
            create=gateway.create_customer_profile,
            fetch=gateway.fetch_customer_profile,
        )
        self._record(customer_profile_sid=profile.sid, customer_profile_status=profile.status)
        self._assign(
            "customer profile",
            profile.sid,
            # The ISV's own primary profile too (Twilio's ISV guide), before the evaluation.
            (business, representative, document, self.primary_profile),
            listed=gateway.customer_profile_object_sids,
            assign=gateway.assign_to_customer_profile,
        )
        return self._evaluate_and_submit(
            "customer profile",
            profile,
            SECONDARY_CUSTOMER_PROFILE_POLICY,
            evaluate=gateway.evaluate_customer_profile,
            submit=gateway.submit_customer_profile,
            columns=("customer_profile_status", "customer_profile_failure"),
        )

    def _bundle(
        self,
        known: str | None,
        what: str,
        policy: str,
        *,
        find: Callable[[AccountCredentials, str, str], TrustProduct | None],
        create: Callable[[AccountCredentials, str, str, str, str | None], TrustProduct],
        fetch: Callable[[AccountCredentials, str], TrustProduct],
    ) -> TrustProduct:
        account, name, callback = self.account, self._name(what), self.status_callback
        email = str(self.plan.representative["email"])
        if known is not None:
            return self._step(f"Reading the A2P {what}", lambda: fetch(account, known))
        return self._step(
            f"Creating the A2P {what}",
            lambda: adopt_or_create(
                lambda: find(account, name, policy),
                lambda: create(account, name, email, policy, callback),
            ),
        )

    def _assign(
        self,
        what: str,
        parent: str,
        objects: tuple[str, ...],
        *,
        listed: Callable[[AccountCredentials, str], list[str]],
        assign: Callable[[AccountCredentials, str, str], None],
    ) -> None:
        account = self.account
        present = self._step(f"Reading the {what}'s assignments", lambda: listed(account, parent))
        for object_sid in objects:
            if object_sid not in present:
                self._step(
                    f"Assigning {object_sid} to the {what}",
                    lambda o=object_sid: assign(account, parent, o),  # type: ignore[misc]
                )

    def _evaluate_and_submit(
        self,
        what: str,
        bundle: TrustProduct,
        policy: str,
        *,
        evaluate: Callable[[AccountCredentials, str, str], Any],
        submit: Callable[[AccountCredentials, str], TrustProduct],
        columns: tuple[str, str],
    ) -> bool:
        status_column, failure_column = columns
        if bundle.status in BUNDLE_SUBMITTED:
            self._record(**{status_column: bundle.status, failure_column: None})
            return True
        account = self.account
        evaluation = self._step(
            f"Evaluating the {what}", lambda: evaluate(account, bundle.sid, policy)
        )
        if evaluation.status != "compliant":
            failure = "; ".join(evaluation.failures) or "noncompliant"
            self._record(**{status_column: "noncompliant", failure_column: failure})
            return False
        submitted = self._step(f"Submitting the {what}", lambda: submit(account, bundle.sid))
        self._record(**{status_column: submitted.status, failure_column: None})
        return True

    def _trust_product(self, row: A2PRegistration, stale: bool) -> bool:
        gateway, account, plan = self.gateway, self.account, self.plan
        status = row.trust_product_status
        if row.trust_product_sid is not None and status in (*BUNDLE_SUBMITTED, "twilio-rejected"):
            if status != "twilio-approved":
                sid = row.trust_product_sid
                fetched = self._step(
                    "Reading the A2P trust product",
                    lambda: gateway.fetch_trust_product(account, sid),
                )
                self._record(
                    trust_product_status=fetched.status,
                    trust_product_failure=fetched.failure_reason,
                )
                status = fetched.status
            if status in BUNDLE_SUBMITTED:
                if stale and status == "twilio-approved":
                    self._end_user(
                        row.a2p_user_sid, "messaging-profile", A2P_PROFILE_INFORMATION,
                        plan.a2p_attributes(), True,
                    )  # fmt: skip
                return True
            if not stale:
                return False
            row = self._row()
        a2p_user = self._end_user(
            row.a2p_user_sid,
            "messaging-profile",
            A2P_PROFILE_INFORMATION,
            plan.a2p_attributes(),
            stale,
        )
        self._record(a2p_user_sid=a2p_user)
        product = self._bundle(
            row.trust_product_sid,
            "messaging",
            A2P_MESSAGING_PROFILE_POLICY,
            find=gateway.find_a2p_trust_product,
            create=gateway.create_trust_product,
            fetch=gateway.fetch_trust_product,
        )
        self._record(trust_product_sid=product.sid, trust_product_status=product.status)
        profile_sid = self._row().customer_profile_sid
        assert profile_sid is not None
        self._assign(
            "A2P trust product",
            product.sid,
            (a2p_user, profile_sid),
            listed=gateway.trust_product_object_sids,
            assign=gateway.assign_to_trust_product,
        )
        return self._evaluate_and_submit(
            "A2P trust product",
            product,
            A2P_MESSAGING_PROFILE_POLICY,
            evaluate=gateway.evaluate_trust_product,
            submit=gateway.submit_trust_product,
            columns=("trust_product_status", "trust_product_failure"),
        )

    def _brand(self, row: A2PRegistration) -> BrandRegistration | None:
        gateway, account, plan = self.gateway, self.account, self.plan
        profile_sid, product_sid = row.customer_profile_sid, row.trust_product_sid
        assert profile_sid is not None
        assert product_sid is not None
        low_volume = bool(plan.details.get("low_volume"))
        if row.brand_sid is None:
            brand = self._step(
                "Registering the A2P brand",
                lambda: adopt_or_create(
                    lambda: next(
                        (
                            b
                            for b in gateway.list_brand_registrations(account)
                            if b.customer_profile_sid == profile_sid
                        ),
                        None,
                    ),
                    lambda: gateway.create_brand_registration(
                        account, profile_sid, product_sid, low_volume=low_volume
                    ),
                ),
            )
            self._record(
                brand_sid=brand.sid,
                brand_status=brand.status,
                brand_failure=brand.failure_reason,
                brand_version=plan.version,
                low_volume=brand.low_volume,
            )
            return brand
        sid = row.brand_sid
        if row.brand_status == "APPROVED":
            return BrandRegistration(sid, "APPROVED", profile_sid, product_sid, row.low_volume)
        brand = self._step(
            "Reading the A2P brand", lambda: gateway.fetch_brand_registration(account, sid)
        )
        if brand.status == "FAILED" and row.brand_version < plan.version:
            brand = self._step(
                "Resubmitting the A2P brand",
                lambda: gateway.resubmit_brand_registration(account, sid),
            )
            self._record(brand_version=plan.version)
        self._record(brand_status=brand.status, brand_failure=brand.failure_reason)
        return brand

    def _campaign(self, brand_sid: str, service_sid: str, group_id: str | None) -> None:
        gateway, account, plan = self.gateway, self.account, self.plan
        with self.uows.of(self.tenant_id) as uow:
            record = uow.a2p_campaigns.get(service_sid)
            if record is None:
                record = uow.a2p_campaigns.add(
                    A2PCampaignRecord(messaging_service_sid=service_sid, sender_group_id=group_id)
                )
            known, status, version = record.campaign_sid, record.status, record.version
        content = plan.campaign_content()
        if known is None:
            usecase = self._use_case(brand_sid, service_sid)
            campaign = self._step(
                "Registering the A2P campaign",
                lambda: adopt_or_create(
                    lambda: gateway.find_campaign(account, service_sid),
                    lambda: gateway.create_campaign(
                        account,
                        service_sid,
                        brand_sid=brand_sid,
                        usecase=usecase,
                        opt_in_message=(
                            f"{plan.legal_name}: you are opted in to messages from your store "
                            "associate. Msg frequency varies. Msg & data rates may apply. "
                            "Reply HELP for help, STOP to opt out."
                        ),
                        opt_out_message=(
                            f"{plan.legal_name}: you are unsubscribed and will get no more "
                            "messages. Reply START to opt back in."
                        ),
                        help_message=(
                            f"{plan.legal_name}: for help, visit {plan.website}. "
                            "Reply STOP to opt out."
                        ),
                        opt_in_keywords=["START"],
                        opt_out_keywords=list(OPT_OUT_KEYWORDS),
                        help_keywords=["HELP", "INFO"],
                        **content,
                    ),
                ),
            )
            self._record_campaign(service_sid, campaign, plan.version)
            return
        if status in ("VERIFIED", "SUSPENDED"):
            return
        campaign = self._step(
            "Reading the A2P campaign", lambda: gateway.fetch_campaign(account, service_sid, known)
        )
        if campaign.status == "FAILED" and version < plan.version:
            campaign = self._step(
                "Resubmitting the A2P campaign",
                lambda: gateway.update_campaign(account, service_sid, known, **content),
            )
            version = plan.version
        self._record_campaign(service_sid, campaign, version)

    def _record_campaign(self, service_sid: str, campaign: A2PCampaign, version: int) -> None:
        with self.uows.of(self.tenant_id) as uow:
            record = uow.a2p_campaigns.get(service_sid)
            assert record is not None
            changed = record.status != campaign.status
            record.campaign_sid = campaign.sid
            record.status = campaign.status
            record.usecase = campaign.usecase
            record.errors = "\n".join(campaign.errors) or None
            record.version = version
            if changed:
                # The status entries of the service's stores show whether they can send.
                stores = uow.a2p_campaigns.store_ids_on(service_sid)
                changes.stores_touched(uow.session, self.tenant_id, stores)
            if campaign.status == "VERIFIED":
                uow.flush()
                mark_onboarded_if_ready(uow)

    def _use_case(self, brand_sid: str, service_sid: str) -> str:
        gateway, account = self.gateway, self.account
        offered = self._step(
            "Reading the A2P use cases",
            lambda: gateway.list_a2p_usecases(account, service_sid, brand_sid),
        )
        wanted = self.plan.use_case_override()
        if wanted is not None:
            if wanted not in offered:
                message = (
                    f"campaign.use_case '{wanted}' is not offered for this brand; choose one "
                    f"of {', '.join(offered)} in PUT /clienteling/business-profile."
                )
                self._record(last_error=message)
                raise errors.BadRequest(message)
            return wanted
        for code in PREFERRED_USE_CASES:
            if code in offered:
                return code
        if not offered:
            raise errors.UpstreamFailed("Twilio offered no A2P use case for the brand.")
        return offered[0]
