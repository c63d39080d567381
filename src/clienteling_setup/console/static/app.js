// The operator console: sign-in, onboarding at a glance, countries, stores, onboarding forms.
// Everything comes from the public API (api.js); the page keeps no other state than the
// session (token + tenant, in sessionStorage) and the last status document.
import { api, ApiError, clearSession, loadSession, saveSession, uploadFile } from "./api.js";
import { describeAction } from "./actions.js";
import { initLedger, loadLedger } from "./ledger.js";

const $ = (id) => document.getElementById(id);
const MAX_PICTURE_BYTES = 5 * 1024 * 1024;

// h("p", {class: "x"}, "text", child): builds DOM without ever parsing strings as HTML.
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

function showError(container, err) {
  container.replaceChildren();
  if (!err) return;
  const message = err instanceof ApiError || err instanceof Error ? err.message : String(err);
  container.append(h("p", { class: "error-message" }, message));
  if (err instanceof ApiError) {
    container.append(
      h("p", { class: "request-id" },
        err.status ? `HTTP ${err.status} · ` : "",
        "Request ID: ", h("code", { class: "request-id-value" }, err.requestId || "none")),
    );
  }
}

function showOk(container, text) {
  container.replaceChildren(text ? document.createTextNode(text) : "");
}

// Runs `work` with `button` disabled (and labelled `busyLabel` meanwhile, if given), shows
// what fails in `errorBox`, and gives the button back its label either way.
async function whileBusy(button, errorBox, busyLabel, work) {
  const label = button.textContent;
  button.disabled = true;
  if (busyLabel) button.textContent = busyLabel;
  try {
    await work();
  } catch (err) {
    showError(errorBox, err);
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

// A dialog whose work is done: its submit button goes and "Cancel" becomes "Close".
function finishDialog(form, button) {
  button.hidden = true;
  const close = form.querySelector("[data-close]");
  close.textContent = "Close";
  close.focus();
}

function badge(text, tone) {
  return h("span", { class: `badge ${tone || ""}` }, text);
}

function statusTone(value) {
  const v = String(value || "").toLowerCase();
  if (["onboarded", "online", "twilio-approved", "provisionally-approved", "connected", "approved"].includes(v)) return "ok";
  if (["not_onboarded", "not_required", "none", ""].includes(v)) return "";
  if (/(reject|fail|offline|missing|suspend|closed|error|banned)/.test(v)) return "bad";
  return "warn";
}

function humanize(value) {
  // A US store whose A2P 10DLC campaign is not verified yet (see a2p.js).
  if (value === "registration_pending") return "number ready, registration pending";
  return value === null || value === undefined ? "—" : String(value).replaceAll("_", " ");
}

function formatDate(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

// ---------------------------------------------------------------------------------------------
// State

const state = {
  status: null,
  configuration: null,
  rows: [],
  view: [],
  table: { search: "", country: "", sms: "", whatsapp: "", sort: "name", dir: 1, page: 0, size: 50 },
};

// ---------------------------------------------------------------------------------------------
// Sign-in and loading

function showSignedOut() {
  $("console").hidden = true;
  $("session-info").hidden = true;
  $("sign-in").hidden = false;
}

async function loadAll() {
  const [status, configuration] = await Promise.all([
    api("GET", "/clienteling/onboarding-status"),
    api("GET", "/clienteling/configuration").catch((err) => {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }),
  ]);
  state.status = status;
  state.configuration = configuration;
  render();
}

async function refresh() {
  try {
    await Promise.all([loadAll(), loadLedger()]);
    showError($("global-error"), null);
  } catch (err) {
    showError($("global-error"), err);
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) showSignedOut();
  }
}

async function signIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const tenant = $("tenant-input").value.trim();
  const token = $("token-input").value.trim().replace(/^Bearer\s+/i, "");
  const errorBox = form.querySelector(".form-error");
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(tenant)) {
    $("tenant-input").setAttribute("aria-invalid", "true");
    showError(errorBox, new Error("Tenant: use lower-case letters, digits and hyphens (e.g. dodici)."));
    $("tenant-input").focus();
    return;
  }
  $("tenant-input").removeAttribute("aria-invalid");
  if (!token) {
    showError(errorBox, new Error("Bearer token: paste the token you were given."));
    $("token-input").focus();
    return;
  }
  try {
    await api("GET", "/clienteling/onboarding-status", undefined, { tenant, token });
  } catch (err) {
    showError(errorBox, err);
    return;
  }
  saveSession(tenant, token);
  showError(errorBox, null);
  $("token-input").value = "";
  await enterConsole();
}

