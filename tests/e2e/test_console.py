"""The operator console at /console, end to end in headless Chromium.

The service runs as `clienteling-setup serve` on the embedded default (SQLite, the built-in
Twilio emulator, local object storage) in a subprocess; stores are loaded and tokens made with
the command line, as an operator would. Screenshots of the main views at desktop and phone
widths go to artifacts/ (gitignored).
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.service.a2p_helpers import complete_registration
from tests.support import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

STORES = [
    ("nyc-5th", "Dodici Fifth Avenue", "US", "NY", "New York", "10022", "+12125550123"),
    ("ber-pp", "Dodici Potsdamer Platz", "DE", "BE", "Berlin", "10785", "+4930901820"),
    ("tyo-gz", "Dodici Ginza", "JP", "", "Tokyo", "", ""),
]

if not CHROMIUM.exists():
    pytest.skip(
        f"Chromium is not installed at {CHROMIUM}; scripts/test installs it with "
        "'apt-get install -y chromium chromium-driver' when run as root with apt available",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright  # noqa: E402

# One service and one browser for the module, on one xdist worker.
pytestmark = pytest.mark.xdist_group("e2e-console")


@dataclass
class EmbeddedService:
    base_url: str
    data_dir: Path
    env: dict[str, str]

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "clienteling_setup.cli", *args],
            env=self.env,
            cwd=self.data_dir.parent,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def import_stores(self, tenant: str, rows: list[tuple[str, ...]]) -> None:
        path = self.data_dir.parent / f"stores-{tenant}.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "name", "country_code", "region", "locality", "postal_code"])
            writer.writerows(row[:6] for row in rows)
        assert f"Imported {len(rows)} store(s)" in self.cli(
            "stores", "import", str(path), "--tenant", tenant
        )

    def token(self, tenant: str) -> str:
        return self.cli("token", "--tenant", tenant)

    def api(self, tenant: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.token(tenant)}", "Tenant": tenant},
            timeout=60,
        )


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedService]:
    root = tmp_path_factory.mktemp("console")
    data_dir = root / "var"
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLIENTELING_")}
    env.update(CLIENTELING_DATA_DIR=str(data_dir), CLIENTELING_SYNC_INTERVAL_SECONDS="0")
    port = free_port()
    log = (root / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "clienteling_setup.cli", "serve", "--port", str(port)],
        env=env,
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((root / "serve.log").read_text())
            time.sleep(0.1)
        yield EmbeddedService(base_url, data_dir, env)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, service: EmbeddedService, tenant: str) -> None:
    page.goto(f"{service.base_url}/console")
    page.get_by_label("Tenant").fill(tenant)
    page.get_by_label("Bearer token").fill(service.token(tenant))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="At a glance")).to_be_visible()


def store_row(page: Page, store_id: str) -> Locator:
    return page.locator(f"#store-rows tr[data-store-id='{store_id}']")


def test_console_is_served_offline_from_the_package(embedded: EmbeddedService) -> None:
    page_html = httpx.get(f"{embedded.base_url}/console/", timeout=10)
    assert page_html.status_code == 200
    assert page_html.headers["content-type"].startswith("text/html")
    # Nothing is loaded from another host: every script and stylesheet is ours.
    for ref in re.findall(r'(?:src|href)="([^"]+)"', page_html.text):
        assert ref.startswith(("/console/", "#", "data:")), ref
    for asset in ("app.js", "api.js", "actions.js", "console.css"):
        response = httpx.get(f"{embedded.base_url}/console/{asset}", timeout=10)
        assert response.status_code == 200, asset
        assert "//cdn" not in response.text, asset
        assert "http://" not in response.text, asset
    missing = httpx.get(f"{embedded.base_url}/console/secrets.py", timeout=10)
    assert missing.status_code == 404
    assert missing.json()["request_id"] == missing.headers["X-Request-ID"]


def test_sign_in_enable_and_onboard_a_store_through_the_forms(
    embedded: EmbeddedService, browser: Browser, page: Page
) -> None:
    tenant = "dodici"
    embedded.import_stores(tenant, STORES)
    sign_in(page, embedded, tenant)

    # The imported directory is shown: every store, not onboarded yet.
    expect(page.locator("#store-rows tr")).to_have_count(3)
    expect(page.locator("#store-count")).to_have_text("3 of 3 stores")
    expect(store_row(page, "nyc-5th").locator(".store-sms")).to_have_text("Not onboarded")
    expect(page.locator("#enabled-state")).to_contain_text("Not enabled")
    expect(page.locator("#progress-figure")).to_have_text("0%")
    # Actions read as next steps; before enabling every supported country asks for that.
    expect(page.locator("li[data-country='US'] .steps")).to_contain_text(
        "Enable clienteling for the retailer first"
    )
    expect(page.locator("li[data-country='JP']")).to_contain_text(
        "Clienteling cannot buy SMS numbers for stores in JP"
    )
    shot(page, "console-desktop-before-enabling")

    page.get_by_label("E-commerce website").fill("https://www.dodici.example")
    page.get_by_role("button", name="Enable clienteling").click()
    expect(page.locator("#enabled-state")).to_contain_text("Enabled")
    expect(page.locator("#twilio-state")).to_have_text("Connected")
    # The bundles and trust products are read in the background; the console follows that read.
    expect(page.locator("#twilio-reading")).to_be_hidden(timeout=30_000)
    # Every action the API lists for a country is one plain-language step (no raw strings).
    with embedded.api(tenant) as client:
        countries = client.get("/clienteling/onboarding-status").json()["countries"]
    for country in countries:
        steps = page.locator(f"li[data-country='{country['country_code']}'] li.step")
        expect(steps).to_have_count(len(country["actions"]))
        for text in steps.all_text_contents():
            assert "_" not in text, text
            assert not text.startswith("Next step:"), text
    expect(page.locator("li[data-country='US'] .steps")).to_contain_text(
        "Write the SMS opt-in disclaimer"
    )

    page.get_by_label("Disclaimer sent before the first message").fill(
        "Reply YES to get messages from Dodici."
    )
    page.get_by_role("button", name="Create template").click()
    expect(page.locator("#optin-form .form-ok")).to_have_text("Saved.")
    expect(page.locator("li[data-country='US'] .steps")).not_to_contain_text("opt-in")

    # Onboard the New York store: pick a number near it, read the confirmation, buy.
    store_row(page, "nyc-5th").get_by_role("button", name="Onboard").click()
    dialog = page.get_by_role("dialog", name="Onboard store")
    numbers = dialog.get_by_label("Phone number near the store")
    expect(numbers.locator("option")).not_to_have_count(1)
    options = numbers.locator("option").all_text_contents()
    assert any("NY" in option for option in options[1:]), options
    chosen = numbers.locator("option").nth(1).get_attribute("value")
    assert chosen is not None
    assert chosen.startswith("+1")
    numbers.select_option(chosen)
    dialog.get_by_role("button", name="Review").click()
    expect(dialog.locator("#onboard-confirm-text")).to_contain_text(
        f"This buys the phone number {chosen} through Twilio for Dodici Fifth Avenue"
    )
    expect(dialog.locator("#onboard-confirm-text")).to_contain_text("charges the retailer")
    shot(page, "console-desktop-onboard-confirm")
    dialog.get_by_role("button", name="Buy number and onboard").click()
    expect(dialog.locator(".form-ok")).to_contain_text(
        f"Dodici Fifth Avenue is onboarded with {chosen}"
    )
    # A US number is ready at once; it sends once the A2P 10DLC campaign is verified.
    with embedded.api(tenant) as client:
        complete_registration(client, None)  # the embedded reviews take seconds
    dialog.get_by_role("button", name="Close").click()
    page.get_by_role("button", name="Refresh").click()  # the registration finished meanwhile

    # The page now shows what the API says.
    row = store_row(page, "nyc-5th")
    expect(row.locator(".store-sms")).to_have_text("Onboarded")
    expect(row.locator(".store-number")).to_have_text(chosen)
    # Progress counts what can be done: JP, which the service cannot serve, is left out.
    expect(page.locator("#progress-figure")).to_have_text("50%")
    expect(page.locator("#retailer-state")).to_contain_text("Retailer onboarded")
    with embedded.api(tenant) as client:
        status = client.get("/clienteling/onboarding-status").json()
    store = next(s for s in status["stores"] if s["id"] == "nyc-5th")
    assert store["phone_number"] == chosen
    assert store["channels"]["sms"]["status"] == "onboarded"
    assert status["onboarded"] is True
    shot(page, "console-desktop")

    # The same view on a phone: one card per store.
    phone = browser.new_page(viewport=PHONE)
    try:
        sign_in(phone, embedded, tenant)
        expect(store_row(phone, "nyc-5th").locator(".store-sms")).to_have_text("Onboarded")
        shot(phone, "console-phone")
    finally:
        phone.close()


def test_api_errors_are_shown_with_message_and_request_id(
    embedded: EmbeddedService, page: Page
) -> None:
    tenant = "errors"
    embedded.import_stores(tenant, STORES[:1])

    # A token for another tenant: the 403 is shown on the sign-in form.
    page.goto(f"{embedded.base_url}/console")
    page.get_by_label("Tenant").fill(tenant)
    page.get_by_label("Bearer token").fill(embedded.token("someone-else"))
    with page.expect_response(re.compile(r"/clienteling/onboarding-status")) as denied:
        page.get_by_role("button", name="Sign in").click()
    form_error = page.locator("#sign-in-form .form-error")
    expect(form_error).to_contain_text("does not grant access to tenant 'errors'")
    expect(form_error.locator(".request-id-value")).to_have_text(
        denied.value.headers["x-request-id"]
    )
    expect(page.locator("#console")).to_be_hidden()

    sign_in(page, embedded, tenant)
    page.get_by_label("E-commerce website").fill("https://www.errors.example")
    page.get_by_role("button", name="Enable clienteling").click()
    expect(page.locator("#twilio-state")).to_have_text("Connected")

    # Claim a number the retailer does not own: the API refuses, the dialog says why.
    store_row(page, "nyc-5th").get_by_role("button", name="Onboard").click()
    dialog = page.get_by_role("dialog", name="Onboard store")
    dialog.get_by_label("already owns a number").check()
    dialog.get_by_label("Owned number (E.164)").fill("+12125550199")
    dialog.get_by_role("button", name="Review").click()
    expect(dialog.locator("#onboard-confirm-text")).to_contain_text("Nothing is bought")
    with page.expect_response(re.compile(r"/clienteling/stores/nyc-5th/onboard")) as refused:
        dialog.get_by_role("button", name="Onboard with this number").click()
    assert refused.value.status == 400
    body = refused.value.json()
    error_box = dialog.locator(".form-error")
    # In plain words, the API's own behind a details toggle, the field in error focused.
    expect(error_box.locator(".error-message")).to_contain_text("does not own this number")
    expect(error_box.locator(".error-raw")).to_have_text(body["message"])
    expect(dialog.get_by_label("Owned number (E.164)")).to_have_attribute("aria-invalid", "true")
    expect(error_box.locator(".request-id-value")).to_have_text(body["request_id"])
    expect(error_box).to_contain_text("HTTP 400")
    shot(page, "console-desktop-api-error")
    dialog.get_by_role("button", name="Cancel").click()
    expect(store_row(page, "nyc-5th").locator(".store-sms")).to_have_text("Not onboarded")


def test_stores_table_stays_fast_at_ten_thousand_stores(
    embedded: EmbeddedService, page: Page
) -> None:
    tenant = "bigco"
    countries = [("US", "NY", "New York"), ("DE", "BE", "Berlin"), ("GB", "", "London")]
    rows = [(f"s{i:05d}", f"Store {i:05d}", *countries[i % 3], "") for i in range(10_000)]
    embedded.import_stores(tenant, rows)
    sign_in(page, embedded, tenant)
    expect(page.locator("#store-count")).to_have_text("10000 of 10000 stores")
    # Only the current page is in the DOM.
    expect(page.locator("#store-rows tr")).to_have_count(50)
    expect(page.locator("#page-label")).to_have_text("Page 1 of 200")

    timings = page.evaluate(
        """() => {
            const t0 = performance.now();
            const search = document.getElementById('store-search');
            search.value = 'store 0999';
            search.dispatchEvent(new Event('input'));
            return new Promise((resolve) => setTimeout(() => resolve(performance.now() - t0), 400));
        }"""
    )
    assert timings < 2000
    expect(page.locator("#store-count")).to_have_text("10 of 10000 stores")
    expect(page.locator("#store-rows tr").first).to_have_attribute("data-store-id", "s09990")

    page.get_by_label("Search").fill("")
    # The search box is debounced: let the cleared search apply before paging, or its late
    # filter pass sends the table back to page 1 after the click below.
    expect(page.locator("#store-count")).to_have_text("10000 of 10000 stores")
    page.get_by_label("Country", exact=True).select_option("DE")
    expect(page.locator("#store-count")).to_have_text("3333 of 10000 stores")
    page.get_by_role("button", name="Store", exact=True).click()  # now descending by name
    # The first column holds the selection checkboxes; the name's is the second.
    expect(page.locator("#store-table th").nth(1)).to_have_attribute("aria-sort", "descending")
    expect(page.locator("#store-rows tr").first).to_have_attribute("data-store-id", "s09997")
    page.get_by_role("button", name="Next page").click()
    expect(page.locator("#page-label")).to_have_text("Page 2 of 67")
    expect(page.locator("#store-rows tr")).to_have_count(50)
    # Keyboard: the sort control is a button reachable and operable from the keyboard.
    page.get_by_role("button", name="Country", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.locator("#store-table th").nth(2)).to_have_attribute("aria-sort", "ascending")
    shot(page, "console-desktop-10000-stores")


def tiny_png() -> bytes:
    """A valid 1x1 PNG."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x1f\x4f\xd1")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_whatsapp_onboarding_with_a_profile_picture_upload(
    embedded: EmbeddedService, page: Page
) -> None:
    tenant = "whatsco"
    embedded.import_stores(tenant, STORES[:1])
    with embedded.api(tenant) as client:
        assert client.post(
            "/clienteling/configuration", json={"ecom_link": "https://www.whatsco.example"}
        ).is_success
        number = client.get("/clienteling/stores/nyc-5th/available-phone-numbers").json()[0]
        onboarded = client.post(
            "/clienteling/stores/nyc-5th/onboard",
            json={"phone_number": number["phone_number"]},
        )
        assert onboarded.status_code == 201, onboarded.text
    sign_in(page, embedded, tenant)
    expect(store_row(page, "nyc-5th").locator(".store-whatsapp")).to_contain_text("Not onboarded")

    store_row(page, "nyc-5th").get_by_role("button", name="WhatsApp").click()
    dialog = page.get_by_role("dialog", name="Onboard store to WhatsApp")
    expect(dialog.get_by_label("Profile name")).to_have_value("Dodici Fifth Avenue")
    dialog.get_by_label("WhatsApp Business Account ID").fill("1234567890")
    dialog.get_by_label("About").fill("Open Mon-Sat, 10:00-20:00.")
    picture = tiny_png()
    dialog.get_by_label("PNG or JPEG, at most 5 MB").set_input_files(
        {"name": "logo.png", "mimeType": "image/png", "buffer": picture}
    )
    expect(dialog.locator("#wa-picture-status")).to_have_text("Uploaded logo.png.")
    public_url = dialog.get_by_label("Picture URL").input_value()
    assert public_url.endswith("/logo.png")
    # The file went through the upload URL the API handed out and is public now.
    assert httpx.get(public_url, timeout=10).content == picture
    shot(page, "console-desktop-whatsapp")

    with page.expect_response(re.compile(r"/whatsapp/onboard$")) as registered:
        dialog.get_by_role("button", name="Register with WhatsApp").click()
    sender = registered.value.json()
    assert registered.value.status == 202, sender
    expect(dialog.locator(".form-ok")).to_contain_text(f"WhatsApp sender {sender['sid']}")
    dialog.get_by_role("button", name="Close").click()
    expect(store_row(page, "nyc-5th").locator(".store-whatsapp")).not_to_contain_text(
        "Not onboarded"
    )
    with embedded.api(tenant) as client:
        status = client.get("/clienteling/onboarding-status").json()
    whatsapp = status["stores"][0]["channels"]["whatsapp"]
    assert whatsapp["sid"] == sender["sid"]
    expect(store_row(page, "nyc-5th").locator(".store-whatsapp")).to_contain_text(
        whatsapp["status"].replace("_", " "), ignore_case=True
    )


