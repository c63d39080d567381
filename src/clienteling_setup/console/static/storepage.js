// A page per store at /console/stores/{id}: its numbers, the country's bundle, its WhatsApp
// sender, the last error of each channel, and its timeline from the money ledger. Linkable:
// the service answers the console's page for every /console/stores/{id}.
import { api } from "./api.js";

let ui = null;
// The ledger entries of the store shown, read once per store and status version.
const timeline = { key: null, items: null };
// The WhatsApp registration (its profile) of the store shown, read once per store and status version.
const registration = { key: null, value: null };

const PROFILE_LABELS = [["name", "Profile name"], ["about", "About"], ["description", "Description"], ["address", "Business address"], ["email", "Email"], ["website", "Website"], ["picture", "Picture"]];

export function initStorePage(helpers) {
  ui = helpers;
}

function errorLine(error) {
  const { h, formatDate, plainReason } = ui;
  if (!error) return "None";
  return h("span", {},
    `${formatDate(error.at)}: ${plainReason(error)} `,
    h("details", { class: "error-details" }, h("summary", {}, "Details"),
      h("p", { class: "error-raw" }, error.message),
      h("p", { class: "request-id" }, "Request ID: ", h("code", { class: "request-id-value" }, error.request_id || "none"))));
}

// Shows the store's page (from the status the console holds, and the ledger read now).
export async function showStorePage(storeId, moveFocus = true) {
  const { h, $, state, badge, humanize, statusTone, sid, formatDate } = ui;
  const store = state.status.stores.find((s) => s.id === storeId);
  const title = $("store-page-title");
  const body = $("store-page-body");
  const back = h("a", {
    href: "/console/", class: "back-link",
    onclick: (event) => {
      event.preventDefault();
      history.pushState(null, "", sessionStorage.getItem("clienteling-console-home") || "/console/");
      ui.route(true);
    },
  }, "← All stores");
  if (!store) {
    title.textContent = "Store not found";
    body.replaceChildren(back, h("p", {}, `No store '${storeId}' in this retailer's directory.`));
    if (moveFocus) title.focus();
    return;
  }
  title.textContent = store.name;
  const country = state.status.countries.find((c) => c.country_code === store.country_code);
  const sms = store.channels.sms;
  const wa = store.channels.whatsapp;
  const bundle = country ? country.regulatory_bundle : null;
  const group = state.assessment.byStore.get(store.id);
  // A US store waiting on its A2P campaign has its number: WhatsApp, not Onboard, as on its row.
  const numberReady = sms.status === "onboarded" || sms.status === "registration_pending";
  const actions = h("div", { class: "row" },
    !numberReady && state.configuration && (!country || country.number_availability.supported)
      ? h("button", { type: "button", class: "button small primary", onclick: () => ui.openOnboard(store) }, sms.status === "pending" ? "Retry" : "Onboard")
      : null,
    numberReady
      ? h("button", { type: "button", class: "button small secondary", onclick: () => ui.openWhatsApp(store) }, wa.status === "not_onboarded" ? "WhatsApp" : "Update WhatsApp")
      : null,
    sms.status !== "not_onboarded" || wa.status !== "not_onboarded"
      ? h("button", { type: "button", class: "button small secondary", onclick: () => ui.openOffboard(store) }, "Offboard")
      : null,
  );
  body.replaceChildren(
    back,
    h("p", { class: "hint" }, `${store.id} · ${store.country_code}`),
    actions,
    h("div", { class: "cards" },
      h("article", { class: "card", "aria-labelledby": "sp-sms-title" },
        h("h3", { id: "sp-sms-title" }, "SMS"),
        h("dl", { class: "pairs" },
          h("dt", {}, "Status"), h("dd", { class: "sp-sms-status" }, badge(humanize(sms.status), statusTone(sms.last_error ? "failed" : sms.status))),
          h("dt", {}, "Number"), h("dd", { class: "sp-number" }, store.phone_number || "—"),
          h("dt", {}, "Pending number"), h("dd", { class: "sp-pending-number" }, sms.pending_phone_number || "—"),
          h("dt", {}, "Last error"), h("dd", { class: "sp-sms-error" }, errorLine(sms.last_error)),
          h("dt", {}, "Needs"), h("dd", {}, humanize(group === "done" ? "nothing" : group)),
        )),
      h("article", { class: "card", "aria-labelledby": "sp-bundle-title" },
        h("h3", { id: "sp-bundle-title" }, "Regulatory bundle"),
        h("dl", { class: "pairs" },
          h("dt", {}, "Country's bundle"), h("dd", { class: "sp-bundle" }, bundle && bundle.bundle_id ? sid(bundle.bundle_id) : "—"),
          h("dt", {}, "Status"), h("dd", {}, bundle ? badge(humanize(bundle.required || bundle.bundle_id ? bundle.status : "not_required"), statusTone(bundle.status)) : "—"),
        )),
      h("article", { class: "card", "aria-labelledby": "sp-wa-title" },
        h("h3", { id: "sp-wa-title" }, "WhatsApp sender"),
        h("dl", { class: "pairs" },
          h("dt", {}, "Status"), h("dd", { class: "sp-wa-status" }, badge(humanize(wa.status), statusTone(wa.status))),
          h("dt", {}, "Sender"), h("dd", { class: "sp-sender" }, sid(wa.sid)),
          h("dt", {}, "Number"), h("dd", {}, wa.phone_number || "—"),
          h("dt", {}, "Business account"), h("dd", {}, wa.waba || "—"),
          h("dt", {}, "Quality"), h("dd", {}, wa.quality_rating && wa.quality_rating.toUpperCase() !== "UNKNOWN" ? humanize(wa.quality_rating) : "Not rated yet"),
          h("dt", {}, "Offline reasons"), h("dd", { class: "sp-offline" }, wa.offline_reasons.length ? wa.offline_reasons.join("; ") : "None"),
          h("dt", {}, "Last error"), h("dd", {}, errorLine(wa.last_error)),
        )),
      h("article", { class: "card", "aria-labelledby": "sp-profile-title" },
        h("h3", { id: "sp-profile-title" }, "WhatsApp profile"),
        h("div", { id: "sp-profile" }, wa.status === "not_onboarded" && !wa.last_error ? h("p", {}, "Not registered for WhatsApp.") : h("p", {}, "Loading…"))),
    ),
    h("h3", { id: "sp-timeline-title" }, "Timeline"),
    h("p", { class: "hint" }, "What was bought and released for this store, from the money ledger."),
    h("ol", { class: "timeline", id: "sp-timeline", "aria-labelledby": "sp-timeline-title" }, h("li", {}, "Loading…")),
  );
  if (moveFocus) title.focus();
  document.title = `${store.name} · Clienteling console`;
  if (wa.status !== "not_onboarded" || wa.last_error) loadProfile(store);
  const key = `${store.id}|${state.etag}`;
  if (timeline.key === key && timeline.items) {
    renderTimeline(timeline.items);
    return;
  }
  timeline.key = key;
  timeline.items = null;
  try {
    const page = await api("GET", `/clienteling/ledger?store_id=${encodeURIComponent(store.id)}&limit=100`);
    if (timeline.key !== key) return;
    timeline.items = page.items;
    renderTimeline(page.items);
  } catch (err) {
    const list = $("sp-timeline");
    if (list) list.replaceChildren(h("li", {}, `The timeline could not be read: ${err.message}`));
  }
}