async function enterConsole() {
  const session = loadSession();
  if (!session) {
    showSignedOut();
    return;
  }
  $("sign-in").hidden = true;
  $("session-tenant").textContent = session.tenant;
  $("session-info").hidden = false;
  $("console").hidden = false;
  await refresh();
  $("glance-title").setAttribute("tabindex", "-1");
  $("glance-title").focus();
}

// ---------------------------------------------------------------------------------------------
// At a glance

// Enabling answers before the retailer's bundles and trust products are read from Twilio (in
// the background): until the status says they were, say so and look again every second.
let firstReadTimer = null;

function followFirstRead(enabled, reconciliation) {
  const reading = enabled && reconciliation.last_succeeded_at === null;
  $("twilio-reading").hidden = !reading;
  if (reading && firstReadTimer === null) {
    firstReadTimer = setTimeout(() => {
      firstReadTimer = null;
      refresh();
    }, 1000);
  }
}

function renderGlance() {
  const { status, configuration } = state;
  const stores = status.stores;
  const onboarded = stores.filter((s) => s.channels.sms.status === "onboarded").length;
  const percent = stores.length ? Math.round((onboarded / stores.length) * 100) : 0;
  $("progress-figure").textContent = `${percent}%`;
  $("progress-bar").value = percent;
  $("progress-bar").setAttribute("aria-valuetext", `${percent}% of stores onboarded for SMS`);
  const readyCountries = status.countries.filter((c) => c.actions.length === 0).length;
  $("progress-detail").replaceChildren(
    `${onboarded} of ${stores.length} stores onboarded for SMS; ${readyCountries} of ${status.countries.length} countries with nothing left to do. `,
    status.onboarded
      ? badge(`Retailer onboarded ${formatDate(status.onboarded_at)}`, "ok")
      : badge("Retailer not onboarded yet", "warn"),
  );

  const enabled = $("enabled-state");
  if (configuration) {
    enabled.replaceChildren(
      badge("Enabled", "ok"), ` since ${formatDate(configuration.created_at)}. Website: `,
      h("a", { href: configuration.ecom_link, rel: "noopener noreferrer", target: "_blank" }, configuration.ecom_link),
    );
    $("enable-form").hidden = true;
  } else {
    enabled.replaceChildren(badge("Not enabled", "warn"), " Enable clienteling to create the retailer's Twilio account.");
    $("enable-form").hidden = false;
  }

  const twilio = status.twilio;
  $("twilio-state").replaceChildren(
    twilio.connected ? badge("Connected", "ok") : badge(twilio.sid ? "Not active" : "Not connected", twilio.sid ? "bad" : "warn"),
  );
  $("twilio-details").replaceChildren(
    h("dt", {}, "Account"), h("dd", {}, twilio.sid || "—"),
    h("dt", {}, "Call forwarding"),
    h("dd", {}, twilio.call_forwarding.name || twilio.call_forwarding.sid || "—"),
  );

  renderDisabling(status.disabling, Boolean(configuration));
  followFirstRead(Boolean(configuration), status.reconciliation);

  const optin = $("optin-body");
  if (document.activeElement !== optin) optin.value = status.opt_in.body || "";
  $("optin-form").querySelector("button[type=submit]").textContent =
    status.opt_in.exists ? "Save template" : "Create template";
}

async function enable(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const errorBox = form.querySelector(".form-error");
  const button = form.querySelector("button[type=submit]");
  await whileBusy(button, errorBox, "Enabling…", async () => {
    await api("POST", "/clienteling/configuration", { ecom_link: $("ecom-link").value.trim() });
    showError(errorBox, null);
    await refresh();
    $("enabled-title").setAttribute("tabindex", "-1");
    $("enabled-title").focus();
  });
}

async function saveOptIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const errorBox = form.querySelector(".form-error");
  const ok = form.querySelector(".form-ok");
  showOk(ok, "");
  try {
    await api("PUT", "/clienteling/opt-in-template", { body: $("optin-body").value });
    showError(errorBox, null);
    showOk(ok, "Saved.");
    await refresh();
  } catch (err) {
    showError(errorBox, err);
  }
}

// ---------------------------------------------------------------------------------------------
// Countries

function requirementBlock(title, item, idKey) {
  const parts = [
    h("dt", {}, title),
    h("dd", {},
      item.required || item[idKey] ? badge(humanize(item.status), statusTone(item.status)) : badge("Not required"),
      item[idKey] ? h("span", { class: "hint" }, ` ${item[idKey]}`) : null,
      item.failure_reason ? h("p", { class: "hint" }, `Reason: ${item.failure_reason}`) : null,
      item.uploads && item.uploads.length
        ? h("ul", { class: "docs", "aria-label": `${title} documents` },
          item.uploads.map((u) => h("li", {}, `${u.name}: `, badge(humanize(u.status), statusTone(u.status)))))
        : null,
    ),
  ];
  return parts;
}

