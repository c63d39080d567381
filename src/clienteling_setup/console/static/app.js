// The operator console: sign-in, onboarding at a glance, countries, stores, onboarding forms.
// Everything comes from the public API (api.js); the page keeps no other state than the
// session (token + tenant, in sessionStorage) and the last status document.
import { api, ApiError, clearSession, fetchStatus, loadSession, saveSession, uploadFile } from "./api.js";
import { describeAction } from "./actions.js";
import { assess, GROUPS } from "./attention.js";
import { initBulk, renderBulkBar } from "./bulk.js";
import { initLedger, loadLedger } from "./ledger.js";
import { plainError, plainReason, statusLabel } from "./messages.js";
import { initStorePage, showStorePage } from "./storepage.js";

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

// Shows `err` in `container` in plain language; the API's own words and the request id stay
// behind a details toggle. When the message is about a field of the same form, that field is
// marked invalid and focused; a 401/403 offers "Sign in again" (the form keeps its state).
function showError(container, err) {
  container.replaceChildren();
  const form = container.closest("form");
  if (form) for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  if (!err) return;
  const raw = err instanceof ApiError || err instanceof Error ? err.message : String(err);
  const plain = err instanceof ApiError ? plainError(err) : { text: raw, field: null, mapped: false };
  container.append(h("p", { class: "error-message" }, plain.text));
  if (err instanceof ApiError) {
    container.append(
      h("details", { class: "error-details" },
        h("summary", {}, "Details"),
        plain.mapped ? h("p", { class: "error-raw" }, raw) : null,
        h("p", { class: "request-id" },
          err.status ? `HTTP ${err.status} · ` : "",
          "Request ID: ", h("code", { class: "request-id-value" }, err.requestId || "none"))),
    );
    if (err.status === 401 || err.status === 403) {
      if (container.closest("dialog") || container.id === "global-error") {
        container.append(h("button", { type: "button", class: "button small primary", onclick: openReauth }, "Sign in again"));
      }
    }
  }
  const field = plain.field && form ? form.querySelector(`#${plain.field}`) : null;
  if (field && !field.closest("[hidden]")) {
    field.setAttribute("aria-invalid", "true");
    field.focus();
  }
}

// Marks `field` invalid with `message` shown in `container`, and focuses it.
function fieldError(container, field, message) {
  showError(container, new Error(message));
  field.setAttribute("aria-invalid", "true");
  field.focus();
}

function showOk(container, text) {
  container.replaceChildren(text ? document.createTextNode(text) : "");
}

// Runs `work(signal)` with `button` disabled (and labelled `busyLabel` meanwhile, if given),
// shows what fails in `errorBox`, and gives the button back its label either way. Inside a
// dialog, its Cancel aborts the request (the signal's AbortController).
async function whileBusy(button, errorBox, busyLabel, work) {
  const label = button.textContent;
  const dialog = button.closest("dialog");
  const controller = new AbortController();
  if (dialog) dialog.abortWork = () => controller.abort();
  button.disabled = true;
  if (busyLabel) button.textContent = busyLabel;
  try {
    await work(controller.signal);
  } catch (err) {
    if (!(err instanceof ApiError && err.aborted)) showError(errorBox, err);
  } finally {
    if (dialog) dialog.abortWork = null;
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
  if (v === "online:updating") return "warn";
  if (/(reject|fail|offline|missing|suspend|closed|error|banned)/.test(v)) return "bad";
  return "warn";
}

function humanize(value) {
  return statusLabel(value);
}

// A SID or other long code: kept whole on one line, cut with an ellipsis, the full value in
// its title (and copyable).
function sid(value) {
  return value ? h("span", { class: "sid", title: value }, value) : "—";
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
  etag: null,
  assessment: null,
  configuration: null,
  confirmedNewTenant: false,
  rows: [],
  view: [],
  selected: new Set(),
  table: { search: "", country: "", sms: "", whatsapp: "", attention: "", sort: "name", dir: 1, page: 0, size: 50 },
};

// While anything is under way (an onboarding pending, a sender in review, a job running, the
// first read from Twilio), the status is polled with its ETag: an unchanged one costs a 304.
const POLL_MS = 3000;
let pollTimer = null;

// ---------------------------------------------------------------------------------------------
// Sign-in and loading

function showSignedOut() {
  $("console").hidden = true;
  $("store-page").hidden = true;
  $("session-info").hidden = true;
  $("sign-in").hidden = false;
  stopPolling();
}

async function loadConfiguration() {
  return api("GET", "/clienteling/configuration").catch((err) => {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  });
}

// Reads the status (a 304 keeps the one shown) and the configuration; renders what changed.
// Resolves to whether anything did.
async function loadAll(force = false) {
  const [{ document: status, etag }, configuration] = await Promise.all([
    fetchStatus(force ? null : state.etag),
    loadConfiguration(),
  ]);
  const sameConfiguration = JSON.stringify(configuration) === JSON.stringify(state.configuration);
  state.configuration = configuration;
  if (status === null && sameConfiguration && state.status) return false;
  if (status !== null) {
    state.status = status;
    state.etag = etag;
  }
  render();
  return true;
}

async function refresh(force = !state.status) {
  try {
    const changed = await loadAll(force);
    if (changed) await loadLedger();
    showError($("global-error"), null);
  } catch (err) {
    showError($("global-error"), err);
  }
  schedulePoll();
}

function underWay() {
  const { status, assessment } = state;
  if (!status) return false;
  const job = status.onboarding_job;
  return assessment.counts.waiting > 0
    || Boolean(job && (job.status === "running" || job.status === "cancelling"))
    || Boolean(status.disabling && status.disabling.status === "in_progress")
    || (Boolean(state.configuration) && status.reconciliation.last_succeeded_at === null);
}

function stopPolling() {
  clearTimeout(pollTimer);
  pollTimer = null;
  $("live-state").textContent = "";
}

function schedulePoll() {
  clearTimeout(pollTimer);
  pollTimer = null;
  if (!loadSession() || !underWay()) {
    $("live-state").textContent = state.status ? "Up to date. Nothing is under way." : "";
    return;
  }
  $("live-state").textContent = "Updating live while work is under way.";
  pollTimer = setTimeout(() => refresh(false), POLL_MS);
}

async function signIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const tenant = $("tenant-input").value.trim();
  const token = $("token-input").value.trim().replace(/^Bearer\s+/i, "");
  const errorBox = form.querySelector(".form-error");
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(tenant)) {
    fieldError(errorBox, $("tenant-input"), "Tenant: use lower-case letters, digits and hyphens (e.g. dodici).");
    return;
  }
  if (!token) {
    fieldError(errorBox, $("token-input"), "Bearer token: paste the token you were given.");
    return;
  }
  // The status read that checks the token is the one the console shows (not read twice).
  let first;
  try {
    first = await fetchStatus(null, { tenant, token });
  } catch (err) {
    showError(errorBox, err);
    return;
  }
  saveSession(tenant, token);
  showError(errorBox, null);
  $("token-input").value = "";
  state.status = first.document;
  state.etag = first.etag;
  state.configuration = undefined;
  state.confirmedNewTenant = false;
  await enterConsole();
}

