"""What every new subaccount finds: addresses, regulatory bundles and trust products.

* an address in each of US, CA, GB, DE, FR, NL, ES, IT and AU;
* an approved (``twilio-approved``) bundle for the SMS number type of every country that needs one
  (GB, DE, FR, NL, ES, IT, AU: mobile), plus an approved GB local bundle, a DE mobile bundle in
  ``pending-review`` and a FR mobile bundle that was ``twilio-rejected`` (its evaluation and one
  document carry the failure reason); each bundle has an end user, two supporting documents and
  the country's address as item assignments;
* two US A2P trust products: a "Secondary Customer Profile" (approved) and an
  "A2P Messaging Profile" (in review), each with an end user and supporting documents.

The master account gets nothing: master credentials on the numbers, messaging and trusthub APIs
see the master's own, empty, resources.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .compliance import add_address, add_bundle, add_trust_product
from .countries import COUNTRIES, sms_number_type

if TYPE_CHECKING:
    from .world import World

SEED_COUNTRIES = ("US", "CA", "GB", "DE", "FR", "NL", "ES", "IT", "AU")
REJECTION_REASON = (
    "The business name on the registration document does not match the bundle's end user."
)


def seed_account(world: World, account_sid: str) -> None:
    addresses = {iso: add_address(world, account_sid, iso).sid for iso in SEED_COUNTRIES}
    for iso in SEED_COUNTRIES:
        number_type = sms_number_type(iso)
        if not COUNTRIES[iso].types[number_type].bundle_required:
            continue
        add_bundle(world, account_sid, iso, number_type, address_sid=addresses[iso])
    add_bundle(world, account_sid, "GB", "local", address_sid=addresses["GB"])
    add_bundle(
        world,
        account_sid,
        "DE",
        "mobile",
        "pending-review",
        address_sid=addresses["DE"],
        friendly_name="Germany Mobile bundle (resubmitted)",
    )
    add_bundle(
        world,
        account_sid,
        "FR",
        "mobile",
        "twilio-rejected",
        address_sid=addresses["FR"],
        friendly_name="France Mobile bundle (first attempt)",
        failure_reason=REJECTION_REASON,
    )
    add_trust_product(world, account_sid, "Secondary Customer Profile", "twilio-approved")
    add_trust_product(world, account_sid, "A2P Messaging Profile", "in-review")