function actionControl(step) {
  if (!step.do) return null;
  if (step.do.kind === "link") {
    return h("a", { href: step.do.href, target: "_blank", rel: "noopener noreferrer" }, `${step.do.label} (opens Twilio)`);
  }
  if (step.do.kind === "focus") {
    return h("button", { type: "button", class: "link-button", onclick: () => {
      const target = $(step.do.target);
      target.scrollIntoView({ block: "center" });
      target.focus();
    } }, step.do.label);
  }
  return h("button", { type: "button", class: "link-button", onclick: () => {
    $("filter-country").value = step.do.country;
    $("filter-sms").value = "not_onboarded";
    applyFilters();
    $("stores-title").setAttribute("tabindex", "-1");
    $("stores-title").scrollIntoView();
    $("stores-title").focus();
  } }, step.do.label);
}

function renderCountries() {
  const { status } = state;
  const list = $("country-list");
  $("countries-empty").hidden = status.countries.length > 0;
  list.replaceChildren(...status.countries.map((country) => {
    const supported = country.number_availability.supported;
    const steps = country.actions.map((action) => describeAction(action, country, status));
    const tone = !supported ? "blocked" : steps.length ? "todo" : "done";
    return h("li", { class: `country ${tone}`, "data-country": country.country_code },
      h("h3", {},
        h("span", {}, `${country.country_code} · ${country.stores} store${country.stores === 1 ? "" : "s"}`),
        !supported ? badge("Not supported", "bad")
          : steps.length ? badge(`${steps.length} step${steps.length === 1 ? "" : "s"} left`, "warn")
            : badge("Ready", "ok")),
      h("dl", { class: "pairs" },
        h("dt", {}, "Numbers"), h("dd", {}, supported ? "Available" : "Not available"),
        requirementBlock("Regulatory bundle", country.regulatory_bundle, "bundle_id"),
        requirementBlock("Trust product", country.trusted_product, "product_id"),
      ),
      steps.length
        ? h("ol", { class: "steps", "aria-label": `Next steps for ${country.country_code}` },
          steps.map((step) => h("li", { class: "step" }, step.text, " ", actionControl(step))))
        : h("p", { class: "hint" }, "Nothing left to do here."),
    );
  }));
}

// ---------------------------------------------------------------------------------------------
// Stores table: filtered and sorted in memory, only the current page is rendered.

const SORT_KEYS = {
  name: (r) => r.name.toLowerCase(),
  country_code: (r) => r.country_code,
  phone_number: (r) => r.phone_number || "\uffff",
  sms: (r) => r.channels.sms.status,
  whatsapp: (r) => r.channels.whatsapp.status,
};

function prepareRows() {
  state.rows = state.status.stores.map((store) => ({
    ...store,
    _search: `${store.id} ${store.name} ${store.phone_number || ""}`.toLowerCase(),
  }));
  const countries = [...new Set(state.rows.map((r) => r.country_code))].sort();
  fillSelect($("filter-country"), "All countries", countries);
  const whatsapp = [...new Set(state.rows.map((r) => r.channels.whatsapp.status))].sort();
  fillSelect($("filter-whatsapp"), "Any", whatsapp, humanize);
}

function fillSelect(select, anyLabel, values, label = (v) => v) {
  const current = select.value;
  select.replaceChildren(h("option", { value: "" }, anyLabel), ...values.map((v) => h("option", { value: v }, label(v))));
  select.value = values.includes(current) ? current : "";
}

function applyFilters(keepPage = false) {
  const t = state.table;
  t.search = $("store-search").value.trim().toLowerCase();
  t.country = $("filter-country").value;
  t.sms = $("filter-sms").value;
  t.whatsapp = $("filter-whatsapp").value;
  t.size = Number($("page-size").value);
  const key = SORT_KEYS[t.sort];
  state.view = state.rows
    .filter((r) => (!t.search || r._search.includes(t.search))
      && (!t.country || r.country_code === t.country)
      && (!t.sms || r.channels.sms.status === t.sms)
      && (!t.whatsapp || r.channels.whatsapp.status === t.whatsapp))
    .map((r) => [key(r), r])
    .sort((a, b) => (a[0] < b[0] ? -t.dir : a[0] > b[0] ? t.dir : a[1].id < b[1].id ? -1 : 1))
    .map((pair) => pair[1]);
  if (!keepPage) t.page = 0;
  renderPage();
}