// "Sign in again" from a dialog or the page: a new token for the same tenant, in a dialog of
// its own over whatever was open, which keeps its state; the operator then retries.
function openReauth() {
  const session = loadSession();
  const form = $("reauth-form");
  form.reset();
  showError(form.querySelector(".form-error"), null);
  $("reauth-tenant").textContent = session ? session.tenant : "";
  $("reauth-dialog").showModal();
  $("reauth-token").focus();
}

async function submitReauth(event) {
  event.preventDefault();
  const form = $("reauth-form");
  const errorBox = form.querySelector(".form-error");
  const session = loadSession() || { tenant: $("tenant-input").value.trim() };
  const token = $("reauth-token").value.trim().replace(/^Bearer\s+/i, "");
  if (!token) {
    fieldError(errorBox, $("reauth-token"), "Bearer token: paste a new token for this retailer.");
    return;
  }
  await whileBusy($("reauth-submit"), errorBox, "Signing in…", async (signal) => {
    await api("GET", "/clienteling/onboarding-status", undefined, { tenant: session.tenant, token }, { signal });
    saveSession(session.tenant, token);
    $("reauth-dialog").close();
    for (const box of document.querySelectorAll("dialog[open] .form-error, #global-error")) showError(box, null);
    const opener = document.querySelector("dialog[open]");
    if (opener) (opener.querySelector("button.primary:not([hidden]), button.danger:not([hidden])") || opener).focus();
    if (!opener) refresh();
  });
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
  filtersFromUrl();
  await refresh(!state.status);
  route(false, false);
}

// ---------------------------------------------------------------------------------------------
// At a glance

function renderGlance() {
  const { status, configuration, assessment } = state;
  // Progress counts what can be done: stores in countries the service supports.
  const { onboarded, possible } = assessment;
  const percent = possible ? Math.round((onboarded / possible) * 100) : 0;
  $("progress-figure").textContent = `${percent}%`;
  $("progress-bar").value = percent;
  $("progress-bar").setAttribute("aria-valuetext", `${percent}% of supported stores onboarded for SMS`);
  const readyCountries = status.countries.filter((c) => c.actions.length === 0).length;
  const unsupported = assessment.counts.unsupported;
  $("progress-detail").replaceChildren(
    `${onboarded} of ${possible} stores onboarded for SMS`,
    unsupported ? ` (${unsupported} more in unsupported countries not counted)` : "",
    `; ${readyCountries} of ${status.countries.length} countries with nothing left to do.`,
  );
  $("retailer-state").replaceChildren(
    status.onboarded
      ? badge("Retailer onboarded", "ok")
      : badge("Retailer not onboarded yet", "warn"),
    status.onboarded ? ` on ${formatDate(status.onboarded_at)}` : "",
  );

  const enabled = $("enabled-state");
  // A tenant with neither stores nor configuration is more often a typo than a new retailer:
  // enabling would create a Twilio account, so ask first.
  const unknownTenant = !configuration && status.stores.length === 0;
  $("tenant-warning").hidden = !unknownTenant || state.confirmedNewTenant;
  $("tenant-warning-name").textContent = loadSession() ? loadSession().tenant : "";
  if (configuration) {
    enabled.replaceChildren(
      badge("Enabled", "ok"), ` since ${formatDate(configuration.created_at)}. Website: `,
      h("a", { href: configuration.ecom_link, rel: "noopener noreferrer", target: "_blank" }, configuration.ecom_link),
    );
    $("enable-form").hidden = true;
  } else {
    enabled.replaceChildren(badge("Not enabled", "warn"), " Enable clienteling to create the retailer's Twilio account.");
    $("enable-form").hidden = unknownTenant && !state.confirmedNewTenant;
  }

  const twilio = status.twilio;
  $("twilio-state").replaceChildren(
    twilio.connected ? badge("Connected", "ok") : badge(twilio.sid ? "Not active" : "Not connected", twilio.sid ? "bad" : "warn"),
  );
  $("twilio-details").replaceChildren(
    h("dt", {}, "Account"), h("dd", {}, sid(twilio.sid)),
    h("dt", {}, "Call forwarding"),
    h("dd", {}, twilio.call_forwarding.name || sid(twilio.call_forwarding.sid)),
  );

  renderDisabling(status.disabling, Boolean(configuration));
  $("twilio-reading").hidden = !(configuration && status.reconciliation.last_succeeded_at === null);

  const optin = $("optin-body");
  if (document.activeElement !== optin) optin.value = status.opt_in.body || "";
  $("optin-form").querySelector("button[type=submit]").textContent =
    status.opt_in.exists ? "Save template" : "Create template";
}