def test_onboarding_where_the_country_needs_a_bundle_and_an_address(
    embedded: EmbeddedService, page: Page
) -> None:
    tenant = "berlinco"
    embedded.import_stores(tenant, STORES[1:2])
    with embedded.api(tenant) as client:
        assert client.post(
            "/clienteling/configuration", json={"ecom_link": "https://www.berlinco.example"}
        ).is_success
        bundles = client.get("/clienteling/stores/ber-pp/regulatory-bundles").json()
    approved = next(b for b in bundles if b["status"] == "twilio-approved")
    sign_in(page, embedded, tenant)

    store_row(page, "ber-pp").get_by_role("button", name="Onboard").click()
    dialog = page.get_by_role("dialog", name="Onboard store")
    numbers = dialog.get_by_label("Phone number near the store")
    expect(numbers.locator("option")).not_to_have_count(1)
    chosen = numbers.locator("option").nth(1).get_attribute("value")
    assert chosen is not None
    assert chosen.startswith("+49")
    numbers.select_option(chosen)
    # Without a bundle the form says what is missing before anything is sent.
    dialog.get_by_role("button", name="Review").click()
    expect(dialog.locator(".form-error")).to_contain_text(
        "DE requires a regulatory bundle and an address"
    )
    dialog.get_by_label("Regulatory bundle").select_option(approved["sid"])
    # The bundle's own address is chosen with it.
    expect(dialog.get_by_label("Address")).to_have_value(approved["address_sid"])
    dialog.get_by_role("button", name="Review").click()
    expect(dialog.locator("#onboard-confirm-text")).to_contain_text(
        f"This buys the phone number {chosen} through Twilio for Dodici Potsdamer Platz (DE)"
    )
    with page.expect_request(re.compile(r"/clienteling/stores/ber-pp/onboard")) as sent:
        dialog.get_by_role("button", name="Buy number and onboard").click()
    assert sent.value.post_data_json == {
        "phone_number": chosen,
        "bundle_sid": approved["sid"],
        "address_sid": approved["address_sid"],
    }
    expect(dialog.locator(".form-ok")).to_contain_text(f"onboarded with {chosen}")
    dialog.get_by_role("button", name="Close").click()
    expect(store_row(page, "ber-pp").locator(".store-sms")).to_have_text("Onboarded")
    expect(store_row(page, "ber-pp").locator(".store-number")).to_have_text(chosen)