function renderPage() {
  const t = state.table;
  const pages = Math.max(1, Math.ceil(state.view.length / t.size));
  t.page = Math.min(t.page, pages - 1);
  const start = t.page * t.size;
  const slice = state.view.slice(start, start + t.size);
  const body = $("store-rows");
  body.replaceChildren(...slice.map(storeRow));
  if (!slice.length) {
    body.append(h("tr", {}, h("td", { colspan: "6" }, state.rows.length ? "No store matches these filters." : "No stores in the directory yet.")));
  }
  $("store-count").textContent = `${state.view.length} of ${state.rows.length} stores`;
  $("page-label").textContent = `Page ${t.page + 1} of ${pages}`;
  $("page-prev").disabled = t.page === 0;
  $("page-next").disabled = t.page >= pages - 1;
  for (const th of document.querySelectorAll("#store-table th[aria-sort]")) {
    const sortKey = th.querySelector("button").dataset.sort;
    th.setAttribute("aria-sort", sortKey === t.sort ? (t.dir > 0 ? "ascending" : "descending") : "none");
  }
}

function storeRow(store) {
  const sms = store.channels.sms.status;
  const wa = store.channels.whatsapp;
  const country = state.status.countries.find((c) => c.country_code === store.country_code);
  const numberReady = sms === "onboarded" || sms === "registration_pending";
  const canOnboard = !numberReady && state.configuration && (!country || country.number_availability.supported);
  const waDetail = [wa.quality_rating && `quality ${wa.quality_rating}`, wa.messaging_limit && `limit ${wa.messaging_limit}`]
    .filter(Boolean).join(" · ");
  return h("tr", { "data-store-id": store.id },
    h("td", { "data-label": "Store" }, h("span", { class: "store-name" }, store.name), h("span", { class: "store-id" }, store.id)),
    h("td", { "data-label": "Country" }, store.country_code),
    h("td", { "data-label": "Number", class: "store-number" }, store.phone_number || "—"),
    h("td", { "data-label": "SMS", class: "store-sms" }, badge(humanize(sms), statusTone(sms))),
    h("td", { "data-label": "WhatsApp", class: "store-whatsapp" }, badge(humanize(wa.status), statusTone(wa.status)),
      waDetail ? h("span", { class: "store-id" }, waDetail) : null),
    h("td", { "data-label": "Actions" },
      h("div", { class: "row" },
        canOnboard ? h("button", { type: "button", class: "button small primary", "aria-label": `Onboard ${store.name}`, onclick: () => openOnboard(store) }, "Onboard") : null,
        numberReady ? h("button", { type: "button", class: "button small secondary", "aria-label": `WhatsApp for ${store.name}`, onclick: () => openWhatsApp(store) }, wa.status === "not_onboarded" ? "WhatsApp" : "Update WhatsApp") : null,
        sms !== "not_onboarded" || wa.status !== "not_onboarded" ? h("button", { type: "button", class: "button small secondary", "aria-label": `Offboard ${store.name}`, onclick: () => openOffboard(store) }, "Offboard") : null,
      )),
  );
}

function sortBy(key) {
  const t = state.table;
  t.dir = t.sort === key ? -t.dir : 1;
  t.sort = key;
  applyFilters(true);
}

// ---------------------------------------------------------------------------------------------
// Onboard a store (SMS)

const onboard = { store: null, numbers: [], bundles: [], needsBundle: false };

function setOptions(select, placeholder, items, value, label) {
  select.replaceChildren(h("option", { value: "" }, placeholder), ...items.map((item) => h("option", { value: value(item) }, label(item))));
}

function onboardStep(confirming) {
  $("onboard-choose").hidden = confirming;
  $("onboard-confirm").hidden = !confirming;
  $("onboard-review").hidden = confirming;
  $("onboard-back").hidden = !confirming;
  $("onboard-submit").hidden = !confirming;
}

