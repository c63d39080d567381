"""Compliance calls: addresses, regulatory bundles, regulations and trust products."""

from __future__ import annotations

from typing import Any

from clienteling_setup.providers.messaging import (
    AccountCredentials,
    Address,
    Bundle,
    NotFound,
    NumberType,
    ProviderError,
    Regulation,
    SupportingDocument,
    TrustProduct,
)

from . import mapping
from .base import GatewayBase

__all__ = ["ComplianceCalls"]


class ComplianceCalls(GatewayBase):
    def _regulatory(self, account: AccountCredentials) -> Any:
        """Regulatory compliance (numbers v2) of the tenant's subaccount."""
        return self._tenant(account).numbers.v2.regulatory_compliance

    def _trusthub(self, account: AccountCredentials) -> Any:
        return self._tenant(account).trusthub.v1

    # -- compliance -----------------------------------------------------------------------------
    def list_addresses(self, account: AccountCredentials, iso_country: str) -> list[Address]:
        country = iso_country.upper()
        addresses = self._call(
            "list addresses",
            lambda: self._account(account).addresses.list(iso_country=country),
        )
        return [mapping.address(a) for a in addresses]

    def list_bundles(
        self,
        account: AccountCredentials,
        iso_country: str | None = None,
        *,
        failure_reasons: bool = True,
    ) -> list[Bundle]:
        bundles_api = self._regulatory(account).bundles
        country = iso_country.upper() if iso_country else None
        found = self._call(
            "list bundles",
            lambda: bundles_api.list(iso_country=country) if country else bundles_api.list(),
        )
        return [
            self._bundle(account, b, iso_country=country, failure_reason=failure_reasons)
            for b in found
        ]

    def fetch_bundle(self, account: AccountCredentials, sid: str) -> Bundle:
        bundles_api = self._regulatory(account).bundles
        found = self._call("fetch bundle", lambda: bundles_api(sid).fetch())
        return self._bundle(account, found, iso_country=None)

    def _bundle(
        self,
        account: AccountCredentials,
        obj: Any,
        *,
        iso_country: str | None,
        failure_reason: bool = True,
    ) -> Bundle:
        sid = mapping.text(obj, "sid") or ""
        status = mapping.text(obj, "status") or ""
        regulation_sid = mapping.text(obj, "regulation_sid")
        regulation = self._regulation(account, regulation_sid) if regulation_sid else None
        return Bundle(
            sid=sid,
            friendly_name=mapping.text(obj, "friendly_name") or "",
            status=status,
            regulation_sid=regulation_sid,
            iso_country=iso_country or (regulation.iso_country if regulation else None) or None,
            number_type=(regulation.number_type if regulation else None) or None,
            failure_reason=(
                self._bundle_failure(account, sid)
                if failure_reason and status == "twilio-rejected"
                else None
            ),
        )

    def _regulation(self, account: AccountCredentials, sid: str) -> Regulation | None:
        """Regulations are Twilio-wide and immutable: the first one this process needs lists
        them all (one call of 1,000 per page, where fetching each bundle's would cost one call
        per distinct regulation, and more when a pass's threads miss at once), then cached;
        one the list missed is fetched."""
        with self._lock:
            cached = self._regulations.get(sid)
        if cached is not None:
            return cached
        self._list_every_regulation(account)
        with self._lock:
            cached = self._regulations.get(sid)
        if cached is not None:
            return cached
        regulations_api = self._regulatory(account).regulations
        try:
            found = self._call("fetch regulation", lambda: regulations_api(sid).fetch())
        except NotFound:
            return None
        regulation = mapping.regulation(found)
        with self._lock:
            self._regulations[sid] = regulation
        return regulation

    def _list_every_regulation(self, account: AccountCredentials) -> None:
        """Once per process (the threads that miss meanwhile wait for it); a failure leaves
        it to the next miss, and this one to a fetch."""
        with self._regulations_listing:
            if self._regulations_listed:
                return
            regulations_api = self._regulatory(account).regulations
            try:
                found = self._call("list regulations", lambda: regulations_api.list(page_size=1000))
            except ProviderError:
                return
            with self._lock:
                self._regulations.update(
                    (r.sid, r) for r in map(mapping.regulation, found) if r.sid
                )
            self._regulations_listed = True

    def _bundle_failure(self, account: AccountCredentials, bundle_sid: str) -> str | None:
        bundle = self._regulatory(account).bundles(bundle_sid)
        evaluations = self._call("list bundle evaluations", lambda: bundle.evaluations.list())
        if not evaluations:
            return None
        latest = max(
            evaluations, key=lambda e: mapping.timestamp(getattr(e, "date_created", None)) or ""
        )
        return mapping.evaluation_failure(getattr(latest, "results", None))

    def _bundle_object_sids(self, account: AccountCredentials, bundle_sid: str) -> list[str]:
        bundle = self._regulatory(account).bundles(bundle_sid)
        items = self._call("list bundle item assignments", lambda: bundle.item_assignments.list())
        return [sid for item in items if (sid := mapping.text(item, "object_sid"))]

    def bundle_address_sid(self, account: AccountCredentials, bundle_sid: str) -> str | None:
        for object_sid in self._bundle_object_sids(account, bundle_sid):
            if object_sid.startswith("AD"):
                return object_sid
        return None

    def list_bundle_documents(
        self, account: AccountCredentials, bundle_sid: str
    ) -> list[SupportingDocument]:
        documents_api = self._regulatory(account).supporting_documents
        sids = self._bundle_object_sids(account, bundle_sid)
        return self._documents(documents_api, sids)

    def _documents(self, documents_api: Any, object_sids: list[str]) -> list[SupportingDocument]:
        """Fetch each supporting document (RD...) among assigned object SIDs, in order."""
        documents: list[SupportingDocument] = []
        for sid in object_sids:
            if sid.startswith("RD"):
                context = documents_api(sid)
                found = self._call("fetch supporting document", context.fetch)
                documents.append(mapping.supporting_document(found))
        return documents

    def list_regulations(
        self, account: AccountCredentials, iso_country: str, number_type: NumberType
    ) -> list[Regulation]:
        regulations_api = self._regulatory(account).regulations
        found = self._call(
            "list regulations",
            lambda: regulations_api.list(iso_country=iso_country.upper(), number_type=number_type),
        )
        regulations = [mapping.regulation(r) for r in found]
        with self._lock:
            self._regulations.update((r.sid, r) for r in regulations if r.sid)
        return regulations

    def list_trust_products(self, account: AccountCredentials) -> list[TrustProduct]:
        found = self._call("list trust products", self._trusthub(account).trust_products.list)
        return [mapping.trust_product(t) for t in found]

    def fetch_trust_product(self, account: AccountCredentials, sid: str) -> TrustProduct:
        product = self._trusthub(account).trust_products(sid)
        return self._call("fetch trust product", lambda: mapping.trust_product(product.fetch()))

    def list_trust_product_documents(
        self, account: AccountCredentials, trust_product_sid: str
    ) -> list[SupportingDocument]:
        trusthub = self._trusthub(account)
        assignments = self._call(
            "list trust product entity assignments",
            lambda: trusthub.trust_products(
                trust_product_sid
            ).trust_products_entity_assignments.list(),
        )
        sids = [sid for a in assignments if (sid := mapping.text(a, "object_sid"))]
        return self._documents(trusthub.supporting_documents, sids)