// The profile the store's sender holds, from GET /clienteling/stores/{id}/whatsapp.
async function loadProfile(store) {
  const key = `${store.id}|${ui.state.etag}`;
  if (registration.key !== key || !registration.value) {
    registration.key = key;
    registration.value = null;
    try {
      const value = await api("GET", `/clienteling/stores/${encodeURIComponent(store.id)}/whatsapp`);
      if (registration.key !== key) return;
      registration.value = value;
    } catch (err) {
      const box = ui.$("sp-profile");
      if (box && registration.key === key) box.replaceChildren(ui.h("p", {}, `The profile could not be read: ${err.message}`));
      return;
    }
  }
  renderProfile(registration.value.profile);
}

function renderProfile(profile) {
  const { h, $ } = ui;
  const box = $("sp-profile");
  if (!box) return;
  const value = (key) => {
    const text = profile[key];
    if (!text) return "—";
    if (key === "website" || key === "picture") return h("a", { href: text, rel: "noopener noreferrer", target: "_blank", class: "sid" }, text);
    return text;
  };
  box.replaceChildren(h("dl", { class: "pairs sp-profile" },
    ...PROFILE_LABELS.flatMap(([key, label]) => [h("dt", {}, label), h("dd", { "data-field": key }, value(key))])));
}

// The store's ledger entries, oldest first, into the page's timeline (the one shown now).
function renderTimeline(items) {
  const { h, $, formatDate, humanize } = ui;
  const list = $("sp-timeline");
  if (!list) return;
  list.replaceChildren(...(items.length
    ? items.map((entry) => h("li", { "data-entry-id": entry.entry_id },
      h("time", { datetime: entry.recorded_at }, formatDate(entry.recorded_at)), " ",
      entry.action === "number_bought" ? "Bought" : entry.action === "number_released" ? "Released" : humanize(entry.action),
      ` ${entry.phone_number || ""}`,
      entry.monthly_price ? ` (${entry.monthly_price.amount} ${entry.monthly_price.currency} a month)` : "",
      ` by ${entry.actor}`))
    : [h("li", {}, "Nothing bought or released for this store yet.")]));
}
