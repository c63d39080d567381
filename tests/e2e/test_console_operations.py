"""Issue #17: the operator console for daily operations at scale, end to end in headless
Chromium.

A real `clienteling-setup serve` process runs against an emulator in this process (so that
Twilio can be made to fail: a purchase answered 503 leaves a store stuck pending), on SQLite.
One tenant has 10,000 stores in 30 countries, some onboarded, three stuck after a Twilio
failure, two WhatsApp senders of which one Meta took offline. axe-core (bundled in
axe-playwright-python) checks every main view and dialog: no violations.
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.processes import Deployment, ServerProcess, token
from tests.e2e.test_console import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, shot
from tests.service.a2p_helpers import complete_registration
from tests.support import Api, sqlite_url
from twilio_emulator import EmulatorServer, EmulatorState

if not CHROMIUM.exists():  # pragma: no cover - the module above skips first
    pytest.skip("Chromium is not installed", allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.xdist_group("e2e-console-operations")

BIG = "bigops"
PURCHASE = r"/IncomingPhoneNumbers\.json$"
#: The profile the online store's WhatsApp sender is registered with (every field).
PROFILE = {
    "profile_email": "fifth@dodici.example",
    "profile_website": "https://www.dodici.example/fifth",
    "profile_picture": "https://cdn.dodici.example/logo.png",
    "profile_description": "Giovanna Dodici is a fashion brand.",
    "profile_about": "Open Mon-Sat, 10:00-20:00.",
    "profile_address": "767 Fifth Avenue, New York",
}
#: 30 countries: most stores in the US, where the emulator sells numbers.
COUNTRIES = [
    "US", "GB", "DE", "FR", "ES", "IT", "NL", "BE", "AT", "CH", "SE", "DK", "NO", "FI", "IE",
    "PT", "PL", "CZ", "HU", "GR", "CA", "AU", "NZ", "JP", "KR", "SG", "HK", "MX", "BR", "ZA",
]  # fmt: skip


def country_of(i: int) -> str:
    return "US" if i % 3 == 0 else COUNTRIES[1 + i % (len(COUNTRIES) - 1)]


@dataclass
class World:
    deployment: Deployment
    server: ServerProcess
    emulator: EmulatorServer
    #: Store ids of the 10,000-store tenant by what was done to them.
    onboarded: list[str]
    stuck: dict[str, str]  # store id -> the number its failed onboarding claimed
    offline: str
    online: str

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @contextmanager
    def api(self, tenant: str) -> Iterator[Api]:
        api = self.deployment.api(self.server, tenant)
        try:
            yield api
        finally:
            api.client.close()

    def import_stores(self, tenant: str, rows: list[tuple[str, str, str]]) -> None:
        path = self.deployment.root / f"stores-{tenant}.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "name", "country_code"])
            writer.writerows(rows)
        self.deployment.run("stores", "import", str(path), "--tenant", tenant)


def _enable(api: Api) -> None:
    response = api.post("/clienteling/configuration", json={"ecom_link": "https://ops.example"})
    assert response.status_code == 201, response.text
    deadline = time.monotonic() + 60
    while (
        api.get("/clienteling/onboarding-status").json()["reconciliation"]["last_succeeded_at"]
        is None
    ):
        assert time.monotonic() < deadline, "the first read from Twilio never finished"
        time.sleep(0.2)


def _number_for(api: Api, store_id: str, taken: set[str]) -> str:
    offered = api.get(f"/clienteling/stores/{store_id}/available-phone-numbers").json()
    number = next(n["phone_number"] for n in offered if n["phone_number"] not in taken)
    taken.add(number)
    return str(number)


def _onboard(api: Api, store_id: str, taken: set[str]) -> str:
    number = _number_for(api, store_id, taken)
    response = api.post(f"/clienteling/stores/{store_id}/onboard", json={"phone_number": number})
    assert response.status_code == 201, response.text
    return number


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = Path(tmp_path_factory.mktemp("console-ops"))
    emulator = EmulatorServer(EmulatorState(seed=17), port=0).start()
    try:
        deployment = Deployment(sqlite_url(root), emulator, root)
        deployment.run("migrate")
        with deployment.start_server("console") as server:
            yield _seed(deployment, server, emulator)
    finally:
        emulator.stop()


def _seed(deployment: Deployment, server: ServerProcess, emulator: EmulatorServer) -> World:
    rows = [(f"s{i:05d}", f"Store #{i}", country_of(i)) for i in range(10_000)]
    world = World(deployment, server, emulator, [], {}, "", "")
    world.import_stores(BIG, rows)
    with world.api(BIG) as api:
        _enable(api)
        taken: set[str] = set()
        us = [r[0] for r in rows if r[2] == "US"]
        world.onboarded = us[:8]
        for store_id in world.onboarded:
            _onboard(api, store_id, taken)
        # US stores send once the tenant's A2P 10DLC campaign is verified (until then they are
        # number-ready, registration pending): the retailer registered.
        complete_registration(api, emulator)
        for store_id in us[8:11]:
            number = _number_for(api, store_id, taken)
            emulator.state.add_fault(method="POST", path=PURCHASE, kind="error", status=503)
            failed = api.post(
                f"/clienteling/stores/{store_id}/onboard", json={"phone_number": number}
            )
            assert failed.status_code == 503, failed.text
            world.stuck[store_id] = number
        emulator.state.clear_faults()
        # Two WhatsApp senders: Meta approves both, then takes one offline.
        world.online, world.offline = world.onboarded[:2]
        sids = {}
        for store_id in (world.online, world.offline):
            answer = api.post(
                f"/clienteling/stores/{store_id}/whatsapp/onboard",
                json={
                    "waba_id": "1234567890",
                    "profile_name": f"Store {store_id}",
                    **(PROFILE if store_id == world.online else {}),
                },
            )
            assert answer.status_code == 202, answer.text
            sids[store_id] = answer.json()["sid"]
        emulator.state.advance_clock(60)
        emulator.state.set_sender_status(
            sids[world.offline],
            "OFFLINE",
            [{"code": "63051", "message": "Meta disabled the WhatsApp Business Account"}],
        )
        deployment.run("sync")  # reconciliation reads both senders' state from Twilio
        status = api.get("/clienteling/onboarding-status").json()
        by_id = {s["id"]: s for s in status["stores"]}
        assert by_id[world.offline]["channels"]["whatsapp"]["status"] == "offline"
        assert by_id[world.online]["channels"]["whatsapp"]["status"] == "online"
    return world


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


AXE = Axe()


def assert_accessible(page: Page, what: str) -> None:
    """axe-core on the page as it is now (an open dialog included): no violations."""
    results = AXE.run(page)
    violations = [
        f"{v['id']}: {v['help']} ({[n['target'] for n in v['nodes']][:3]})"
        for v in results.response["violations"]
    ]
    assert violations == [], f"{what}: {violations}"


def sign_in(page: Page, world: World, tenant: str, path: str = "/console/") -> None:
    page.goto(f"{world.base_url}{path}")
    page.get_by_label("Tenant").fill(tenant)
    page.get_by_label("Bearer token").fill(token(tenant))
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#session-tenant")).to_have_text(tenant)
    if not path.startswith("/console/stores/"):
        expect(page.locator("#store-count")).to_contain_text("stores")


def row(page: Page, store_id: str) -> Any:
    return page.locator(f"#store-rows tr[data-store-id='{store_id}']")


def count_of(page: Page, group: str) -> int:
    return int(page.locator(f"#attention-list li[data-group='{group}'] .figure").inner_text())


# -- 1. the "Needs attention" home ----------------------------------------------------------------
def test_the_home_groups_ten_thousand_stores_by_who_acts_next(world: World, page: Page) -> None:
    with world.api(BIG) as api:
        status = api.get("/clienteling/onboarding-status").json()
    unsupported = {
        c["country_code"] for c in status["countries"] if not c["number_availability"]["supported"]
    }
    in_unsupported = sum(1 for s in status["stores"] if s["country_code"] in unsupported)
    assert unsupported, "the 30 countries include some the service cannot buy numbers in"

    sign_in(page, world, BIG)
    expect(page.get_by_role("heading", name="Needs attention")).to_be_visible()
    # The three stuck stores and the offline sender failed; the unsupported are counted apart.
    expect(page.locator("#attention-list li[data-group='failed'] .figure")).to_have_text("4")
    assert count_of(page, "unsupported") == in_unsupported
    # Progress counts only what can be done: onboarded of the supported stores.
    possible = 10_000 - in_unsupported
    expect(page.locator("#progress-figure")).to_have_text(f"{round(100 * 8 / possible)}%")
    expect(page.locator("#progress-detail")).to_contain_text(f"8 of {possible} stores onboarded")
    # Country cards: collapsed, the failing country (US) first, unsupported ones last.
    cards = page.locator("#country-list > li")
    expect(cards).to_have_count(30)
    expect(page.locator("#country-list details[open]")).to_have_count(0)
    expect(cards.first).to_have_attribute("data-country", "US")
    expect(cards.first).to_have_attribute("data-group", "failed")
    expect(cards.last).to_have_attribute("data-group", "unsupported")
    # The home comes before the country cards and the table: the first store is near the top.
    attention_top = page.locator("#attention").bounding_box()
    assert attention_top is not None
    assert attention_top["y"] < 200
    assert_accessible(page, "home at 10,000 stores")
    shot(page, "console-desktop-attention")

    # "Show stores" of Failed: the table holds exactly them, each with its reason.
    page.get_by_role("button", name="Show the 4 failed stores").click()
    expect(page.locator("#store-count")).to_have_text("4 of 10000 stores")
    for store_id, number in world.stuck.items():
        reason = row(page, store_id).locator(".store-sms .reason")
        expect(reason).to_contain_text(f"Number {number} claimed")
        expect(reason).to_contain_text("Twilio is unavailable right now")
        expect(reason.locator("code")).to_have_text(re.compile(r"^[0-9a-f]{32}$"))
        expect(row(page, store_id).get_by_role("button", name="Retry")).to_be_visible()
    offline = row(page, world.offline).locator(".store-whatsapp")
    expect(offline).to_contain_text("Offline")
    expect(offline.locator(".reason")).to_contain_text(
        "Meta disabled the WhatsApp Business Account"
    )
    expect(offline).not_to_contain_text("UNKNOWN")
    assert "attention=failed" in page.url


# -- 3. a reason on every row, and a retry -------------------------------------------------------
def test_a_stuck_store_is_retried_with_its_claimed_number(world: World, page: Page) -> None:
    store_id, number = next(iter(world.stuck.items()))
    sign_in(page, world, BIG, f"/console/?q={store_id}")
    expect(page.locator("#store-count")).to_have_text("1 of 10000 stores")
    row(page, store_id).get_by_role("button", name="Retry").click()
    dialog = page.get_by_role("dialog", name="Onboard store")
    expect(dialog.locator("#onboard-retry-note")).to_contain_text(f"claimed {number}")
    expect(dialog.get_by_label("Phone number near the store")).to_have_value(number)
    assert_accessible(page, "retry dialog")
    dialog.get_by_role("button", name="Review").click()
    dialog.get_by_role("button", name="Buy number and onboard").click()
    expect(dialog.locator(".form-ok")).to_contain_text(f"onboarded with {number}")
    dialog.get_by_role("button", name="Close").click()
    # Focus is back on the store's row.
    expect(row(page, store_id).locator(".store-sms")).to_contain_text("Onboarded")
    focused = page.evaluate("document.activeElement.closest('tr')?.dataset.storeId")
    assert focused == store_id
    world.stuck.pop(store_id)
    world.onboarded.append(store_id)


# -- 4. bulk actions, keyboard only --------------------------------------------------------------
def test_bulk_onboarding_of_all_matching_stores_keyboard_only(world: World, page: Page) -> None:
    sign_in(page, world, BIG)
    # Five US stores that are not onboarded yet, by search.
    search = page.get_by_label("Search")
    search.focus()
    page.keyboard.type("s0099")  # s00990-s00999: of which 990, 993, 996, 999 are US
    expect(page.locator("#store-count")).to_have_text("10 of 10000 stores")
    page.get_by_label("Country", exact=True).focus()
    page.keyboard.press("Tab")  # leave the search; the country select takes the keyboard
    page.get_by_label("Country", exact=True).select_option("US")
    expect(page.locator("#store-count")).to_have_text("4 of 10000 stores")
    select_all = page.get_by_role("button", name="Select all 4 matching")
    select_all.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#bulk-count")).to_have_text("4 stores selected")
    expect(page.locator("#bulk-onboard")).to_be_focused()
    with page.expect_response(re.compile(r"/clienteling/onboarding-jobs$")) as planned:
        page.keyboard.press("Enter")
    plan = planned.value.json()
    assert plan["dry_run"] is True
    assert plan["count"] == 4
    dialog = page.get_by_role("dialog", name="Onboard stores")
    cost = plan["monthly_cost"]
    expect(dialog.locator(".bulk-summary")).to_contain_text("this buys 4 phone numbers")
    expect(dialog.locator(".bulk-summary")).to_contain_text(
        f"{cost['amount']} {cost['currency']} a month"
    )
    assert_accessible(page, "bulk confirmation dialog")
    expect(dialog.get_by_role("button", name="Buy 4 numbers and onboard")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog.locator("#bulk-progress-text")).to_contain_text(
        "4 of 4 stores done", timeout=60_000
    )
    expect(dialog.locator(".form-ok")).to_contain_text("every store went through")
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Enter")
    for i in (990, 993, 996, 999):
        expect(row(page, f"s{i:05d}").locator(".store-sms")).to_contain_text("Onboarded")
    shot(page, "console-desktop-bulk")


# -- 5. deep links, a page per store, CSV export -------------------------------------------------
def test_filters_live_in_the_url_and_each_store_has_a_page(world: World, page: Page) -> None:
    sign_in(page, world, BIG, "/console/?country=DE&sms=not_onboarded&sort=name&dir=desc")
    de = sum(1 for i in range(10_000) if country_of(i) == "DE")
    expect(page.locator("#store-count")).to_have_text(f"{de} of 10000 stores")
    expect(page.get_by_label("Country", exact=True)).to_have_value("DE")
    expect(page.locator("#store-table th").nth(1)).to_have_attribute("aria-sort", "descending")
    # Natural order: "Store #9998" before "Store #998" descending means numbers, not text.
    first = page.locator("#store-rows tr").first.get_attribute("data-store-id")
    assert first == max(f"s{i:05d}" for i in range(10_000) if country_of(i) == "DE")
    page.get_by_label("SMS status").select_option("")
    expect(page).to_have_url(re.compile(r"country=DE"))
    assert "sms=" not in page.url
    page.reload()
    expect(page.locator("#store-count")).to_have_text(f"{de} of 10000 stores")

    # The filtered view as CSV: every matching store, not only the page.
    with page.expect_download() as download:
        page.get_by_role("button", name="Export stores as CSV").click()
    with Path(download.value.path()).open(newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert len(lines) == de
    assert {line["country_code"] for line in lines} == {"DE"}

    # A stuck store's own page, by its URL: its pending number, its error, its timeline.
    store_id, number = next(iter(world.stuck.items()))
    page.goto(f"{world.base_url}/console/stores/{store_id}")
    expect(page.locator("#store-page-title")).to_have_text(f"Store #{int(store_id[1:])}")
    expect(page.locator(".sp-pending-number")).to_have_text(number)
    expect(page.locator(".sp-sms-error")).to_contain_text("Twilio is unavailable")
    assert_accessible(page, "store page")
    onboarded = world.onboarded[0]
    page.goto(f"{world.base_url}/console/stores/{onboarded}")
    expect(page.locator("#sp-timeline li")).to_contain_text(["Bought"])
    expect(page.locator(".sp-sender .sid")).to_have_attribute("title", re.compile(r"^XE"))
    page.get_by_role("link", name="← All stores").click()
    expect(page.locator("#store-count")).to_have_text(re.compile(r"of 10000 stores"))


def test_update_whatsapp_opens_with_the_current_profile(world: World, page: Page) -> None:
    sign_in(page, world, BIG, f"/console/stores/{world.online}")
    # The store page shows the sender's profile, read from GET .../whatsapp.
    profile = page.locator("#sp-profile")
    expect(profile.locator("[data-field=name]")).to_have_text(f"Store {world.online}")
    expect(profile.locator("[data-field=about]")).to_have_text(PROFILE["profile_about"])
    expect(profile.locator("[data-field=address]")).to_have_text(PROFILE["profile_address"])
    expect(profile.locator("[data-field=email]")).to_have_text(PROFILE["profile_email"])
    expect(profile.locator("[data-field=website]")).to_have_text(PROFILE["profile_website"])
    expect(profile.locator("[data-field=description]")).to_have_text(PROFILE["profile_description"])
    assert_accessible(page, "store page with its WhatsApp profile")

    page.get_by_role("button", name="Update WhatsApp").click()
    dialog = page.locator("#whatsapp-dialog")
    expect(page.locator("#whatsapp-title")).to_have_text("Update the WhatsApp profile")
    expect(page.locator("#whatsapp-loading")).to_contain_text("current profile")
    expect(dialog.get_by_label("WhatsApp Business Account ID")).to_have_value("1234567890")
    expect(dialog.get_by_label("Profile name")).to_have_value(f"Store {world.online}")
    expect(dialog.get_by_label("Profile email")).to_have_value(PROFILE["profile_email"])
    expect(dialog.get_by_label("Profile website")).to_have_value(PROFILE["profile_website"])
    expect(dialog.get_by_label("About")).to_have_value(PROFILE["profile_about"])
    expect(dialog.get_by_label("Business address")).to_have_value(PROFILE["profile_address"])
    expect(dialog.get_by_label("Description")).to_have_value(PROFILE["profile_description"])
    expect(dialog.get_by_label("Picture URL")).to_have_value(PROFILE["profile_picture"])
    # The sender is on the SMS number: an update must not send a dedicated number to buy.
    expect(dialog.get_by_label("WhatsApp number (E.164)")).to_have_value("")
    assert_accessible(page, "prefilled Update WhatsApp dialog")
    dialog.get_by_role("button", name="Cancel").click()

    # A store that never registered: the page says so and the dialog offers a new registration.
    never = world.onboarded[2]
    page.goto(f"{world.base_url}/console/stores/{never}")
    expect(page.locator("#sp-profile")).to_have_text("Not registered for WhatsApp.")
    page.get_by_role("button", name="WhatsApp", exact=True).click()
    expect(page.locator("#whatsapp-title")).to_have_text("Onboard store to WhatsApp")
    expect(dialog.get_by_label("Profile email")).to_have_value("")


# -- 6. live updates: ETag polling while something is under way ----------------------------------
def test_the_console_polls_with_its_etag_while_work_is_under_way(world: World, page: Page) -> None:
    tenant = "liveco"
    world.import_stores(tenant, [("ber-1", "Berlin One", "DE"), ("nyc-1", "New York", "US")])
    with world.api(tenant) as api:
        _enable(api)
        account = api.get("/clienteling/configuration").json()["twilio"]["sid"]
    # Germany's bundles wait on Twilio's review: its store waits, so the console polls.
    for bundle in world.emulator.state.bundles(account):
        if bundle.iso_country == "DE":
            world.emulator.state.set_bundle_status(account, bundle.sid, "in-review")
    world.deployment.run("sync")
    statuses: list[int] = []
    page.on(
        "response",
        lambda r: statuses.append(r.status) if "/onboarding-status" in r.url else None,
    )
    sign_in(page, world, tenant)
    expect(page.locator("#live-state")).to_have_text("Updating live while work is under way.")
    deadline = time.monotonic() + 30
    while 304 not in statuses:
        assert time.monotonic() < deadline, statuses
        page.wait_for_timeout(200)
    # Twilio approves: the next poll brings the change, and polling stops.
    for bundle in world.emulator.state.bundles(account):
        if bundle.iso_country == "DE":
            world.emulator.state.set_bundle_status(account, bundle.sid, "twilio-approved")
    world.deployment.run("sync")
    expect(page.locator("#live-state")).to_have_text(
        "Up to date. Nothing is under way.", timeout=30_000
    )
    expect(page.locator("#attention-list li[data-group='waiting'] .figure")).to_have_text("0")


# -- 7. dialogs that prevent failure and recover -------------------------------------------------
def test_dialogs_offer_only_what_works_and_recover(world: World, page: Page) -> None:
    tenant = "dialogco"
    world.import_stores(tenant, [("ber-1", "Berlin One", "DE"), ("nyc-1", "New York", "US")])
    with world.api(tenant) as api:
        _enable(api)
        account = api.get("/clienteling/configuration").json()["twilio"]["sid"]
        address = next(a for a in world.emulator.state.addresses(account) if a.iso_country == "DE")
    review = world.emulator.state.add_bundle(
        account, "DE", "mobile", status="pending-review", address_sid=address.sid
    )
    world.deployment.run("sync")  # the service learns of the new bundle
    with world.api(tenant) as api:
        bundles = api.get("/clienteling/stores/ber-1/regulatory-bundles").json()
    approved = next(b for b in bundles if b["status"] == "twilio-approved")
    assert review.sid in {b["sid"] for b in bundles}
    sign_in(page, world, tenant)

    # Only approved bundles can be picked.
    row(page, "ber-1").get_by_role("button", name="Onboard").click()
    dialog = page.get_by_role("dialog", name="Onboard store")
    bundle_select = dialog.get_by_label("Regulatory bundle")
    expect(bundle_select.locator(f"option[value='{review.sid}']")).to_be_disabled()
    expect(bundle_select.locator(f"option[value='{approved['sid']}']")).to_be_enabled()
    # The field in error is focused and marked invalid.
    numbers = dialog.get_by_label("Phone number near the store")
    expect(numbers.locator("option")).not_to_have_count(1)
    dialog.get_by_role("button", name="Review").click()
    expect(numbers).to_be_focused()
    expect(numbers).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "onboard dialog with an error")

    # A number someone else bought meanwhile: a 4xx in plain words, raw text behind a
    # toggle, and the list reloaded without it.
    chosen = numbers.locator("option").nth(1).get_attribute("value")
    assert chosen is not None
    numbers.select_option(chosen)
    bundle_select.select_option(approved["sid"])
    world.emulator.state.make_number_unavailable(chosen)
    dialog.get_by_role("button", name="Review").click()
    with page.expect_response(re.compile(r"/ber-1/onboard")) as refused:
        dialog.get_by_role("button", name="Buy number and onboard").click()
    assert 400 <= refused.value.status < 500, refused.value.status
    error = dialog.locator(".form-error")
    expect(error.locator(".error-message")).to_contain_text("no longer available")
    expect(error.locator("details")).not_to_have_attribute("open", "")
    expect(error.locator(".request-id-value")).to_have_text(refused.value.json()["request_id"])
    expect(numbers.locator(f"option[value='{chosen}']")).to_have_count(0)
    expect(numbers.locator("option")).not_to_have_count(1)

    # The choices made stay made; Cancel aborts a request Twilio is slow to answer.
    expect(bundle_select).to_have_value(approved["sid"])
    world.emulator.state.add_fault(method="POST", path=PURCHASE, kind="timeout", delay=10)
    try:
        numbers.select_option(index=1)
        dialog.get_by_role("button", name="Review").click()
        failed: list[str] = []
        page.on("requestfailed", lambda r: failed.append(r.url) if "/onboard" in r.url else None)
        dialog.get_by_role("button", name="Buy number and onboard").click()
        expect(dialog.get_by_role("button", name="Working…")).to_be_visible()
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_be_hidden()
        deadline = time.monotonic() + 5
        while not failed:
            assert time.monotonic() < deadline, "the onboarding request was not aborted"
            page.wait_for_timeout(100)
    finally:
        world.emulator.state.clear_faults()


def test_sign_in_again_keeps_the_dialog_keyboard_only(world: World, page: Page) -> None:
    tenant = "reauthco"
    world.import_stores(tenant, [("nyc-1", "New York", "US")])
    with world.api(tenant) as api:
        _enable(api)
    sign_in(page, world, tenant)
    onboard = row(page, "nyc-1").get_by_role("button", name="Onboard")
    onboard.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Onboard store")
    numbers = dialog.get_by_label("Phone number near the store")
    expect(numbers.locator("option")).not_to_have_count(1)
    chosen = numbers.locator("option").nth(1).get_attribute("value")
    numbers.focus()
    numbers.select_option(chosen)
    # The session's token no longer grants this tenant (as after it expired or was revoked).
    other = token("someone-else")
    page.evaluate(
        """([tenant, other]) => sessionStorage.setItem('clienteling-console-session',
            JSON.stringify({tenant, token: other}))""",
        [tenant, other],
    )
    dialog.get_by_role("button", name="Review").focus()
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("button", name="Buy number and onboard")).to_be_focused()
    page.keyboard.press("Enter")
    again = dialog.get_by_role("button", name="Sign in again")
    expect(again).to_be_visible()
    again.focus()
    page.keyboard.press("Enter")
    reauth = page.get_by_role("dialog", name="Sign in again")
    expect(reauth.get_by_label("New token")).to_be_focused()
    page.keyboard.insert_text(token(tenant))
    assert_accessible(page, "sign in again dialog")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(reauth.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Enter")
    expect(reauth).to_be_hidden()
    # The onboarding dialog kept its state: the same number, one Enter from done.
    expect(numbers).to_have_value(chosen)
    expect(dialog.get_by_role("button", name="Buy number and onboard")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog.locator(".form-ok")).to_contain_text(f"onboarded with {chosen}")


# -- 7. visual fixes -------------------------------------------------------------------------------
def test_visual_fixes_sort_casing_and_the_tenant_warning(world: World, page: Page) -> None:
    tenant = "sortco"
    world.import_stores(tenant, [("a", "#2489", "US"), ("b", "#251", "US"), ("c", "#30", "JP")])
    sign_in(page, world, tenant)
    names = page.locator("#store-rows .store-name")
    expect(names).to_have_text(["#30", "#251", "#2489"])  # natural order
    # One casing rule: sentence case for every status.
    expect(page.locator("#store-rows .store-sms .badge").first).to_have_text("Not onboarded")
    expect(page.locator("#country-list li[data-country='JP'] .badge").first).to_have_text(
        "Not supported"
    )
    # The global error area is styled (its class names match the stylesheet).
    page.evaluate("document.getElementById('global-error').append('x')")
    background = page.evaluate(
        "getComputedStyle(document.getElementById('global-error')).backgroundColor"
    )
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    page.evaluate("document.getElementById('global-error').replaceChildren()")

    # On a phone, a sort control.
    page.set_viewport_size(PHONE)
    sort = page.get_by_label("Sort by")
    expect(sort).to_be_visible()
    sort.select_option("name:desc")
    expect(names).to_have_text(["#2489", "#251", "#30"])
    assert_accessible(page, "phone view")
    shot(page, "console-phone-operations")
    page.set_viewport_size(DESKTOP)

    # A tenant with neither stores nor configuration: is the name right?
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, world, "dodicci")
    warning = page.locator("#tenant-warning")
    expect(warning).to_contain_text("Is the tenant name right?")
    expect(page.get_by_role("button", name="Enable clienteling")).to_be_hidden()
    assert_accessible(page, "unknown tenant warning")
    page.get_by_role("button", name="It is a new retailer: set it up").click()
    expect(page.get_by_role("button", name="Enable clienteling")).to_be_visible()


def test_badges_stay_in_their_cards_and_sids_do_not_break(world: World, page: Page) -> None:
    sign_in(page, world, BIG)
    badge = page.locator("#retailer-state .badge")
    card = page.locator("#retailer-state").locator("xpath=ancestor::article")
    badge_box, card_box = badge.bounding_box(), card.bounding_box()
    assert badge_box is not None
    assert card_box is not None
    assert badge_box["x"] + badge_box["width"] <= card_box["x"] + card_box["width"]
    account = page.locator("#twilio-details .sid")
    expect(account).to_have_attribute("title", re.compile(r"^AC"))
    style = page.evaluate(
        "(() => { const s = getComputedStyle(document.querySelector('#twilio-details .sid'));"
        " return [s.whiteSpace, s.textOverflow]; })()"
    )
    assert style == ["nowrap", "ellipsis"]
    page.set_viewport_size(PHONE)
    box = account.bounding_box()
    assert box is not None
    assert box["height"] < 30
