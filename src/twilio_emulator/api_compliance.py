"""numbers v2 (regulatory bundles, supporting documents, regulations) and trusthub v1.

Both act on the authenticated account itself; another account's bundle answers 20404.
"""

from __future__ import annotations

from typing import Any

from . import render
from .errors import not_found
from .models import Bundle
from .routing import SID, Ctx, page_v, route

RC = r"/v2/RegulatoryCompliance"


@route("GET", "numbers", RC + r"/Bundles")
def list_bundles(ctx: Ctx) -> tuple[int, Any]:
    found = sorted(ctx.state.bundles(ctx.account.sid), key=lambda b: b.date_created, reverse=True)
    p = ctx.params
    if country := p.get("IsoCountry"):
        found = [b for b in found if b.iso_country == country.upper()]
    if number_type := p.get("NumberType"):
        found = [b for b in found if b.number_type == number_type.lower()]
    if status := p.get("Status"):
        found = [b for b in found if b.status == status]
    if name := p.get("FriendlyName"):
        found = [b for b in found if b.friendly_name == name]
    if regulation := p.get("RegulationSid"):
        found = [b for b in found if b.regulation_sid == regulation]
    if end_user_type := p.get("EndUserType"):
        found = [b for b in found if b.end_user_type == end_user_type]
    if sids := p.get("BundleSids"):
        wanted = set(sids.split(","))
        found = [b for b in found if b.sid in wanted]
    return page_v(ctx, "results", [render.bundle(b) for b in found])


def _bundle(ctx: Ctx, group: str) -> Bundle:
    bundle = ctx.state.bundles_by_sid.get(ctx.groups[group])
    if bundle is None or bundle.account_sid != ctx.account.sid:
        raise not_found(ctx.path)
    return bundle


@route("GET", "numbers", RC + rf"/Bundles/(?P<Sid>BU{SID})")
def fetch_bundle(ctx: Ctx) -> tuple[int, Any]:
    return 200, render.bundle(_bundle(ctx, "Sid"))


@route("GET", "numbers", RC + rf"/Bundles/(?P<BundleSid>BU{SID})/ItemAssignments")
def list_item_assignments(ctx: Ctx) -> tuple[int, Any]:
    bundle = _bundle(ctx, "BundleSid")
    items = [i for i in ctx.state.item_assignments.values() if i.parent_sid == bundle.sid]
    return page_v(ctx, "results", [render.item_assignment(i) for i in items])


@route("GET", "numbers", RC + rf"/Bundles/(?P<BundleSid>BU{SID})/Evaluations")
def list_evaluations(ctx: Ctx) -> tuple[int, Any]:
    bundle = _bundle(ctx, "BundleSid")
    found = [e for e in ctx.state.evaluations.values() if e.bundle_sid == bundle.sid]
    found.sort(key=lambda e: e.date_created, reverse=True)
    return page_v(ctx, "results", [render.evaluation(e) for e in found])


@route("GET", "numbers", RC + rf"/Bundles/(?P<BundleSid>BU{SID})/Evaluations/(?P<Sid>EL{SID})")
def fetch_evaluation(ctx: Ctx) -> tuple[int, Any]:
    bundle = _bundle(ctx, "BundleSid")
    evaluation = ctx.state.evaluations.get(ctx.groups["Sid"])
    if evaluation is None or evaluation.bundle_sid != bundle.sid:
        raise not_found(ctx.path)
    return 200, render.evaluation(evaluation)


@route("GET", "numbers", RC + rf"/SupportingDocuments/(?P<Sid>RD{SID})")
def fetch_regulatory_document(ctx: Ctx) -> tuple[int, Any]:
    doc = ctx.state.regulatory_documents.get(ctx.groups["Sid"])
    if doc is None or doc.account_sid != ctx.account.sid:
        raise not_found(ctx.path)
    return 200, render.regulatory_document(doc)


@route("GET", "numbers", RC + r"/SupportingDocuments")
def list_regulatory_documents(ctx: Ctx) -> tuple[int, Any]:
    docs = [d for d in ctx.state.regulatory_documents.values() if d.account_sid == ctx.account.sid]
    return page_v(ctx, "results", [render.regulatory_document(d) for d in docs])


@route("GET", "numbers", RC + r"/Regulations")
def list_regulations(ctx: Ctx) -> tuple[int, Any]:
    found = list(ctx.state.regulations.values())
    p = ctx.params
    if country := p.get("IsoCountry"):
        found = [r for r in found if r.iso_country == country.upper()]
    if number_type := p.get("NumberType"):
        found = [r for r in found if r.number_type == number_type.lower()]
    if end_user_type := p.get("EndUserType"):
        found = [r for r in found if r.end_user_type == end_user_type]
    return page_v(ctx, "results", [render.regulation(r) for r in found])


@route("GET", "numbers", RC + rf"/Regulations/(?P<Sid>RN{SID})")
def fetch_regulation(ctx: Ctx) -> tuple[int, Any]:
    regulation = ctx.state.regulations.get(ctx.groups["Sid"])
    if regulation is None:
        raise not_found(ctx.path)
    return 200, render.regulation(regulation)


# ---------------------------------------------------------------------- trusthub v1
def _product(ctx: Ctx, group: str) -> Bundle:
    product = ctx.state.trust_products_by_sid.get(ctx.groups[group])
    if product is None or product.account_sid != ctx.account.sid:
        raise not_found(ctx.path)
    return product


@route("GET", "trusthub", r"/v1/TrustProducts")
def list_trust_products(ctx: Ctx) -> tuple[int, Any]:
    found = ctx.state.trust_products(ctx.account.sid)
    if status := ctx.params.get("Status"):
        found = [t for t in found if t.status == status]
    if name := ctx.params.get("FriendlyName"):
        found = [t for t in found if t.friendly_name == name]
    if policy := ctx.params.get("PolicySid"):
        found = [t for t in found if t.regulation_sid == policy]
    return page_v(ctx, "results", [render.trust_product(t) for t in found])


@route("GET", "trusthub", rf"/v1/TrustProducts/(?P<Sid>BU{SID})")
def fetch_trust_product(ctx: Ctx) -> tuple[int, Any]:
    return 200, render.trust_product(_product(ctx, "Sid"))


@route("GET", "trusthub", rf"/v1/TrustProducts/(?P<TrustProductSid>BU{SID})/EntityAssignments")
def list_entity_assignments(ctx: Ctx) -> tuple[int, Any]:
    product = _product(ctx, "TrustProductSid")
    items = [i for i in ctx.state.entity_assignments.values() if i.parent_sid == product.sid]
    if object_type := ctx.params.get("ObjectType"):
        prefix = {"supporting_document": "RD", "end_user": "IT", "customer_profile": "BU"}.get(
            object_type, "??"
        )
        items = [i for i in items if i.object_sid.startswith(prefix)]
    return page_v(ctx, "results", [render.entity_assignment(i) for i in items])


@route("GET", "trusthub", rf"/v1/SupportingDocuments/(?P<Sid>RD{SID})")
def fetch_trust_document(ctx: Ctx) -> tuple[int, Any]:
    doc = ctx.state.trust_documents.get(ctx.groups["Sid"])
    if doc is None or doc.account_sid != ctx.account.sid:
        raise not_found(ctx.path)
    return 200, render.trust_document(doc)


@route("GET", "trusthub", r"/v1/SupportingDocuments")
def list_trust_documents(ctx: Ctx) -> tuple[int, Any]:
    docs = [d for d in ctx.state.trust_documents.values() if d.account_sid == ctx.account.sid]
    return page_v(ctx, "results", [render.trust_document(d) for d in docs])