def _onboarded_tenant(embedded: EmbeddedService, tenant: str, stores: list[str]) -> dict[str, str]:
    """The tenant enabled, `stores` onboarded for SMS through the API; their numbers."""
    embedded.import_stores(
        tenant, STORES[:1] + [(s, f"Dodici {s}", *STORES[0][2:]) for s in stores[1:]]
    )
    numbers = {}
    with embedded.api(tenant) as client:
        assert client.post(
            "/clienteling/configuration", json={"ecom_link": f"https://www.{tenant}.example"}
        ).is_success
        for store_id in stores:
            offered = client.get(f"/clienteling/stores/{store_id}/available-phone-numbers").json()
            number = next(
                n["phone_number"] for n in offered if n["phone_number"] not in numbers.values()
            )
            onboarded = client.post(
                f"/clienteling/stores/{store_id}/onboard", json={"phone_number": number}
            )
            assert onboarded.status_code == 201, onboarded.text
            numbers[store_id] = number
    return numbers


def test_offboarding_and_closing_stores_say_what_is_released(
    embedded: EmbeddedService, page: Page
) -> None:
    tenant = "offco"
    numbers = _onboarded_tenant(embedded, tenant, ["nyc-5th", "nyc-soho"])
    sign_in(page, embedded, tenant)
    row = store_row(page, "nyc-5th")
    expect(row.locator(".store-number")).to_have_text(numbers["nyc-5th"])

    # Offboard, keeping the number: the confirmation says it keeps costing.
    row.get_by_role("button", name="Offboard").click()
    dialog = page.get_by_role("dialog", name="Offboard store")
    dialog.get_by_label("Keep the number for this store").check()
    dialog.get_by_role("button", name="Review").click()
    confirm = dialog.locator("#offboard-confirm-list")
    expect(confirm).to_contain_text(f"{numbers['nyc-5th']} leaves the Messaging Service")
    expect(confirm).to_contain_text(f"{numbers['nyc-5th']} is kept")
    expect(confirm).to_contain_text("keeps costing every month")
    dialog.get_by_role("button", name="Back").click()

    # Offboard, releasing: the confirmation says the cost stops.
    dialog.get_by_label("Keep the number for this store").uncheck()
    dialog.get_by_role("button", name="Review").click()
    expect(confirm).to_contain_text(f"{numbers['nyc-5th']} is released")
    expect(confirm).to_contain_text("stops charging the retailer's account for it every month")
    shot(page, "console-desktop-offboard-confirm")
    with page.expect_response(re.compile(r"/offboard$")) as answered:
        dialog.get_by_role("button", name="Offboard and release").click()
    assert answered.value.status == 200
    expect(dialog.locator(".form-ok")).to_have_text(
        f"Dodici Fifth Avenue is offboarded. Released: {numbers['nyc-5th']}."
    )
    dialog.get_by_role("button", name="Close").click()
    expect(row.locator(".store-sms")).to_have_text("Not onboarded")
    expect(row.get_by_role("button", name="Offboard")).to_have_count(0)

    # Close a store: offboarded (releasing), then gone from the directory.
    store_row(page, "nyc-soho").get_by_role("button", name="Offboard").click()
    dialog.get_by_label("Also remove the store from the directory").check()
    dialog.get_by_role("button", name="Review").click()
    expect(confirm).to_contain_text(f"{numbers['nyc-soho']} is released")
    expect(confirm).to_contain_text("is removed from the store directory")
    dialog.get_by_role("button", name="Offboard and remove store").click()
    expect(dialog.locator(".form-ok")).to_contain_text("offboarded and removed from the directory")
    dialog.get_by_role("button", name="Close").click()
    expect(store_row(page, "nyc-soho")).to_have_count(0)
    with embedded.api(tenant) as client:
        assert client.get("/clienteling/stores/nyc-soho").status_code == 404


