"""Twilio's regulations: which country and number type need a bundle, and what a bundle needs.

One regulation (RN...) per country, number type that requires a bundle (see `countries.py`) and
end-user type (business or individual); its SID is derived from those three, so it is the same in
every emulator.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .countries import COUNTRIES, TYPE_NAMES
from .models import Regulation

END_USER_TYPES = ("business", "individual")
NUMBERS = "https://numbers.twilio.com/v2/RegulatoryCompliance"


def regulation_sid(iso_country: str, number_type: str, end_user_type: str) -> str:
    key = f"regulation:{iso_country}:{number_type}:{end_user_type}"
    return "RN" + hashlib.md5(key.encode()).hexdigest()


def all_regulations() -> dict[str, Regulation]:
    """Twilio's regulations for the countries and types that need a bundle."""
    found: dict[str, Regulation] = {}
    for iso, rules in COUNTRIES.items():
        for number_type, rule in rules.types.items():
            if not rule.bundle_required:
                continue
            for end_user_type in END_USER_TYPES:
                sid = regulation_sid(iso, number_type, end_user_type)
                name = f"{rules.name}: {TYPE_NAMES[number_type]} - {end_user_type.title()}"
                found[sid] = Regulation(sid, iso, number_type, end_user_type, name)
    return found


def requirements(regulation: Regulation) -> dict[str, Any]:
    """The `requirements` object of a regulation, shaped like Twilio's."""
    kind = regulation.end_user_type
    fields = (
        ["business_name", "business_registration_number"]
        if kind == "business"
        else ["first_name", "last_name"]
    )
    return {
        "end_user": [
            {
                "name": kind.title(),
                "type": kind,
                "requirement_name": f"{kind}_info",
                "url": f"{NUMBERS}/Regulations/{kind}",
                "fields": fields,
                "detailed_fields": [
                    {
                        "machine_name": f,
                        "friendly_name": f.replace("_", " ").title(),
                        "description": f.replace("_", " ").capitalize(),
                    }
                    for f in fields
                ],
            }
        ],
        "supporting_document": [
            [
                {
                    "name": "Address",
                    "type": "document",
                    "requirement_name": "proof_of_address",
                    "description": "The physical location of the business or individual.",
                    "accepted_documents": [
                        {
                            "name": "Address Validation",
                            "type": "address",
                            "url": f"{NUMBERS}/DocumentTypes/address",
                            "fields": ["address_sids"],
                        }
                    ],
                }
            ]
        ],
    }
