"""Enable: provision the tenant's Twilio side, adopting whatever an earlier attempt created.

Each step looks its resource up by a friendly name derived from the tenant before creating it,
so a retry after any failure (or a crash) finds and reuses what exists: never a duplicate
subaccount, Messaging Service or voice application. A database lease keeps two concurrent
enables of one tenant from racing past the lookups.
"""

from __future__ import annotations

from dataclasses import dataclass

from clienteling_setup.callback_auth import WEBHOOK_PREFIX
from clienteling_setup.providers.messaging import (
    AccountCredentials,
    MessagingGateway,
    Subaccount,
)
from clienteling_setup.workflow.core import adopt_or_create

VOICE_WEBHOOK_PATH = f"{WEBHOOK_PREFIX}/voice"


def subaccount_name(tenant: str) -> str:
    return f"clienteling:{tenant}"


def messaging_service_name(tenant: str) -> str:
    return f"clienteling:{tenant}"


def voice_app_name(tenant: str) -> str:
    return f"clienteling:{tenant}:call-forwarding"


@dataclass(frozen=True)
class ProvisionedTenant:
    subaccount: Subaccount
    messaging_service_sid: str
    voice_app_sid: str
    voice_app_name: str


def provision(gateway: MessagingGateway, tenant: str, voice_url: str) -> ProvisionedTenant:
    name = subaccount_name(tenant)
    subaccount = adopt_or_create(
        lambda: gateway.find_subaccount(name), lambda: gateway.create_subaccount(name)
    )
    account = AccountCredentials(subaccount.sid, subaccount.auth_token)

    service_name = messaging_service_name(tenant)
    service = adopt_or_create(
        lambda: gateway.find_messaging_service(account, service_name),
        lambda: gateway.create_messaging_service(account, service_name),
    )

    app_name = voice_app_name(tenant)
    app = adopt_or_create(
        lambda: gateway.find_application(account, app_name),
        lambda: gateway.create_application(account, app_name, voice_url),
    )
    if app.voice_url != voice_url:
        app = gateway.update_application(account, app.sid, voice_url)
    return ProvisionedTenant(subaccount, service.sid, app.sid, app.friendly_name)