// ---------------------------------------------------------------------------------------------
// Needs attention: who acts next, with counts; each group filters the table to its stores.

function renderAttention() {
  const { assessment } = state;
  const cards = GROUPS.map((group) => {
    const stores = assessment.counts[group.key];
    const countries = assessment.countryCounts[group.key];
    const tone = group.key === "failed" ? "bad" : group.key === "unsupported" ? "" : group.key === "waiting" ? "neutral" : "warn";
    return h("li", { class: `attention ${tone}`, "data-group": group.key },
      h("h3", { id: `attention-${group.key}-title` }, group.title),
      h("p", { class: "figure", "data-count": String(stores) }, String(stores)),
      h("p", { class: "hint" }, `${stores === 1 ? "store" : "stores"} in ${countries} ${countries === 1 ? "country" : "countries"}. ${group.hint}`),
      stores
        ? h("button", {
          type: "button", class: "button small secondary",
          "aria-label": `Show the ${stores} ${group.title.toLowerCase()} stores`,
          onclick: () => showGroup(group.key),
        }, "Show stores")
        : null,
    );
  });
  $("attention-list").replaceChildren(...cards);
  const total = GROUPS.reduce((n, g) => n + assessment.counts[g.key], 0);
  $("attention-summary").textContent = total
    ? `${total} of ${state.status.stores.length} stores need someone to act or are waiting.`
    : state.status.stores.length ? "Nothing needs attention: every supported store is onboarded." : "";
}

