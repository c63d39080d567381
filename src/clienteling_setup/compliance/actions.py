"""Per-country onboarding status and next actions, derived from plain facts.

Pure functions: the read model gathers the facts (from state kept in sync with Twilio) and this
module decides what each country's ``regulatory_bundle``, ``trusted_product`` and ``actions``
say. ``docs/actions.md`` documents every action string and the precedence below.

Precedence for one country, first match wins:

1. Not in the table, or no SMS number type there: ``["country_not_supported"]`` only.
2. Clienteling not enabled: ``["enable_clienteling"]`` only. Bundles and trust products live in
   the tenant's Twilio subaccount, which enabling creates, so nothing else can start before.
3. Enabled but the subaccount is not connected (suspended or closed): ``["fix_twilio_connection"]``
   only, for the same reason.
4. Otherwise every applicable step, in :data:`ACTION_ORDER`: the bundle step, the trust product
   step, ``create_opt_in_template`` and ``onboard_stores`` (once the bundle is usable, or none is
   required, and some stores still lack a number). Empty when nothing is left to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from clienteling_setup.compliance.rules import CountryRule, load_rules

ENABLE_CLIENTELING: Final = "enable_clienteling"
FIX_TWILIO_CONNECTION: Final = "fix_twilio_connection"
COUNTRY_NOT_SUPPORTED: Final = "country_not_supported"
CREATE_REGULATORY_BUNDLE: Final = "create_regulatory_bundle"
UPLOAD_SUPPORTING_DOCUMENTS: Final = "upload_supporting_documents"
FIX_REJECTED_BUNDLE: Final = "fix_rejected_bundle"
AWAIT_BUNDLE_REVIEW: Final = "await_bundle_review"
REGISTER_TRUST_PRODUCT: Final = "register_trust_product"
FIX_REJECTED_TRUST_PRODUCT: Final = "fix_rejected_trust_product"
AWAIT_TRUST_PRODUCT_REVIEW: Final = "await_trust_product_review"
# The US A2P 10DLC chain (business profile -> customer profile -> trust product -> brand ->
# campaigns), which the service registers itself (`clienteling_setup.a2p`).
SUBMIT_BUSINESS_PROFILE: Final = "submit_business_profile"
FIX_REJECTED_BRAND: Final = "fix_rejected_brand"
AWAIT_BRAND_REVIEW: Final = "await_brand_review"
FIX_REJECTED_CAMPAIGN: Final = "fix_rejected_campaign"
AWAIT_CAMPAIGN_REVIEW: Final = "await_campaign_review"
CREATE_OPT_IN_TEMPLATE: Final = "create_opt_in_template"
ONBOARD_STORES: Final = "onboard_stores"

#: Every action, in the order actions are listed: what blocks everything first, then what the
#: retailer must do before what it waits for, bundle before trust product (a number cannot be
#: bought without the bundle), and onboarding stores last.
ACTION_ORDER: Final[tuple[str, ...]] = (
    COUNTRY_NOT_SUPPORTED,
    ENABLE_CLIENTELING,
    FIX_TWILIO_CONNECTION,
    CREATE_REGULATORY_BUNDLE,
    UPLOAD_SUPPORTING_DOCUMENTS,
    FIX_REJECTED_BUNDLE,
    AWAIT_BUNDLE_REVIEW,
    REGISTER_TRUST_PRODUCT,
    FIX_REJECTED_TRUST_PRODUCT,
    AWAIT_TRUST_PRODUCT_REVIEW,
    SUBMIT_BUSINESS_PROFILE,
    FIX_REJECTED_BRAND,
    AWAIT_BRAND_REVIEW,
    FIX_REJECTED_CAMPAIGN,
    AWAIT_CAMPAIGN_REVIEW,
    CREATE_OPT_IN_TEMPLATE,
    ONBOARD_STORES,
)
_RANK: Final = {action: rank for rank, action in enumerate(ACTION_ORDER)}

# Twilio's bundle / trust product statuses.
DRAFT: Final = "draft"
PENDING_REVIEW: Final = "pending-review"
IN_REVIEW: Final = "in-review"
TWILIO_REJECTED: Final = "twilio-rejected"
TWILIO_APPROVED: Final = "twilio-approved"
PROVISIONALLY_APPROVED: Final = "provisionally-approved"
# Our own statuses when there is nothing at Twilio.
MISSING: Final = "missing"
NOT_REQUIRED: Final = "not_required"

#: Statuses under which a bundle or trust product counts as approved.
APPROVED_STATUSES: Final = frozenset({TWILIO_APPROVED, PROVISIONALLY_APPROVED})
UNDER_REVIEW_STATUSES: Final = frozenset({PENDING_REVIEW, IN_REVIEW})
#: Supporting-document statuses that call for a new upload.
DOCUMENT_NEEDS_UPLOAD_STATUSES: Final = frozenset({"rejected", "expired"})


@dataclass(frozen=True)
class DocumentFacts:
    """A supporting document as Twilio reports it (shown as an ``uploads[]`` entry)."""

    sid: str
    name: str
    status: str
    created_at: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True)
class ItemFacts:
    """A regulatory bundle or trust product of the tenant, as last synced."""

    status: str
    sid: str | None
    failure_reason: str | None = None
    documents: Sequence[DocumentFacts] = ()
    #: The next step when the item says it itself (the US A2P chain), else None: derived
    #: from its status.
    action: str | None = None


class BundleFacts(ItemFacts):
    """The tenant's regulatory bundle for the country, as last synced."""


