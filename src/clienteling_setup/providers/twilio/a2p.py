"""US A2P 10DLC calls: Trust Hub customer profiles, trust products, end users, documents, their
assignments and evaluations; messaging v1 brand registrations, campaigns (`Compliance/Usa2p`)
and use cases. Each is one SDK call (a list follows its pages) on the tenant's own client."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Unpack

from clienteling_setup.providers.messaging import (
    A2PCampaign,
    AccountCredentials,
    Address,
    BrandRegistration,
    CampaignContent,
    EndUser,
    Evaluation,
    NewAddress,
    NewCampaign,
    TrustProduct,
)

from . import mapping
from .base import GatewayBase

__all__ = ["A2PCalls"]


_bundle = mapping.trust_product


def _evaluation(obj: Any) -> Evaluation:
    failures: list[str] = []
    results = getattr(obj, "results", None)
    for result in results if isinstance(results, list) else []:
        if not isinstance(result, Mapping) or result.get("passed") is True:
            continue
        invalid = result.get("invalid")
        items = [
            i for i in (invalid if isinstance(invalid, list) else []) if isinstance(i, Mapping)
        ]
        for item in items:
            failures.append(f"{item.get('object_field')}: {item.get('failure_reason')}")
        if not items and result.get("failure_reason"):
            failures.append(f"{result.get('requirement_name')}: {result.get('failure_reason')}")
    return Evaluation(**mapping.texts(obj, "sid", "status"), failures=tuple(failures))


def _end_user(obj: Any) -> EndUser:
    attributes = getattr(obj, "attributes", None)
    return EndUser(
        **mapping.texts(obj, "sid", "friendly_name", "type"),
        attributes=dict(attributes) if isinstance(attributes, Mapping) else {},
    )


def _brand(obj: Any) -> BrandRegistration:
    return BrandRegistration(
        **mapping.texts(obj, "sid", "status"),
        customer_profile_sid=mapping.text(obj, "customer_profile_bundle_sid"),
        a2p_profile_sid=mapping.text(obj, "a2p_profile_bundle_sid"),
        low_volume=getattr(obj, "skip_automatic_sec_vet", None) is True,
        failure_reason=mapping.text(obj, "failure_reason"),
        identity_status=mapping.text(obj, "identity_status"),
    )


def _campaign(obj: Any) -> A2PCampaign:
    errors = getattr(obj, "errors", None)
    described = [
        f"{e.get('error_code')} ({', '.join(map(str, e.get('fields') or []))}): "
        f"{e.get('description')}"
        for e in (errors if isinstance(errors, list) else [])
        if isinstance(e, Mapping)
    ]
    return A2PCampaign(
        sid=mapping.text(obj, "sid") or "",
        messaging_service_sid=mapping.text(obj, "messaging_service_sid") or "",
        brand_sid=mapping.text(obj, "brand_registration_sid"),
        status=mapping.text(obj, "campaign_status") or "",
        usecase=mapping.text(obj, "us_app_to_person_usecase"),
        errors=tuple(described),
    )


class A2PCalls(GatewayBase):
    def _hub(self, account: AccountCredentials) -> Any:
        return self._tenant(account).trusthub.v1

    def _brands(self, account: AccountCredentials) -> Any:
        return self._tenant(account).messaging.v1.brand_registrations

    def _service(self, account: AccountCredentials, messaging_service_sid: str) -> Any:
        return self._tenant(account).messaging.v1.services(messaging_service_sid)

    def create_address(self, account: AccountCredentials, **address: Unpack[NewAddress]) -> Address:
        values = {k: v for k, v in address.items() if v is not None}
        return self._create(
            "create address", self._account(account).addresses, mapping.address, **values
        )

    # -- customer profiles ----------------------------------------------------------------------
    def find_customer_profile(
        self, account: AccountCredentials, friendly_name: str, policy_sid: str
    ) -> TrustProduct | None:
        profiles = self._hub(account).customer_profiles
        found = self._call(
            "find customer profile",
            lambda: profiles.list(friendly_name=friendly_name, policy_sid=policy_sid),
        )
        return mapping.first(found, "friendly_name", friendly_name, _bundle)

    def create_customer_profile(
        self,
        account: AccountCredentials,
        friendly_name: str,
        email: str,
        policy_sid: str,
        status_callback: str | None = None,
    ) -> TrustProduct:
        return self._create(
            "create customer profile",
            self._hub(account).customer_profiles,
            _bundle,
            friendly_name=friendly_name,
            email=email,
            policy_sid=policy_sid,
            **({"status_callback": status_callback} if status_callback else {}),
        )

    def fetch_customer_profile(self, account: AccountCredentials, sid: str) -> TrustProduct:
        profile = self._hub(account).customer_profiles(sid)
        return self._call("fetch customer profile", lambda: _bundle(profile.fetch()))

    def submit_customer_profile(self, account: AccountCredentials, sid: str) -> TrustProduct:
        profile = self._hub(account).customer_profiles(sid)
        return self._call(
            "submit customer profile", lambda: _bundle(profile.update(status="pending-review"))
        )

    def customer_profile_object_sids(self, account: AccountCredentials, sid: str) -> list[str]:
        assignments = self._hub(account).customer_profiles(sid).customer_profiles_entity_assignments
        found = self._call("list customer profile entity assignments", assignments.list)
        return [s for a in found if (s := mapping.text(a, "object_sid"))]

    def assign_to_customer_profile(
        self, account: AccountCredentials, sid: str, object_sid: str
    ) -> None:
        assignments = self._hub(account).customer_profiles(sid).customer_profiles_entity_assignments
        self._call("assign to customer profile", lambda: assignments.create(object_sid=object_sid))

    def evaluate_customer_profile(
        self, account: AccountCredentials, sid: str, policy_sid: str
    ) -> Evaluation:
        evaluations = self._hub(account).customer_profiles(sid).customer_profiles_evaluations
        return self._call(
            "evaluate customer profile",
            lambda: _evaluation(evaluations.create(policy_sid=policy_sid)),
        )

    # -- trust products -------------------------------------------------------------------------
    def find_a2p_trust_product(
        self, account: AccountCredentials, friendly_name: str, policy_sid: str
    ) -> TrustProduct | None:
        products = self._hub(account).trust_products
        found = self._call(
            "find trust product",
            lambda: products.list(friendly_name=friendly_name, policy_sid=policy_sid),
        )
        return mapping.first(found, "friendly_name", friendly_name, _bundle)

    def create_trust_product(
        self,
        account: AccountCredentials,
        friendly_name: str,
        email: str,
        policy_sid: str,
        status_callback: str | None = None,
    ) -> TrustProduct:
        return self._create(
            "create trust product",
            self._hub(account).trust_products,
            _bundle,
            friendly_name=friendly_name,
            email=email,
            policy_sid=policy_sid,
            **({"status_callback": status_callback} if status_callback else {}),
        )

    def submit_trust_product(self, account: AccountCredentials, sid: str) -> TrustProduct:
        product = self._hub(account).trust_products(sid)
        return self._call(
            "submit trust product", lambda: _bundle(product.update(status="pending-review"))
        )

    def trust_product_object_sids(self, account: AccountCredentials, sid: str) -> list[str]:
        assignments = self._hub(account).trust_products(sid).trust_products_entity_assignments
        found = self._call("list trust product entity assignments", assignments.list)
        return [s for a in found if (s := mapping.text(a, "object_sid"))]

    def assign_to_trust_product(
        self, account: AccountCredentials, sid: str, object_sid: str
    ) -> None:
        assignments = self._hub(account).trust_products(sid).trust_products_entity_assignments
        self._call("assign to trust product", lambda: assignments.create(object_sid=object_sid))

    def evaluate_trust_product(
        self, account: AccountCredentials, sid: str, policy_sid: str
    ) -> Evaluation:
        evaluations = self._hub(account).trust_products(sid).trust_products_evaluations
        return self._call(
            "evaluate trust product",
            lambda: _evaluation(evaluations.create(policy_sid=policy_sid)),
        )

    # -- end users and documents ----------------------------------------------------------------
    def find_end_user(
        self, account: AccountCredentials, friendly_name: str, end_user_type: str
    ) -> EndUser | None:
        found = self._call("list end users", self._hub(account).end_users.list)
        for user in found:
            if (
                mapping.text(user, "friendly_name") == friendly_name
                and mapping.text(user, "type") == end_user_type
            ):
                return _end_user(user)
        return None

    def create_end_user(
        self,
        account: AccountCredentials,
        friendly_name: str,
        end_user_type: str,
        attributes: dict[str, object],
    ) -> EndUser:
        return self._create(
            "create end user",
            self._hub(account).end_users,
            _end_user,
            friendly_name=friendly_name,
            type=end_user_type,
            attributes=attributes,
        )

    def update_end_user(
        self, account: AccountCredentials, sid: str, attributes: dict[str, object]
    ) -> EndUser:
        return self._update(
            "update end user",
            self._hub(account).end_users(sid),
            _end_user,
            attributes=attributes,
        )

    def find_trust_document(
        self, account: AccountCredentials, friendly_name: str, document_type: str
    ) -> str | None:
        found = self._call("list trust documents", self._hub(account).supporting_documents.list)
        for doc in found:
            if (
                mapping.text(doc, "friendly_name") == friendly_name
                and mapping.text(doc, "type") == document_type
            ):
                return mapping.text(doc, "sid")
        return None

    def create_trust_document(
        self,
        account: AccountCredentials,
        friendly_name: str,
        document_type: str,
        attributes: dict[str, object],
    ) -> str:
        return self._create(
            "create trust document",
            self._hub(account).supporting_documents,
            lambda d: mapping.text(d, "sid") or "",
            friendly_name=friendly_name,
            type=document_type,
            attributes=json.loads(json.dumps(attributes)),
        )

    # -- brands ---------------------------------------------------------------------------------
    def list_brand_registrations(self, account: AccountCredentials) -> list[BrandRegistration]:
        found = self._call("list brand registrations", self._brands(account).list)
        return [_brand(b) for b in found]

    def create_brand_registration(
        self,
        account: AccountCredentials,
        customer_profile_sid: str,
        a2p_profile_sid: str,
        *,
        low_volume: bool,
    ) -> BrandRegistration:
        return self._create(
            "create brand registration",
            self._brands(account),
            _brand,
            customer_profile_bundle_sid=customer_profile_sid,
            a2p_profile_bundle_sid=a2p_profile_sid,
            brand_type="STANDARD",
            skip_automatic_sec_vet=low_volume,
        )

    def fetch_brand_registration(self, account: AccountCredentials, sid: str) -> BrandRegistration:
        brand = self._brands(account)(sid)
        return self._call("fetch brand registration", lambda: _brand(brand.fetch()))

    def resubmit_brand_registration(
        self, account: AccountCredentials, sid: str
    ) -> BrandRegistration:
        brand = self._brands(account)(sid)
        return self._call("resubmit brand registration", lambda: _brand(brand.update()))

    # -- campaigns ------------------------------------------------------------------------------
    def list_a2p_usecases(
        self, account: AccountCredentials, messaging_service_sid: str, brand_sid: str
    ) -> list[str]:
        usecases = self._service(account, messaging_service_sid).us_app_to_person_usecases
        found = self._call(
            "list a2p use cases", lambda: usecases.fetch(brand_registration_sid=brand_sid)
        )
        listed = getattr(found, "us_app_to_person_usecases", None) or []
        return [str(u["code"]) for u in listed if isinstance(u, Mapping) and u.get("code")]

    def find_campaign(
        self, account: AccountCredentials, messaging_service_sid: str
    ) -> A2PCampaign | None:
        campaigns = self._service(account, messaging_service_sid).us_app_to_person
        found = self._call("list campaigns", campaigns.list)
        return _campaign(found[0]) if found else None

    def create_campaign(
        self,
        account: AccountCredentials,
        messaging_service_sid: str,
        **campaign: Unpack[NewCampaign],
    ) -> A2PCampaign:
        return self._create(
            "create campaign",
            self._service(account, messaging_service_sid).us_app_to_person,
            _campaign,
            brand_registration_sid=campaign["brand_sid"],
            description=campaign["description"],
            message_flow=campaign["message_flow"],
            message_samples=campaign["message_samples"],
            us_app_to_person_usecase=campaign["usecase"],
            has_embedded_links=campaign["has_embedded_links"],
            has_embedded_phone=campaign["has_embedded_phone"],
            opt_in_message=campaign["opt_in_message"],
            opt_out_message=campaign["opt_out_message"],
            help_message=campaign["help_message"],
            opt_in_keywords=campaign["opt_in_keywords"],
            opt_out_keywords=campaign["opt_out_keywords"],
            help_keywords=campaign["help_keywords"],
            subscriber_opt_in=True,
        )

    def fetch_campaign(
        self, account: AccountCredentials, messaging_service_sid: str, sid: str
    ) -> A2PCampaign:
        campaign = self._service(account, messaging_service_sid).us_app_to_person(sid)
        return self._call("fetch campaign", lambda: _campaign(campaign.fetch()))

    def update_campaign(
        self,
        account: AccountCredentials,
        messaging_service_sid: str,
        sid: str,
        **content: Unpack[CampaignContent],
    ) -> A2PCampaign:
        return self._update(
            "update campaign",
            self._service(account, messaging_service_sid).us_app_to_person(sid),
            _campaign,
            has_embedded_links=content["has_embedded_links"],
            has_embedded_phone=content["has_embedded_phone"],
            message_samples=content["message_samples"],
            message_flow=content["message_flow"],
            description=content["description"],
            age_gated=False,
            direct_lending=False,
        )