async function openOnboard(store) {
  const dialog = $("onboard-dialog");
  const form = $("onboard-form");
  onboard.store = store;
  const country = state.status.countries.find((c) => c.country_code === store.country_code);
  onboard.needsBundle = Boolean(country && country.regulatory_bundle.required);
  form.reset();
  $("onboard-enable").checked = true;
  showError(form.querySelector(".form-error"), null);
  showOk(form.querySelector(".form-ok"), "");
  onboardStep(false);
  $("onboard-owned-field").hidden = true;
  form.querySelector("[data-close]").textContent = "Cancel";
  $("onboard-store").textContent = `${store.name} (${store.id}), ${store.country_code}`;
  $("onboard-compliance").hidden = !onboard.needsBundle;
  setOptions($("onboard-number"), "Loading numbers…", [], () => "", () => "");
  $("onboard-number-hint").textContent = "";
  dialog.showModal();
  const id = encodeURIComponent(store.id);
  const errorBox = form.querySelector(".form-error");
  try {
    const [numbers, bundles, addresses] = await Promise.all([
      api("GET", `/clienteling/stores/${id}/available-phone-numbers`),
      onboard.needsBundle ? api("GET", `/clienteling/stores/${id}/regulatory-bundles`) : [],
      onboard.needsBundle ? api("GET", `/clienteling/stores/${id}/addresses`) : [],
    ]);
    if (onboard.store !== store) return;
    onboard.numbers = numbers;
    onboard.bundles = bundles;
    setOptions($("onboard-number"), numbers.length ? "Choose a number" : "No numbers available", numbers,
      (n) => n.phone_number, (n) => [n.phone_number, [n.locality, n.region].filter(Boolean).join(", ")].filter(Boolean).join(" — "));
    $("onboard-number-hint").textContent = numbers.length
      ? `${numbers.length} numbers available near the store.`
      : "Twilio offers no number near this store right now.";
    setOptions($("onboard-bundle"), bundles.length ? "Choose a bundle" : `No bundle for ${store.country_code}: create one first`, bundles,
      (b) => b.sid, (b) => `${b.friendly_name} (${humanize(b.status || "unknown")})`);
    setOptions($("onboard-address"), addresses.length ? "Choose an address" : "No address registered", addresses,
      (a) => a.sid, (a) => [a.friendly_name, a.street, a.city].filter(Boolean).join(", "));
  } catch (err) {
    showError(errorBox, err);
  }
}

function chosenNumber() {
  return $("onboard-owned").checked ? $("onboard-owned-number").value.trim() : $("onboard-number").value;
}

function reviewOnboard() {
  const form = $("onboard-form");
  const errorBox = form.querySelector(".form-error");
  const number = chosenNumber();
  const owned = $("onboard-owned").checked;
  if (!number) {
    showError(errorBox, new Error(owned ? "Owned number: enter it in E.164, e.g. +12125550100." : "Phone number: choose one of the available numbers."));
    (owned ? $("onboard-owned-number") : $("onboard-number")).focus();
    return;
  }
  if (onboard.needsBundle && (!$("onboard-bundle").value || !$("onboard-address").value)) {
    showError(errorBox, new Error(`${onboard.store.country_code} requires a regulatory bundle and an address: choose both.`));
    (!$("onboard-bundle").value ? $("onboard-bundle") : $("onboard-address")).focus();
    return;
  }
  showError(errorBox, null);
  const store = onboard.store;
  const enableNow = $("onboard-enable").checked;
  const offer = onboard.numbers.find((n) => n.phone_number === number);
  const cost = offer && offer.monthly_price
    ? ` (${offer.monthly_price.amount} ${offer.monthly_price.currency} a month)`
    : "";
  $("onboard-confirm-text").textContent = owned
    ? `This attaches ${number}, which the retailer's Twilio account already owns, to ${store.name}. Nothing is bought.`
      + (enableNow ? " Associates can use it right away." : "")
    : `This buys the phone number ${number} through Twilio for ${store.name} (${store.country_code}). `
      + `Twilio charges the retailer's account for it every month${cost} until it is released. `
      + "The number joins the retailer's Messaging Service and its calls are forwarded to the store's phone."
      + (enableNow ? " Associates can use it right away." : "");
  $("onboard-submit").textContent = owned ? "Onboard with this number" : "Buy number and onboard";
  onboardStep(true);
  $("onboard-submit").focus();
}

async function submitOnboard() {
  const form = $("onboard-form");
  const errorBox = form.querySelector(".form-error");
  const button = $("onboard-submit");
  const store = onboard.store;
  const body = { phone_number: chosenNumber() };
  if ($("onboard-owned").checked) body.phone_number_already_purchased = true;
  if (onboard.needsBundle) {
    body.bundle_sid = $("onboard-bundle").value;
    body.address_sid = $("onboard-address").value;
  }
  const query = $("onboard-enable").checked ? "?enable=true" : "";
  await whileBusy(button, errorBox, "Working…", async () => {
    const result = await api("POST", `/clienteling/stores/${encodeURIComponent(store.id)}/onboard${query}`, body);
    showError(errorBox, null);
    showOk(form.querySelector(".form-ok"),
      `${store.name} is onboarded with ${result.phone_number} (SMS ${humanize(result.sms.status)}${result.enabled ? ", switched on for associates" : ""}).`);
    $("onboard-back").hidden = true;
    $("onboard-confirm").hidden = true;
    finishDialog(form, button);
    await refresh();
  });
}

// ---------------------------------------------------------------------------------------------
// Offboard a store, or close it (offboard releasing, then remove it from the directory). The
// confirmation says what is taken down, what is released and what stops costing.

const offboard = { store: null };