def test_disabling_the_retailer_from_the_console(embedded: EmbeddedService, page: Page) -> None:
    tenant = "closeco"
    numbers = _onboarded_tenant(embedded, tenant, ["nyc-5th", "nyc-soho"])
    sign_in(page, embedded, tenant)
    page.get_by_role("button", name="Disable clienteling…").click()
    dialog = page.get_by_role("dialog", name="Disable clienteling")
    listed = dialog.locator("#disable-confirm-list")
    expect(listed).to_contain_text("All 2 onboarded stores are offboarded")
    expect(listed).to_contain_text("Twilio stops charging for each of them every month")
    expect(listed).to_contain_text("Twilio account is closed")
    shot(page, "console-desktop-disable-confirm")

    dialog.get_by_label("Type the retailer's name to confirm").fill("someone-else")
    dialog.get_by_role("button", name="Disable and release everything").click()
    expect(dialog.locator(".form-error")).to_contain_text(f"Type the retailer's name, {tenant}")
    dialog.get_by_label("Type the retailer's name to confirm").fill(tenant)
    with page.expect_response(re.compile(r"/clienteling/configuration$")) as answered:
        dialog.get_by_role("button", name="Disable and release everything").click()
    assert answered.value.status in (200, 202)
    dialog.get_by_role("button", name="Close").click()
    expect(page.locator("#disabling-state")).to_be_visible()
    # Progress shows under Clienteling until it is done (Refresh reloads the status). The
    # disabling runs in the background: as long as the API's own tests give it (60 s).
    deadline = time.monotonic() + 60
    # Done when the status says so and the configuration is gone (read by the same Refresh).
    while "Disabled" not in page.locator("#disabling-state").inner_text() or (
        "Not enabled" not in page.locator("#enabled-state").inner_text()
    ):
        assert time.monotonic() < deadline, page.locator("#disabling-state").inner_text()
        page.get_by_role("button", name="Refresh").click()
        page.wait_for_timeout(200)
    expect(page.locator("#disabling-state")).to_contain_text("2 of 2 stores offboarded")
    expect(page.locator("#disabling-state")).to_contain_text("2 numbers released")
    expect(page.locator("#enabled-state")).to_contain_text("Not enabled")
    expect(page.get_by_role("button", name="Disable clienteling…")).to_be_hidden()
    with embedded.api(tenant) as client:
        status = client.get("/clienteling/onboarding-status").json()
    assert status["disabling"]["status"] == "disabled"
    assert all(store["phone_number"] not in numbers.values() for store in status["stores"])


