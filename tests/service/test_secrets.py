"""Secrets: no Twilio credential in plaintext in the database, keys rotate, and no token,
secret or Authorization header value reaches a log line."""

from __future__ import annotations

import base64
import io
import logging
import re
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from sqlalchemy import MetaData, select

from clienteling_setup.bootstrap import build_runtime
from clienteling_setup.config import Settings
from clienteling_setup.crypto import SecretBox
from clienteling_setup.logs import JsonFormatter
from clienteling_setup.sync import sync_all
from clienteling_setup.tenants.models import Tenant
from tests.conftest import Service
from tests.service.helpers import available_number, enable, put_store
from tests.support import Api
from twilio_emulator import EmulatorServer


def _run(api: Api) -> str:
    """Enable, a store onboarded, the opt-in template: every table gets rows. The subaccount."""
    enable(api)
    put_store(api, "us-nyc")
    put_store(api, "de-ber")
    api.put("/clienteling/opt-in-template", json={"body": "Reply YES to get messages."})
    number = available_number(api, "us-nyc")
    response = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": number})
    assert response.status_code == 201, response.text
    return str(api.get("/clienteling/configuration").json()["twilio"]["sid"])


def _secrets(emulator: EmulatorServer, subaccount_sid: str) -> dict[str, str]:
    state = emulator.state
    account = state.account(subaccount_sid)
    assert account is not None
    return {
        "master auth token": state.master_auth_token,
        "subaccount auth token": account.auth_token,
    }


def test_no_twilio_secret_in_plaintext_in_any_column(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    subaccount = _run(api)
    secrets = {**_secrets(emulator, subaccount), "bearer token": api.token}
    metadata = MetaData()
    metadata.reflect(service.runtime.engine)  # every table, not only the ones we model
    assert {"tenants", "store_onboardings"} <= set(metadata.tables)
    scanned = 0
    with service.runtime.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in row._mapping.items():
                    if value is None:
                        continue
                    text = value.decode(errors="ignore") if isinstance(value, bytes) else str(value)
                    scanned += 1
                    for name, secret in secrets.items():
                        assert secret not in text, f"{name} in plaintext in {table.name}.{column}"
    assert scanned > 20
    # The subaccount token is stored, encrypted, and decrypts with the configured keys.
    with service.runtime.sessions() as session:
        tenant = session.get(Tenant, api.tenant)
        assert tenant is not None
        assert tenant.auth_token_encrypted.startswith("gAAAAA")  # a Fernet token
        stored = service.runtime.secrets.decrypt(tenant.auth_token_encrypted)
    assert stored == secrets["subaccount auth token"]


def test_rotation_prepending_a_new_key(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    subaccount = _run(api)
    old_key = (service.runtime.settings.data_dir / "encryption.key").read_text().strip()
    new_key = SecretBox.generate_key()
    settings = service.runtime.settings.model_copy(
        update={"encryption_keys": SecretStr(f"{new_key},{old_key}")}
    )
    assert isinstance(settings, Settings)
    rotated = build_runtime(
        settings, public_base_url=service.base_url, gateway=service.runtime.gateway
    )
    try:
        # Data written with the old key still decrypts: a sync pass talks to Twilio with it.
        report = sync_all(rotated)
        assert report.done == [api.tenant], report.failed
        with rotated.sessions.begin() as session:
            tenant = session.get(Tenant, api.tenant)
            assert tenant is not None
            tenant.auth_token_encrypted = rotated.secrets.rotate(tenant.auth_token_encrypted)
        with rotated.sessions() as session:
            tenant = session.get(Tenant, api.tenant)
            assert tenant is not None
            ciphertext = tenant.auth_token_encrypted
        token = _secrets(emulator, subaccount)["subaccount auth token"]
        assert SecretBox([new_key]).decrypt(ciphertext) == token
        with pytest.raises(ValueError, match="CLIENTELING_ENCRYPTION_KEYS"):
            SecretBox([old_key]).decrypt(ciphertext)
        # The old key can now be dropped.
        assert sync_all(rotated).done == [api.tenant]
    finally:
        rotated.close()


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """The service's JSON log lines (it runs in this process), at DEBUG, in a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def test_logs_carry_no_token_secret_or_authorization_value(
    api: Api, service: Service, emulator: EmulatorServer, captured_logs: io.StringIO
) -> None:
    forged = api.token[:-4] + ("AAAA" if not api.token.endswith("AAAA") else "BBBB")
    # Authentication failures: a forged token, a token for another tenant, Basic credentials.
    assert (
        api.get("/clienteling/stores", headers={"Authorization": f"Bearer {forged}"}).status_code
        == 403
    )
    assert api.get("/clienteling/stores", headers={"Tenant": "other"}).status_code == 403
    basic = "Basic " + base64.b64encode(b"user:hunter2-password").decode()
    assert api.get("/clienteling/stores", headers={"Authorization": basic}).status_code == 401
    # Twilio errors: a failed purchase (502), an unreachable Twilio (503), then success.
    subaccount = _run_with_twilio_errors(api, emulator)
    secrets = _secrets(emulator, subaccount)
    twilio_basic = base64.b64encode(
        f"{subaccount}:{secrets['subaccount auth token']}".encode()
    ).decode()
    master_basic = base64.b64encode(
        f"{emulator.state.master_account_sid}:{secrets['master auth token']}".encode()
    ).decode()
    logs = captured_logs.getvalue()
    assert logs.count('"logger": "clienteling_setup.access"') >= 10  # not vacuous
    assert "twilio" in logs.lower()  # the Twilio failures were logged
    forbidden = {
        **secrets,
        "bearer token": api.token,
        "forged bearer token": forged,
        "bearer token signature": api.token.rsplit(".", 1)[1],
        "basic password": "hunter2-password",
        "basic credentials": basic.split()[1],
        "subaccount basic credentials": twilio_basic,
        "master basic credentials": master_basic,
    }
    for name, value in forbidden.items():
        assert value not in logs, f"{name} appears in the logs"
    # No Authorization header value in any form, masked or not.
    assert not re.search(r"(?i)(bearer|basic)\s+(?!\*\*\*)[A-Za-z0-9+/=._-]{8,}", logs)
    assert not re.search(r"(?i)authorization['\"]?\s*[:=]", logs)


def _run_with_twilio_errors(api: Api, emulator: EmulatorServer) -> str:
    emulator.state.add_fault(method="POST", path=r"/2010-04-01/Accounts\.json", status=500)
    failed = api.post("/clienteling/configuration", json={"ecom_link": "https://x.example"})
    assert failed.status_code == 502, failed.text
    subaccount = _run(api)
    emulator.state.add_fault(method="POST", path=r"/IncomingPhoneNumbers\.json", status=503)
    put_store(api, "us-sf", country_code="US", region="CA", postal_code="94105", phone=None)
    number = available_number(api, "us-sf")
    unreachable = api.post("/clienteling/stores/us-sf/onboard", json={"phone_number": number})
    assert unreachable.status_code == 503, unreachable.text
    return subaccount