function offboardStep(confirming) {
  $("offboard-choose").hidden = confirming;
  $("offboard-confirm").hidden = !confirming;
  $("offboard-review").hidden = confirming;
  $("offboard-back").hidden = !confirming;
  $("offboard-submit").hidden = !confirming;
}

function openOffboard(store) {
  const form = $("offboard-form");
  offboard.store = store;
  form.reset();
  showError(form.querySelector(".form-error"), null);
  showOk(form.querySelector(".form-ok"), "");
  form.querySelector("[data-close]").textContent = "Cancel";
  const hasWhatsApp = store.channels.whatsapp.status !== "not_onboarded";
  $("offboard-whatsapp").checked = hasWhatsApp;
  $("offboard-whatsapp").disabled = !hasWhatsApp;
  $("offboard-store").textContent = `${store.name} (${store.id}), ${store.phone_number || "no number yet"}`;
  offboardStep(false);
  $("offboard-dialog").showModal();
}

function offboardPlan() {
  const closing = $("offboard-close").checked;
  const hasWhatsApp = offboard.store.channels.whatsapp.status !== "not_onboarded";
  return {
    store: offboard.store,
    closing,
    sms: closing || $("offboard-sms").checked,
    whatsapp: hasWhatsApp && (closing || $("offboard-whatsapp").checked),
    release: closing || !$("offboard-keep").checked,
  };
}

function offboardLines(plan) {
  const { store, release } = plan;
  const wa = store.channels.whatsapp;
  const stops = "Twilio stops charging the retailer's account for it every month; a released number cannot be bought back right away.";
  const keeps = "it stays in the retailer's Twilio account for this store and keeps costing every month until it is released.";
  const lines = [];
  if (plan.whatsapp) {
    lines.push(`The WhatsApp sender${wa.phone_number ? ` on ${wa.phone_number}` : ""} is deleted: customers can no longer reach ${store.name} on WhatsApp.`);
    if (wa.phone_number && wa.phone_number !== store.phone_number) {
      lines.push(release ? `Its own number ${wa.phone_number} is released: ${stops}` : `Its own number ${wa.phone_number} is kept: ${keeps}`);
    }
  }
  if (plan.sms && store.phone_number) {
    lines.push(`${store.phone_number} leaves the Messaging Service: associates can no longer text from it.`);
    lines.push(release ? `${store.phone_number} is released: ${stops}` : `${store.phone_number} is kept: ${keeps}`);
  }
  if (plan.closing) lines.push(`${store.name} is removed from the store directory.`);
  return lines;
}

function reviewOffboard() {
  const form = $("offboard-form");
  const errorBox = form.querySelector(".form-error");
  const plan = offboardPlan();
  if (!plan.sms && !plan.whatsapp) {
    showError(errorBox, new Error("Choose what to take down: SMS, WhatsApp or both."));
    return;
  }
  if (plan.sms && !plan.whatsapp && plan.store.channels.whatsapp.status !== "not_onboarded") {
    showError(errorBox, new Error("WhatsApp works only on top of SMS: take both down, or WhatsApp alone."));
    return;
  }
  showError(errorBox, null);
  $("offboard-confirm-list").replaceChildren(...offboardLines(plan).map((line) => h("li", {}, line)));
  $("offboard-submit").textContent = plan.closing
    ? "Offboard and remove store"
    : plan.release ? "Offboard and release" : "Offboard and keep number";
  offboardStep(true);
  $("offboard-submit").focus();
}

async function submitOffboard() {
  const form = $("offboard-form");
  const errorBox = form.querySelector(".form-error");
  const button = $("offboard-submit");
  const plan = offboardPlan();
  const path = `/clienteling/stores/${encodeURIComponent(plan.store.id)}`;
  await whileBusy(button, errorBox, "Working…", async () => {
    let result;
    if (plan.closing) {
      result = await api("DELETE", `${path}?offboard=true`);
    } else {
      const channels = [plan.sms && "sms", plan.whatsapp && "whatsapp"].filter(Boolean);
      result = await api("POST", `${path}/offboard`, { channels, release_number: plan.release });
    }
    const name = plan.store.name;
    let text;
    if (result && result.status === "in_progress") {
      text = `The offboarding of ${name} is under way in another request; refresh to see it finish.`;
    } else if (plan.closing) {
      text = `${name} is offboarded and removed from the directory.`;
    } else {
      const released = result.released_numbers.length ? ` Released: ${result.released_numbers.join(", ")}.` : "";
      const kept = result.kept_numbers.length ? ` Kept: ${result.kept_numbers.join(", ")}.` : "";
      text = `${name} is offboarded.${released}${kept}`;
    }
    showError(errorBox, null);
    showOk(form.querySelector(".form-ok"), text);
    $("offboard-back").hidden = true;
    $("offboard-confirm").hidden = true;
    finishDialog(form, button);
    await refresh();
  });
}

