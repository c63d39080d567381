"""numbers v2 (regulatory bundles, supporting documents, regulations) and trusthub v1.

Both act on the authenticated account itself; another account's bundle answers 20404.
"""

from __future__ import annotations

from typing import Any

from . import render
from .errors import not_found
from .models import Bundle, Evaluation, Regulation
from .routing import SID, Ctx, page_v, record_routes, route

RC = r"/v2/RegulatoryCompliance"


@route("GET", "numbers", RC + r"/Bundles")
def list_bundles(ctx: Ctx) -> tuple[int, Any]:
    found = sorted(ctx.state.bundles(ctx.account.sid), key=lambda b: b.date_created, reverse=True)
    found = ctx.matching(
        found,
        IsoCountry=("iso_country", str.upper),
        NumberType=("number_type", str.lower),
        Status="status",
        FriendlyName="friendly_name",
        RegulationSid="regulation_sid",
        EndUserType="end_user_type",
    )
    if sids := ctx.params.get("BundleSids"):
        wanted = set(sids.split(","))
        found = [b for b in found if b.sid in wanted]
    return page_v(ctx, "results", found, render.bundle)


def _bundle(ctx: Ctx, group: str = "Sid") -> Bundle:
    return ctx.owned(ctx.state.bundles_by_sid, group)


record_routes("numbers", RC + rf"/Bundles/(?P<Sid>BU{SID})", _bundle, render.bundle)


@route("GET", "numbers", RC + rf"/Bundles/(?P<BundleSid>BU{SID})/ItemAssignments")
def list_item_assignments(ctx: Ctx) -> tuple[int, Any]:
    bundle = _bundle(ctx, "BundleSid")
    items = [i for i in ctx.state.item_assignments.values() if i.parent_sid == bundle.sid]
    return page_v(ctx, "results", items, render.item_assignment)


@route("GET", "numbers", RC + rf"/Bundles/(?P<BundleSid>BU{SID})/Evaluations")
def list_evaluations(ctx: Ctx) -> tuple[int, Any]:
    bundle = _bundle(ctx, "BundleSid")
    found = [e for e in ctx.state.evaluations.values() if e.bundle_sid == bundle.sid]
    found.sort(key=lambda e: e.date_created, reverse=True)
    return page_v(ctx, "results", found, render.evaluation)


def _evaluation(ctx: Ctx) -> Evaluation:
    bundle = _bundle(ctx, "BundleSid")
    evaluation = ctx.state.evaluations.get(ctx.groups["Sid"])
    if evaluation is None or evaluation.bundle_sid != bundle.sid:
        raise not_found(ctx.path)
    return evaluation


record_routes(
    "numbers",
    RC + rf"/Bundles/(?P<BundleSid>BU{SID})/Evaluations/(?P<Sid>EL{SID})",
    _evaluation,
    render.evaluation,
)


record_routes(
    "numbers",
    RC + rf"/SupportingDocuments/(?P<Sid>RD{SID})",
    lambda ctx: ctx.owned(ctx.state.regulatory_documents),
    render.regulatory_document,
)


@route("GET", "numbers", RC + r"/SupportingDocuments")
def list_regulatory_documents(ctx: Ctx) -> tuple[int, Any]:
    docs = [d for d in ctx.state.regulatory_documents.values() if d.account_sid == ctx.account.sid]
    return page_v(ctx, "results", docs, render.regulatory_document)


@route("GET", "numbers", RC + r"/Regulations")
def list_regulations(ctx: Ctx) -> tuple[int, Any]:
    found = ctx.matching(
        ctx.state.regulations.values(),
        IsoCountry=("iso_country", str.upper),
        NumberType=("number_type", str.lower),
        EndUserType="end_user_type",
    )
    return page_v(ctx, "results", found, render.regulation)


def _regulation(ctx: Ctx) -> Regulation:
    regulation = ctx.state.regulations.get(ctx.groups["Sid"])
    if regulation is None:
        raise not_found(ctx.path)
    return regulation


record_routes("numbers", RC + rf"/Regulations/(?P<Sid>RN{SID})", _regulation, render.regulation)


# ---------------------------------------------------------------------- trusthub v1
def _product(ctx: Ctx, group: str = "Sid") -> Bundle:
    return ctx.owned(ctx.state.trust_products_by_sid, group)


@route("GET", "trusthub", r"/v1/TrustProducts")
def list_trust_products(ctx: Ctx) -> tuple[int, Any]:
    found = ctx.matching(
        ctx.state.trust_products(ctx.account.sid),
        Status="status",
        FriendlyName="friendly_name",
        PolicySid="regulation_sid",
    )
    return page_v(ctx, "results", found, render.trust_product)


record_routes("trusthub", rf"/v1/TrustProducts/(?P<Sid>BU{SID})", _product, render.trust_product)


@route("GET", "trusthub", rf"/v1/TrustProducts/(?P<TrustProductSid>BU{SID})/EntityAssignments")
def list_entity_assignments(ctx: Ctx) -> tuple[int, Any]:
    product = _product(ctx, "TrustProductSid")
    items = [i for i in ctx.state.entity_assignments.values() if i.parent_sid == product.sid]
    if object_type := ctx.params.get("ObjectType"):
        prefix = {"supporting_document": "RD", "end_user": "IT", "customer_profile": "BU"}.get(
            object_type, "??"
        )
        items = [i for i in items if i.object_sid.startswith(prefix)]
    return page_v(ctx, "results", items, render.entity_assignment)


record_routes(
    "trusthub",
    rf"/v1/SupportingDocuments/(?P<Sid>RD{SID})",
    lambda ctx: ctx.owned(ctx.state.trust_documents),
    render.trust_document,
)


@route("GET", "trusthub", r"/v1/SupportingDocuments")
def list_trust_documents(ctx: Ctx) -> tuple[int, Any]:
    docs = [d for d in ctx.state.trust_documents.values() if d.account_sid == ctx.account.sid]
    return page_v(ctx, "results", docs, render.trust_document)