function showGroup(key) {
  $("filter-attention").value = key;
  $("filter-country").value = "";
  $("filter-sms").value = "";
  $("filter-whatsapp").value = "";
  $("store-search").value = "";
  applyFilters();
  $("stores-title").setAttribute("tabindex", "-1");
  $("stores-title").scrollIntoView();
  $("stores-title").focus();
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
      item.required || item[idKey] ? badge(humanize(item.status), statusTone(item.status)) : badge(statusLabel("not_required")),
      item[idKey] ? h("span", { class: "hint" }, " ", sid(item[idKey])) : null,
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

const COUNTRY_BADGES = {
  failed: ["Failed", "bad"],
  retailer: ["Retailer acts", "warn"],
  waiting: ["Waiting on Twilio", ""],
  done: ["Ready", "ok"],
  unsupported: ["Not supported", "bad"],
};

// One collapsed card per country, the most urgent first; opening one shows its compliance
// and next steps.
function renderCountries() {
  const { status, assessment } = state;
  const list = $("country-list");
  $("countries-empty").hidden = status.countries.length > 0;
  const open = new Set([...list.querySelectorAll("details[open]")].map((d) => d.closest("li").dataset.country));
  list.replaceChildren(...assessment.countries.map(({ country, tally, group }) => {
    const supported = country.number_availability.supported;
    const steps = country.actions.map((action) => describeAction(action, country, status));
    const tone = !supported ? "blocked" : group === "done" ? "done" : group === "failed" ? "blocked" : "todo";
    const [label, badgeTone] = COUNTRY_BADGES[group];
    const counts = [
      tally.failed && `${tally.failed} failed`,
      tally.retailer && `${tally.retailer} to onboard`,
      tally.waiting && `${tally.waiting} waiting`,
    ].filter(Boolean).join(", ");
    return h("li", { class: `country ${tone}`, "data-country": country.country_code, "data-group": group },
      h("details", { open: open.has(country.country_code) },
        h("summary", {},
          h("span", { class: "country-name" }, `${country.country_code} · ${country.stores} store${country.stores === 1 ? "" : "s"}`),
          badge(label, badgeTone),
          counts ? h("span", { class: "country-counts" }, counts) : null),
        h("dl", { class: "pairs" },
          h("dt", {}, "Numbers"), h("dd", {}, supported ? "Available" : "Not available"),
          requirementBlock("Regulatory bundle", country.regulatory_bundle, "bundle_id"),
          requirementBlock("Trust product", country.trusted_product, "product_id"),
        ),
        steps.length
          ? h("ol", { class: "steps", "aria-label": `Next steps for ${country.country_code}` },
            steps.map((step) => h("li", { class: "step" }, step.text, " ", actionControl(step))))
          : h("p", { class: "hint" }, "Nothing left to do here."),
      ),
    );
  }));
}

// ---------------------------------------------------------------------------------------------
// Stores table: filtered and sorted in memory, only the current page is rendered. Filters and
// sort live in the URL (a reload or a shared link shows the same view).

// Natural order ("#251" before "#2489"), case-insensitive.
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
const GROUP_ORDER = { failed: 0, retailer: 1, waiting: 2, done: 3, unsupported: 4 };
const SORT_KEYS = {
  name: (r) => r.name,
  country_code: (r) => r.country_code,
  phone_number: (r) => r.phone_number || r.channels.sms.pending_phone_number || "\uffff",
  sms: (r) => r.channels.sms.status,
  whatsapp: (r) => r.channels.whatsapp.status,
  attention: (r) => String(GROUP_ORDER[r._group]),
};
const FILTER_PARAMS = { q: "store-search", country: "filter-country", sms: "filter-sms", whatsapp: "filter-whatsapp", attention: "filter-attention" };

function prepareRows() {
  const { byStore } = state.assessment;
  state.rows = state.status.stores.map((store) => ({
    ...store,
    _group: byStore.get(store.id),
    _search: `${store.id} ${store.name} ${store.phone_number || ""} ${store.channels.sms.pending_phone_number || ""}`.toLowerCase(),
  }));
  const countries = [...new Set(state.rows.map((r) => r.country_code))].sort();
  fillSelect($("filter-country"), "All countries", countries);
  const whatsapp = [...new Set(state.rows.map((r) => r.channels.whatsapp.status))].sort();
  fillSelect($("filter-whatsapp"), "Any", whatsapp, humanize);
  const ids = new Set(state.rows.map((r) => r.id));
  for (const id of state.selected) if (!ids.has(id)) state.selected.delete(id);
}

function fillSelect(select, anyLabel, values, label = (v) => v) {
  const current = select.value || select.dataset.wanted || "";
  select.replaceChildren(h("option", { value: "" }, anyLabel), ...values.map((v) => h("option", { value: v }, label(v))));
  select.value = values.includes(current) ? current : "";
  if (select.value === current) delete select.dataset.wanted;
}

// The view's filters and sort from the URL's query (on load, back and forward).
function filtersFromUrl() {
  const params = new URLSearchParams(location.search);
  for (const [param, id] of Object.entries(FILTER_PARAMS)) {
    const value = params.get(param) || "";
    $(id).value = value;
    if ($(id).tagName === "SELECT" && $(id).value !== value) $(id).dataset.wanted = value;
  }
  const t = state.table;
  t.sort = SORT_KEYS[params.get("sort")] ? params.get("sort") : "name";
  t.dir = params.get("dir") === "desc" ? -1 : 1;
  t.page = Math.max(0, Number(params.get("page") || 1) - 1) || 0;
  if (["25", "50", "100"].includes(params.get("size"))) $("page-size").value = params.get("size");
}

// The view's filters and sort into the URL, replacing the current history entry.
function filtersToUrl() {
  if (location.pathname.startsWith("/console/stores/")) return;
  const t = state.table;
  const params = new URLSearchParams();
  for (const [param, id] of Object.entries(FILTER_PARAMS)) {
    const value = $(id).value.trim();
    if (value) params.set(param, value);
  }
  if (t.sort !== "name") params.set("sort", t.sort);
  if (t.dir < 0) params.set("dir", "desc");
  if (t.page > 0) params.set("page", String(t.page + 1));
  if (t.size !== 50) params.set("size", String(t.size));
  const query = params.toString();
  const url = `/console/${query ? `?${query}` : ""}`;
  if (url !== location.pathname + location.search) history.replaceState(null, "", url);
}

function matches(r, t) {
  return (!t.search || r._search.includes(t.search))
    && (!t.country || r.country_code === t.country)
    && (!t.sms || r.channels.sms.status === t.sms)
    && (!t.whatsapp || r.channels.whatsapp.status === t.whatsapp)
    && (!t.attention || r._group === t.attention);
}

function applyFilters(keepPage = false) {
  const t = state.table;
  t.search = $("store-search").value.trim().toLowerCase();
  t.country = $("filter-country").value || $("filter-country").dataset.wanted || "";
  t.sms = $("filter-sms").value;
  t.whatsapp = $("filter-whatsapp").value || $("filter-whatsapp").dataset.wanted || "";
  t.attention = $("filter-attention").value;
  t.size = Number($("page-size").value);
  const key = SORT_KEYS[t.sort];
  state.view = state.rows
    .filter((r) => matches(r, t))
    .map((r) => [key(r), r])
    .sort((a, b) => collator.compare(a[0], b[0]) * t.dir || collator.compare(a[1].id, b[1].id))
    .map((pair) => pair[1]);
  if (!keepPage) t.page = 0;
  $("sort-by").value = `${t.sort}:${t.dir > 0 ? "asc" : "desc"}`;
  renderPage();
  filtersToUrl();
}

function renderPage() {
  const t = state.table;
  const pages = Math.max(1, Math.ceil(state.view.length / t.size));
  t.page = Math.min(t.page, pages - 1);
  const start = t.page * t.size;
  const slice = state.view.slice(start, start + t.size);
  const body = $("store-rows");
  // A re-render (a live update) keeps the keyboard where it was: on the same control of the
  // same store's row.
  const active = document.activeElement;
  const kept = active && body.contains(active)
    ? [active.closest("tr").dataset.storeId, active.getAttribute("aria-label"), active.className]
    : null;
  body.replaceChildren(...slice.map(storeRow));
  if (kept) {
    const again = body.querySelector(`tr[data-store-id="${CSS.escape(kept[0])}"]`);
    const control = again && ([...again.querySelectorAll("button, a, input")]
      .find((el) => el.getAttribute("aria-label") === kept[1] && el.className === kept[2])
      || again.querySelector("button, a"));
    if (control) control.focus();
  }
  if (!slice.length) {
    body.append(h("tr", {}, h("td", { colspan: "7" }, state.rows.length ? "No store matches these filters." : "No stores in the directory yet.")));
  }
  $("store-count").textContent = `${state.view.length} of ${state.rows.length} stores`;
  $("page-label").textContent = `Page ${t.page + 1} of ${pages}`;
  $("page-prev").disabled = t.page === 0;
  $("page-next").disabled = t.page >= pages - 1;
  for (const th of document.querySelectorAll("#store-table th[aria-sort]")) {
    const sortKey = th.querySelector("button").dataset.sort;
    th.setAttribute("aria-sort", sortKey === t.sort ? (t.dir > 0 ? "ascending" : "descending") : "none");
  }
  const all = $("select-page");
  const onPage = slice.filter((r) => state.selected.has(r.id)).length;
  all.checked = slice.length > 0 && onPage === slice.length;
  all.indeterminate = onPage > 0 && onPage < slice.length;
  renderBulkBar();
}

function storeLink(store) {
  return h("a", {
    href: `/console/stores/${encodeURIComponent(store.id)}`, class: "store-name",
    onclick: (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      openStorePage(store.id);
    },
  }, store.name);
}

// Why a row is not green, in words: the pending number and the last error, the sender's
// offline reasons.
function smsReason(store) {
  const sms = store.channels.sms;
  if (sms.status !== "pending") return null;
  return h("span", { class: "reason" },
    sms.pending_phone_number ? `Number ${sms.pending_phone_number} claimed. ` : "",
    sms.last_error
      ? [`Failed ${formatDate(sms.last_error.at)}: ${plainReason(sms.last_error)}`,
        sms.last_error.request_id ? h("span", { class: "store-id" }, "Request ID: ", h("code", {}, sms.last_error.request_id)) : null]
      : "Onboarding under way.");
}

function whatsappReason(wa) {
  const parts = [];
  if (wa.offline_reasons && wa.offline_reasons.length) parts.push(`Offline: ${wa.offline_reasons.join("; ")}`);
  if (wa.last_error) parts.push(`Failed ${formatDate(wa.last_error.at)}: ${plainReason(wa.last_error)}`);
  const detail = [
    wa.quality_rating && wa.quality_rating.toUpperCase() !== "UNKNOWN" && `Quality ${wa.quality_rating.toLowerCase()}`,
    wa.messaging_limit && `Limit ${wa.messaging_limit}`,
  ].filter(Boolean).join(" · ");
  if (detail) parts.push(detail);
  return parts.length ? h("span", { class: "reason" }, parts.join(". ")) : null;
}

function storeRow(store) {
  const sms = store.channels.sms.status;
  const wa = store.channels.whatsapp;
  const country = state.status.countries.find((c) => c.country_code === store.country_code);
  const supported = !country || country.number_availability.supported;
  const canOnboard = sms === "not_onboarded" && state.configuration && supported;
  const stuck = sms === "pending" && state.configuration && supported;
  const job = state.bulkProgress ? state.bulkProgress.get(store.id) : null;
  return h("tr", { "data-store-id": store.id, "data-group": store._group },
    h("td", { class: "select-cell" },
      h("input", {
        type: "checkbox", class: "select-store", "aria-label": `Select ${store.name}`,
        checked: state.selected.has(store.id),
        onchange: (event) => {
          if (event.target.checked) state.selected.add(store.id); else state.selected.delete(store.id);
          renderPage();
          document.querySelector(`#store-rows tr[data-store-id="${CSS.escape(store.id)}"] .select-store`).focus();
        },
      })),
    h("td", { "data-label": "Store" }, storeLink(store), h("span", { class: "store-id" }, store.id)),
    h("td", { "data-label": "Country" }, store.country_code),
    h("td", { "data-label": "Number", class: "store-number" }, store.phone_number || "—"),
    h("td", { "data-label": "SMS", class: "store-sms" },
      badge(humanize(sms), statusTone(store.channels.sms.last_error ? "failed" : sms)), smsReason(store),
      job ? h("span", { class: "job-state" }, `Bulk: ${humanize(job.status)}${job.message ? ` (${job.message})` : ""}`) : null),
    h("td", { "data-label": "WhatsApp", class: "store-whatsapp" }, badge(humanize(wa.status), statusTone(wa.status)), whatsappReason(wa)),
    h("td", { "data-label": "Actions" },
      h("div", { class: "row" },
        canOnboard ? h("button", { type: "button", class: "button small primary", "aria-label": `Onboard ${store.name}`, onclick: () => openOnboard(store) }, "Onboard") : null,
        stuck ? h("button", { type: "button", class: "button small primary", "aria-label": `Retry ${store.name}`, onclick: () => openOnboard(store) }, "Retry") : null,
        sms === "onboarded" || sms === "registration_pending" ? h("button", { type: "button", class: "button small secondary", "aria-label": `WhatsApp for ${store.name}`, onclick: () => openWhatsApp(store) }, wa.status === "not_onboarded" ? "WhatsApp" : "Update WhatsApp") : null,
        sms !== "not_onboarded" || wa.status !== "not_onboarded" ? h("button", { type: "button", class: "button small secondary", "aria-label": `Offboard ${store.name}`, onclick: () => openOffboard(store) }, "Offboard") : null,
      )),
  );
}

function sortBy(key, dir) {
  const t = state.table;
  t.dir = dir || (t.sort === key ? -t.dir : 1);
  t.sort = key;
  applyFilters(true);
}

// The filtered view (every page) as CSV, made in the browser.
function csvCell(value) {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\n\r]/.test(text) || /^[=+\-@]/.test(text) ? `"${text.replace(/^([=+\-@])/, "'$1").replaceAll('"', '""')}"` : text;
}