// ---------------------------------------------------------------------------------------------
// Disable clienteling for the retailer: everything released, the Twilio account closed.

function renderDisabling(disabling, configured) {
  const line = $("disabling-state");
  line.hidden = !disabling;
  if (disabling) {
    const progress = `${disabling.stores_offboarded} of ${disabling.stores_total} stores offboarded, ${disabling.numbers_released} numbers released`;
    line.replaceChildren(
      disabling.status === "disabled"
        ? badge(`Disabled ${formatDate(disabling.finished_at)}`, "warn")
        : badge("Disabling", "bad"),
      ` ${progress}.`,
      disabling.last_error ? h("span", { class: "store-id" }, `Stopped: ${disabling.last_error} It resumes with reconciliation.`) : "",
    );
  }
  $("disable-open").hidden = !configured || Boolean(disabling && disabling.status === "in_progress");
}

function openDisable() {
  const form = $("disable-form");
  const session = loadSession();
  const stores = state.status.stores;
  const onboarded = stores.filter((s) => s.channels.sms.status !== "not_onboarded").length;
  const whatsapp = stores.filter((s) => s.channels.whatsapp.status !== "not_onboarded").length;
  form.reset();
  showError(form.querySelector(".form-error"), null);
  showOk(form.querySelector(".form-ok"), "");
  form.querySelector("[data-close]").textContent = "Cancel";
  $("disable-submit").hidden = false;
  $("disable-hint").textContent = `Type ${session.tenant}.`;
  $("disable-confirm-list").replaceChildren(
    h("li", {}, `All ${onboarded} onboarded stores are offboarded${whatsapp ? `, and ${whatsapp} WhatsApp senders deleted` : ""}.`),
    h("li", {}, "Every phone number of the retailer's Twilio account is released: Twilio stops charging for each of them every month."),
    h("li", {}, "The sender groups' and the retailer's Messaging Services and the call-forwarding application are deleted."),
    h("li", {}, "The retailer's Twilio account is closed. Enabling clienteling again later creates a new one, with new numbers."),
  );
  $("disable-dialog").showModal();
  $("disable-tenant").focus();
}

async function submitDisable() {
  const form = $("disable-form");
  const errorBox = form.querySelector(".form-error");
  const button = $("disable-submit");
  const typed = $("disable-tenant").value.trim();
  if (typed !== loadSession().tenant) {
    $("disable-tenant").setAttribute("aria-invalid", "true");
    showError(errorBox, new Error(`Type the retailer's name, ${loadSession().tenant}, to confirm.`));
    $("disable-tenant").focus();
    return;
  }
  $("disable-tenant").removeAttribute("aria-invalid");
  await whileBusy(button, errorBox, "Working…", async () => {
    const result = await api("DELETE", "/clienteling/configuration", { confirm_tenant: typed });
    showError(errorBox, null);
    showOk(form.querySelector(".form-ok"), result.status === "disabled"
      ? "Clienteling is disabled and the Twilio account closed."
      : "Disabling has started; its progress shows under Clienteling.");
    finishDialog(form, button);
    await refresh();
  });
}

// ---------------------------------------------------------------------------------------------
// WhatsApp onboarding, with the profile picture uploaded through the API's upload URL.

const whatsapp = { store: null };

function openWhatsApp(store) {
  const form = $("whatsapp-form");
  whatsapp.store = store;
  form.reset();
  showError(form.querySelector(".form-error"), null);
  showOk(form.querySelector(".form-ok"), "");
  $("wa-picture-status").textContent = "";
  $("wa-picture-preview").hidden = true;
  $("wa-submit").hidden = false;
  form.querySelector("[data-close]").textContent = "Cancel";
  $("whatsapp-store").textContent = `${store.name} (${store.id}), SMS number ${store.phone_number || "—"}`;
  $("wa-name").value = store.name;
  $("wa-waba").value = store.channels.whatsapp.waba || "";
  $("whatsapp-dialog").showModal();
}