def test_the_ledger_shows_what_was_bought_and_exports_it_as_csv(
    embedded: EmbeddedService, page: Page
) -> None:
    tenant = "ledgerco"
    embedded.import_stores(tenant, STORES[:1])
    with embedded.api(tenant) as client:
        enabled = client.post("/clienteling/configuration", json={"ecom_link": "https://l.example"})
        assert enabled.status_code == 201, enabled.text
        offer = client.get("/clienteling/stores/nyc-5th/available-phone-numbers").json()[0]
        assert offer["monthly_price"] == {"amount": "1.15", "currency": "USD"}
        number = offer["phone_number"]
        bought = client.post("/clienteling/stores/nyc-5th/onboard", json={"phone_number": number})
        assert bought.status_code == 201, bought.text
        (entry,) = client.get("/clienteling/ledger").json()["items"]
    sign_in(page, embedded, tenant)

    rows = page.locator("#ledger-rows tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".ledger-action")).to_have_text("Bought")
    expect(rows.first.locator(".ledger-number")).to_have_text(number)
    expect(rows.first.locator(".ledger-price")).to_have_text("1.15 USD a month")
    expect(rows.first).to_contain_text(entry["request_id"])
    expect(page.locator("#ledger-count")).to_have_text("1 entry")
    shot(page, "console-desktop-ledger")

    # Filtered to releases: none yet.
    page.locator("#ledger-action").select_option("number_released")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator("#ledger-count")).to_have_text("No entries match.")
    expect(rows).to_have_count(0)

    # The export is the API's CSV: the one purchase, field for field.
    page.locator("#ledger-action").select_option("")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    assert download.value.suggested_filename == f"ledger-{tenant}.csv"
    with Path(download.value.path()).open(newline="") as handle:
        (line,) = list(csv.DictReader(handle))
    assert line["entry_id"] == entry["entry_id"]
    assert (line["action"], line["phone_number"], line["store_id"]) == (
        "number_bought",
        number,
        "nyc-5th",
    )
    assert (line["monthly_price_amount"], line["monthly_price_currency"]) == ("1.15", "USD")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(rows).to_have_count(1)
    page.set_viewport_size(PHONE)
    expect(rows.first.locator(".ledger-price")).to_be_visible()
    shot(page, "console-phone-ledger")