function exportStores() {
  const header = ["store_id", "name", "country_code", "phone_number", "sms_status", "pending_phone_number", "sms_last_error", "sms_last_error_request_id", "whatsapp_status", "whatsapp_offline_reasons", "attention"];
  const lines = [header.join(",")];
  for (const r of state.view) {
    const sms = r.channels.sms;
    const wa = r.channels.whatsapp;
    lines.push([r.id, r.name, r.country_code, r.phone_number, sms.status, sms.pending_phone_number,
      sms.last_error && sms.last_error.message, sms.last_error && sms.last_error.request_id,
      wa.status, (wa.offline_reasons || []).join("; "), r._group].map(csvCell).join(","));
  }
  const blob = new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv" });
  const link = h("a", { href: URL.createObjectURL(blob), download: `stores-${loadSession().tenant}.csv` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

// ---------------------------------------------------------------------------------------------
// Onboard a store (SMS)

const onboard = { store: null, numbers: [], bundles: [], needsBundle: false, refused: new Set() };

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

// Bundles Twilio has approved can buy numbers; the others are shown, but cannot be picked.
const USABLE_BUNDLES = new Set(["twilio-approved", "provisionally-approved"]);

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
  $("onboard-number").disabled = false;
  form.querySelector("[data-close]").textContent = "Cancel";
  $("onboard-submit").hidden = true;
  $("onboard-store").textContent = `${store.name} (${store.id}), ${store.country_code}`;
  $("onboard-compliance").hidden = !onboard.needsBundle;
  const pending = store.channels.sms.pending_phone_number;
  $("onboard-retry-note").hidden = !pending;
  $("onboard-retry-note").textContent = pending
    ? `The last attempt claimed ${pending}${store.channels.sms.last_error ? ` and failed: ${plainReason(store.channels.sms.last_error)}` : "."} Retrying with it resumes that onboarding; nothing is bought twice.`
    : "";
  dialog.showModal();
  await loadOnboardLists();
}

// The numbers (and the bundles and addresses, where the country needs them) of the store
// being onboarded: on opening, and again after the API refused a choice (4xx).
async function loadOnboardLists() {
  const store = onboard.store;
  const form = $("onboard-form");
  const errorBox = form.querySelector(".form-error");
  // What was chosen stays chosen when the lists come back (if still offered).
  const kept = { number: $("onboard-number").value, bundle: $("onboard-bundle").value, address: $("onboard-address").value };
  setOptions($("onboard-number"), "Loading numbers…", [], () => "", () => "");
  $("onboard-number-hint").textContent = "";
  const id = encodeURIComponent(store.id);
  try {
    const [numbers, bundles, addresses] = await Promise.all([
      api("GET", `/clienteling/stores/${id}/available-phone-numbers`),
      onboard.needsBundle ? api("GET", `/clienteling/stores/${id}/regulatory-bundles`) : [],
      onboard.needsBundle ? api("GET", `/clienteling/stores/${id}/addresses`) : [],
    ]);
    if (onboard.store !== store) return;
    const pending = store.channels.sms.pending_phone_number;
    const available = numbers.filter((n) => !onboard.refused.has(n.phone_number));
    const offered = pending && !available.some((n) => n.phone_number === pending)
      ? [{ phone_number: pending, locality: "claimed by the last attempt" }, ...available]
      : available;
    onboard.numbers = offered;
    onboard.bundles = bundles;
    setOptions($("onboard-number"), offered.length ? "Choose a number" : "No numbers available", offered,
      (n) => n.phone_number, (n) => [n.phone_number, [n.locality, n.region].filter(Boolean).join(", ")].filter(Boolean).join(" — "));
    if (pending) $("onboard-number").value = pending;
    $("onboard-number-hint").textContent = available.length
      ? `${available.length} numbers available near the store.`
      : "Twilio offers no number near this store right now.";
    const usable = bundles.filter((b) => USABLE_BUNDLES.has(b.status));
    const select = $("onboard-bundle");
    setOptions(select, usable.length ? "Choose an approved bundle" : `No approved bundle for ${store.country_code} yet`, bundles,
      (b) => b.sid, (b) => `${b.friendly_name} (${humanize(b.status || "unknown")})`);
    for (const option of select.options) {
      const bundle = bundles.find((b) => b.sid === option.value);
      if (bundle && !USABLE_BUNDLES.has(bundle.status)) option.disabled = true;
    }
    setOptions($("onboard-address"), addresses.length ? "Choose an address" : "No address registered", addresses,
      (a) => a.sid, (a) => [a.friendly_name, a.street, a.city].filter(Boolean).join(", "));
    if (kept.bundle && usable.some((b) => b.sid === kept.bundle)) select.value = kept.bundle;
    if (kept.address && addresses.some((a) => a.sid === kept.address)) $("onboard-address").value = kept.address;
    if (kept.number && offered.some((n) => n.phone_number === kept.number)) $("onboard-number").value = kept.number;
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
    fieldError(errorBox, owned ? $("onboard-owned-number") : $("onboard-number"),
      owned ? "Owned number: enter it in E.164, e.g. +12125550100." : "Phone number: choose one of the available numbers.");
    return;
  }
  if (onboard.needsBundle && (!$("onboard-bundle").value || !$("onboard-address").value)) {
    fieldError(errorBox, !$("onboard-bundle").value ? $("onboard-bundle") : $("onboard-address"),
      `${onboard.store.country_code} requires a regulatory bundle and an address: choose both.`);
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
  await whileBusy(button, errorBox, "Working…", async (signal) => {
    let result;
    try {
      result = await api("POST", `/clienteling/stores/${encodeURIComponent(store.id)}/onboard${query}`, body, null, { signal });
    } catch (err) {
      // The API refused the choice (a number taken meanwhile, a bundle not usable): back to
      // the choices, with the lists read again.
      if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 401 && err.status !== 403) {
        // A number the API says is gone is not offered again, even while Twilio's search
        // (cached by the service) still lists it.
        if (plainError(err).field === "onboard-number") onboard.refused.add(body.phone_number);
        onboardStep(false);
        await loadOnboardLists();
      }
      throw err;
    }
    showError(errorBox, null);
    showOk(form.querySelector(".form-ok"),
      `${store.name} is onboarded with ${result.phone_number} (SMS ${humanize(result.sms.status).toLowerCase()}${result.enabled ? ", switched on for associates" : ""}).`);
    $("onboard-back").hidden = true;
    $("onboard-confirm").hidden = true;
    returnFocusTo = store.id;
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
  await whileBusy(button, errorBox, "Working…", async (signal) => {
    let result;
    if (plan.closing) {
      result = await api("DELETE", `${path}?offboard=true`, undefined, null, { signal });
    } else {
      const channels = [plan.sms && "sms", plan.whatsapp && "whatsapp"].filter(Boolean);
      result = await api("POST", `${path}/offboard`, { channels, release_number: plan.release }, null, { signal });
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
    returnFocusTo = plan.store.id;
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
  $("whatsapp-loading").textContent = "";
  $("wa-submit").hidden = false;
  form.querySelector("[data-close]").textContent = "Cancel";
  $("whatsapp-store").textContent = `${store.name} (${store.id}), SMS number ${store.phone_number || "—"}`;
  $("wa-name").value = store.name;
  $("wa-waba").value = store.channels.whatsapp.waba || "";
  const registered = store.channels.whatsapp.status !== "not_onboarded";
  $("whatsapp-title").textContent = registered ? "Update the WhatsApp profile" : "Onboard store to WhatsApp";
  $("whatsapp-dialog").showModal();
  // A failed registration (no sender yet) is held too: its retry starts from what was sent.
  if (registered || store.channels.whatsapp.last_error) prefillWhatsApp(store);
}

// The fields the registration read fills, by the form's input ids.
const WA_PROFILE_FIELDS = { "wa-name": "name", "wa-email": "email", "wa-website": "website", "wa-about": "about", "wa-address": "address", "wa-description": "description", "wa-picture": "picture" };

// An update starts from what the sender has now: every profile field, the WABA and a dedicated
// number (left empty when the sender is on the SMS number, so an update never buys one).
async function prefillWhatsApp(store) {
  const form = $("whatsapp-form");
  const note = $("whatsapp-loading");
  note.textContent = "Loading the current profile…";
  $("wa-submit").disabled = true;
  try {
    const reg = await api("GET", `/clienteling/stores/${encodeURIComponent(store.id)}/whatsapp`);
    if (whatsapp.store !== store || !$("whatsapp-dialog").open) return;
    for (const [id, key] of Object.entries(WA_PROFILE_FIELDS)) $(id).value = reg.profile[key] || "";
    $("wa-waba").value = reg.waba_id || "";
    $("wa-number").value = reg.phone_number && reg.phone_number !== store.phone_number ? reg.phone_number : "";
    if (reg.profile.picture) {
      $("wa-picture-preview").src = reg.profile.picture;
      $("wa-picture-preview").hidden = false;
    }
    note.textContent = "Showing the current profile: change what should change.";
  } catch (err) {
    note.textContent = "";
    showError(form.querySelector(".form-error"), err);
  } finally {
    $("wa-submit").disabled = false;
  }
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
  await whileBusy(button, errorBox, null, async (signal) => {
    const result = await api("POST", `/clienteling/stores/${encodeURIComponent(store.id)}/whatsapp/onboard`, body, null, { signal });
    returnFocusTo = store.id;
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
  state.assessment = assess(state.status);
  renderGlance();
  renderAttention();
  renderCountries();
  prepareRows();
  applyFilters(true);
  if (location.pathname.startsWith("/console/stores/")) showStorePage(storeIdFromPath(), false);
}

// After a dialog's work succeeded, focus goes back to the store's row when it closes.
let returnFocusTo = null;

function focusRow(storeId) {
  const row = document.querySelector(`#store-rows tr[data-store-id="${CSS.escape(storeId)}"]`);
  if (!row) return;
  const target = row.querySelector("button") || row.querySelector("a");
  if (target) target.focus();
}

// ---------------------------------------------------------------------------------------------
// Pages: the home (/console/) and a page per store (/console/stores/{id}).

function storeIdFromPath() {
  return decodeURIComponent(location.pathname.slice("/console/stores/".length));
}

function openStorePage(storeId) {
  sessionStorage.setItem("clienteling-console-home", location.pathname + location.search);
  history.pushState(null, "", `/console/stores/${encodeURIComponent(storeId)}`);
  route(true);
}

// Shows the page the URL names; `readUrl`: take the filters from it too (back and forward).
function route(moveFocus = true, readUrl = true) {
  if (!loadSession() || !state.status) return;
  if (location.pathname.startsWith("/console/stores/")) {
    $("console").hidden = true;
    $("store-page").hidden = false;
    showStorePage(storeIdFromPath(), moveFocus);
  } else {
    $("store-page").hidden = true;
    $("console").hidden = false;
    if (readUrl) filtersFromUrl();
    applyFilters(true);
    if (moveFocus) {
      $("attention-title").setAttribute("tabindex", "-1");
      $("attention-title").focus();
    }
  }
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
    state.etag = null;
    showSignedOut();
    $("tenant-input").focus();
  });
  $("refresh").addEventListener("click", () => refresh(true));
  $("enable-form").addEventListener("submit", enable);
  $("tenant-confirm").addEventListener("click", () => {
    state.confirmedNewTenant = true;
    renderGlance();
    $("ecom-link").focus();
  });
  $("tenant-switch").addEventListener("click", () => $("sign-out").click());
  $("optin-form").addEventListener("submit", saveOptIn);
  $("store-filters").addEventListener("submit", (e) => e.preventDefault());
  $("store-search").addEventListener("input", debounce(() => applyFilters(), 120));
  for (const id of ["filter-country", "filter-sms", "filter-whatsapp", "filter-attention", "page-size"]) {
    $(id).addEventListener("change", () => {
      delete $(id).dataset.wanted;
      applyFilters();
    });
  }
  $("sort-by").addEventListener("change", () => {
    const [key, dir] = $("sort-by").value.split(":");
    sortBy(key, dir === "desc" ? -1 : 1);
  });
  for (const button of document.querySelectorAll("#store-table th button[data-sort]")) {
    button.addEventListener("click", () => sortBy(button.dataset.sort));
  }
  $("select-page").addEventListener("change", () => {
    const t = state.table;
    const slice = state.view.slice(t.page * t.size, (t.page + 1) * t.size);
    for (const r of slice) {
      if ($("select-page").checked) state.selected.add(r.id); else state.selected.delete(r.id);
    }
    renderPage();
  });
  $("stores-export").addEventListener("click", exportStores);
  $("page-prev").addEventListener("click", () => { state.table.page -= 1; renderPage(); filtersToUrl(); });
  $("page-next").addEventListener("click", () => { state.table.page += 1; renderPage(); filtersToUrl(); });
  for (const dialog of document.querySelectorAll("dialog")) {
    const close = dialog.querySelector("[data-close]");
    close.addEventListener("click", () => {
      if (dialog.abortWork) dialog.abortWork();
      dialog.close();
    });
    dialog.addEventListener("close", () => {
      if (dialog.abortWork) dialog.abortWork();
      if (returnFocusTo && dialog.id !== "reauth-dialog") {
        const id = returnFocusTo;
        returnFocusTo = null;
        focusRow(id);
      }
    });
  }
  $("reauth-form").addEventListener("submit", submitReauth);
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
  window.addEventListener("popstate", () => route(true));
  const ui = { h, showError, whileBusy, formatDate, badge, humanize, statusTone, sid, plainReason, $, state, refresh, openOnboard, openOffboard, openWhatsApp, focusRow, route, renderPage };
  initLedger(ui);
  initBulk(ui);
  initStorePage(ui);
}

wire();
enterConsole();