async function uploadPicture() {
  const input = $("wa-picture-file");
  const file = input.files && input.files[0];
  const form = $("whatsapp-form");
  const errorBox = form.querySelector(".form-error");
  const note = $("wa-picture-status");
  if (!file) return;
  if (file.size > MAX_PICTURE_BYTES) {
    showError(errorBox, new Error(`Profile picture: ${file.name} is larger than 5 MB; choose a smaller image.`));
    return;
  }
  note.textContent = `Uploading ${file.name}…`;
  $("wa-submit").disabled = true;
  try {
    const grant = await api("POST", "/clienteling/whatsapp/profile-picture-upload-url", { file_name: file.name });
    if (grant.max_bytes && file.size > grant.max_bytes) {
      throw new Error(`Profile picture: ${file.name} is larger than the ${grant.max_bytes} bytes the upload accepts.`);
    }
    await uploadFile(grant, file);
    $("wa-picture").value = grant.public_url;
    note.textContent = `Uploaded ${file.name}.`;
    const preview = $("wa-picture-preview");
    preview.src = grant.public_url;
    preview.hidden = false;
    showError(errorBox, null);
  } catch (err) {
    note.textContent = "The upload failed.";
    showError(errorBox, err);
  } finally {
    $("wa-submit").disabled = false;
  }
}

async function submitWhatsApp(event) {
  event.preventDefault();
  const form = $("whatsapp-form");
  const errorBox = form.querySelector(".form-error");
  const store = whatsapp.store;
  const body = {};
  for (const el of form.querySelectorAll("input[name], textarea[name]")) {
    const value = el.value.trim();
    if (value) body[el.name] = value;
  }
  if (!body.profile_name) {
    showError(errorBox, new Error("Profile name: enter the name customers will see."));
    $("wa-name").focus();
    return;
  }
  const button = $("wa-submit");
  await whileBusy(button, errorBox, null, async () => {
    const result = await api("POST", `/clienteling/stores/${encodeURIComponent(store.id)}/whatsapp/onboard`, body);
    showError(errorBox, null);
    const sid = result && (result.sid || (result.whatsapp && result.whatsapp.sid));
    const status = result && (result.status || (result.whatsapp && result.whatsapp.status));
    showOk(form.querySelector(".form-ok"),
      `WhatsApp sender ${sid || ""} for ${store.name}: ${humanize(status || "submitted")}. Meta reviews it; the status follows here.`.replace("  ", " "));
    finishDialog(form, button);
    await refresh();
  });
}

// ---------------------------------------------------------------------------------------------

function render() {
  renderGlance();
  renderCountries();
  prepareRows();
  applyFilters(true);
}

function debounce(fn, ms) {
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}

function wire() {
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => {
    clearSession();
    state.status = null;
    showSignedOut();
    $("tenant-input").focus();
  });
  $("refresh").addEventListener("click", refresh);
  $("enable-form").addEventListener("submit", enable);
  $("optin-form").addEventListener("submit", saveOptIn);
  $("store-filters").addEventListener("submit", (e) => e.preventDefault());
  $("store-search").addEventListener("input", debounce(() => applyFilters(), 120));
  for (const id of ["filter-country", "filter-sms", "filter-whatsapp", "page-size"]) {
    $(id).addEventListener("change", () => applyFilters());
  }
  for (const button of document.querySelectorAll("#store-table th button[data-sort]")) {
    button.addEventListener("click", () => sortBy(button.dataset.sort));
  }
  $("page-prev").addEventListener("click", () => { state.table.page -= 1; renderPage(); });
  $("page-next").addEventListener("click", () => { state.table.page += 1; renderPage(); });
  for (const dialog of document.querySelectorAll("dialog")) {
    dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
  }
  $("onboard-form").addEventListener("submit", (e) => e.preventDefault());
  $("onboard-owned").addEventListener("change", () => {
    $("onboard-owned-field").hidden = !$("onboard-owned").checked;
    $("onboard-number").disabled = $("onboard-owned").checked;
  });
  $("onboard-bundle").addEventListener("change", () => {
    const bundle = onboard.bundles.find((b) => b.sid === $("onboard-bundle").value);
    if (bundle && bundle.address_sid) $("onboard-address").value = bundle.address_sid;
  });
  $("onboard-review").addEventListener("click", reviewOnboard);
  $("onboard-back").addEventListener("click", () => { onboardStep(false); $("onboard-number").focus(); });
  $("onboard-submit").addEventListener("click", submitOnboard);
  $("offboard-form").addEventListener("submit", (e) => e.preventDefault());
  $("offboard-review").addEventListener("click", reviewOffboard);
  $("offboard-back").addEventListener("click", () => { offboardStep(false); $("offboard-sms").focus(); });
  $("offboard-submit").addEventListener("click", submitOffboard);
  $("disable-open").addEventListener("click", openDisable);
  $("disable-form").addEventListener("submit", (e) => { e.preventDefault(); submitDisable(); });
  $("disable-submit").addEventListener("click", submitDisable);
  $("wa-picture-file").addEventListener("change", uploadPicture);
  $("whatsapp-form").addEventListener("submit", submitWhatsApp);
  initLedger({ h, showError, whileBusy, formatDate });
}

wire();
enterConsole();