class TrustProductFacts(ItemFacts):
    """The tenant's trust product the country needs (e.g. A2P 10DLC), as last synced."""


@dataclass(frozen=True)
class CountryFacts:
    """Everything the derivation needs to know about one country of one tenant."""

    country_code: str
    stores: int
    onboarded_stores: int
    clienteling_enabled: bool
    twilio_connected: bool
    bundle: BundleFacts | None = None
    trust_product: TrustProductFacts | None = None
    opt_in_exists: bool = False


@dataclass(frozen=True)
class ComplianceItem:
    """``regulatory_bundle`` or ``trusted_product`` of a country entry."""

    required: bool
    status: str
    id: str | None
    uploads: list[DocumentFacts] = field(default_factory=list)
    failure_reason: str | None = None


@dataclass(frozen=True)
class CountryStatus:
    """One ``countries[]`` entry of the onboarding status."""

    country_code: str
    stores: int
    number_availability_supported: bool
    regulatory_bundle: ComplianceItem
    trusted_product: ComplianceItem
    actions: list[str]


def derive_country_status(
    facts: CountryFacts, rules: Mapping[str, CountryRule] | None = None
) -> CountryStatus:
    """The country entry for ``facts``. ``rules`` defaults to the packaged table; pass rules
    refreshed with ``merge_regulations`` to use Twilio's current bundle requirements."""
    code = facts.country_code.strip().upper()
    rule = (load_rules() if rules is None else rules).get(code)
    supported = rule is not None and rule.sms_supported
    # Where no number can be bought, the service requires nothing; what exists is still shown.
    bundle_required = supported and rule is not None and rule.bundle_required
    trust_required = supported and rule is not None and rule.trust_product_required
    bundle = _item(bundle_required, facts.bundle)
    trusted = _item(trust_required, facts.trust_product)
    return CountryStatus(
        country_code=code,
        stores=facts.stores,
        number_availability_supported=supported,
        regulatory_bundle=bundle,
        trusted_product=trusted,
        actions=country_actions(facts, supported=supported, bundle=bundle, trusted=trusted),
    )


def country_actions(
    facts: CountryFacts, *, supported: bool, bundle: ComplianceItem, trusted: ComplianceItem
) -> list[str]:
    """The next steps for one country, in :data:`ACTION_ORDER` (see the module docstring)."""
    if not supported:
        return [COUNTRY_NOT_SUPPORTED]
    if not facts.clienteling_enabled:
        return [ENABLE_CLIENTELING]
    if not facts.twilio_connected:
        return [FIX_TWILIO_CONNECTION]
    actions: set[str] = set()
    if bundle.required:
        actions.update(
            _item_actions(
                bundle,
                create=CREATE_REGULATORY_BUNDLE,
                draft=UPLOAD_SUPPORTING_DOCUMENTS,
                rejected=FIX_REJECTED_BUNDLE,
                review=AWAIT_BUNDLE_REVIEW,
                redo_documents=UPLOAD_SUPPORTING_DOCUMENTS,
            )
        )
    chain = facts.trust_product
    if trusted.required and chain is not None and chain.action is not None:
        actions.add(chain.action)
    elif trusted.required:
        actions.update(
            _item_actions(
                trusted,
                create=REGISTER_TRUST_PRODUCT,
                draft=REGISTER_TRUST_PRODUCT,
                rejected=FIX_REJECTED_TRUST_PRODUCT,
                review=AWAIT_TRUST_PRODUCT_REVIEW,
                redo_documents=None,
            )
        )
    if not facts.opt_in_exists:
        actions.add(CREATE_OPT_IN_TEMPLATE)
    bundle_usable = not bundle.required or bundle.status in APPROVED_STATUSES
    if bundle_usable and facts.onboarded_stores < facts.stores:
        actions.add(ONBOARD_STORES)
    return ordered(actions)


def ordered(actions: Iterable[str]) -> list[str]:
    """Deduplicate and sort actions into :data:`ACTION_ORDER`."""
    return sorted(set(actions), key=_RANK.__getitem__)


def _item(required: bool, facts: ItemFacts | None) -> ComplianceItem:
    if facts is None or (facts.sid is None and facts.status == MISSING):
        return ComplianceItem(
            required=required, status=MISSING if required else NOT_REQUIRED, id=None
        )
    return ComplianceItem(
        required=required,
        status=facts.status,
        id=facts.sid,
        uploads=list(facts.documents),
        failure_reason=facts.failure_reason,
    )


def _item_actions(
    item: ComplianceItem,
    *,
    create: str,
    draft: str,
    rejected: str,
    review: str,
    redo_documents: str | None,
) -> set[str]:
    """The step for a required bundle or trust product. An unknown status yields no action (and
    the item does not count as approved). ``redo_documents`` is the step for an approved item
    with a rejected or expired document, if any."""
    if item.id is None:
        return {create}
    if item.status == TWILIO_REJECTED:
        return {rejected}
    if item.status in UNDER_REVIEW_STATUSES:
        return {review}
    if item.status == DRAFT:
        # A draft bundle is finished by uploading its documents; a draft trust product by
        # completing its registration.
        return {draft}
    if redo_documents is not None and item.status in APPROVED_STATUSES:
        if any(upload.status in DOCUMENT_NEEDS_UPLOAD_STATUSES for upload in item.uploads):
            return {redo_documents}
    return set()
