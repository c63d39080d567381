"""Enable, read and update the retailer configuration; the opt-in template."""

from __future__ import annotations

from tests.service.helpers import enable
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer


def test_enable_provisions_twilio_and_answers_201(api: Api, emulator: EmulatorServer) -> None:
    body = enable(api)
    assert body["tenant"] == "acme"
    assert body["ecom_link"] == "https://www.dodici.example"
    sub_sid = body["twilio"]["sid"]
    assert sub_sid.startswith("AC")
    assert body["twilio"]["call_forwarding"]["sid"].startswith("AP")
    state = emulator.state
    subaccounts = [a for a in state.subaccounts() if a.friendly_name == "clienteling:acme"]
    assert [a.sid for a in subaccounts] == [sub_sid]
    services = state.messaging_services(sub_sid)
    assert [s.sid for s in services] == [body["twilio"]["messaging_service_sid"]]
    apps = state.applications(sub_sid)
    assert len(apps) == 1
    assert apps[0].voice_url.endswith("/clienteling/webhooks/twilio/voice")
    assert "auth_token" not in str(body)
    fetched = api.get("/clienteling/configuration").json()
    assert fetched == body


def test_enable_twice_is_409(api: Api, emulator: EmulatorServer) -> None:
    enable(api)
    response = api.post("/clienteling/configuration", json={"ecom_link": "https://x.example"})
    assert_error(response, 409, "already configured")
    assert (
        len([a for a in emulator.state.subaccounts() if a.friendly_name == "clienteling:acme"]) == 1
    )


def test_enable_retry_after_failure_adopts_what_exists(api: Api, emulator: EmulatorServer) -> None:
    state = emulator.state
    # The subaccount gets created, then Twilio fails while creating the Messaging Service.
    state.add_fault(method="POST", path=r"/v1/Services$", kind="error", status=500, times=5)
    failed = api.post("/clienteling/configuration", json={"ecom_link": "https://x.example"})
    assert_error(failed, 502, "Twilio")
    assert_error(api.get("/clienteling/configuration"), 404)
    state.clear_faults()
    body = enable(api)
    subaccounts = [a for a in state.subaccounts() if a.friendly_name == "clienteling:acme"]
    assert [a.sid for a in subaccounts] == [body["twilio"]["sid"]]
    assert len(state.messaging_services(body["twilio"]["sid"])) == 1
    assert len(state.applications(body["twilio"]["sid"])) == 1


def test_enable_when_twilio_is_unreachable_is_503_with_retry_after(
    api: Api, emulator: EmulatorServer
) -> None:
    emulator.state.add_fault(
        method="GET", path=r"/Accounts\.json", kind="error", status=503, times=50
    )
    response = api.post("/clienteling/configuration", json={"ecom_link": "https://x.example"})
    assert response.status_code in (502, 503)
    assert_error(response, response.status_code, "Twilio")
    if response.status_code == 503:
        assert int(response.headers["Retry-After"]) >= 1
    assert_error(api.get("/clienteling/configuration"), 404)


def test_patch_updates_ecom_link(api: Api) -> None:
    assert_error(
        api.patch("/clienteling/configuration", json={"ecom_link": "https://n.example"}), 404
    )
    enable(api)
    response = api.patch("/clienteling/configuration", json={"ecom_link": "https://n.example/"})
    assert response.status_code == 200
    assert response.json()["ecom_link"] == "https://n.example/"
    assert_error(
        api.patch("/clienteling/configuration", json={"ecom_link": "ftp://x"}), 400, "ecom_link"
    )
    assert_error(
        api.patch("/clienteling/configuration", json={"ecom_link": None}), 400, "ecom_link"
    )


def test_opt_in_template_put_get(api: Api) -> None:
    assert_error(api.get("/clienteling/opt-in-template"), 404, "PUT /clienteling/opt-in-template")
    created = api.put("/clienteling/opt-in-template", json={"body": "Reply YES to opt in."})
    assert created.status_code == 201
    replaced = api.put("/clienteling/opt-in-template", json={"body": "Reply START."})
    assert replaced.status_code == 200
    assert replaced.json()["id"] == created.json()["id"]
    assert api.get("/clienteling/opt-in-template").json()["body"] == "Reply START."
    assert_error(api.put("/clienteling/opt-in-template", json={"body": " "}), 400, "body")
    assert_error(api.put("/clienteling/opt-in-template", json={"body": "x" * 1601}), 400, "body")
