// A page per store at /console/stores/{id}: its numbers, the country's bundle, its WhatsApp
// sender, the last error of each channel, and its timeline from the money ledger. Linkable:
// the service answers the console's page for every /console/stores/{id}.
import { api } from "./api.js";

let ui = null;
// The ledger entries of the store shown, read once per store and status version.
const timeline = { key: null, items: null };

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
  const actions = h("div", { class: "row" },
    sms.status !== "onboarded" && state.configuration && (!country || country.number_availability.supported)
      ? h("button", { type: "button", class: "button small primary", onclick: () => ui.openOnboard(store) }, sms.status === "pending" ? "Retry" : "Onboard")
      : null,
    sms.status === "onboarded"
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
    ),
    h("h3", { id: "sp-timeline-title" }, "Timeline"),
    h("p", { class: "hint" }, "What was bought and released for this store, from the money ledger."),
    h("ol", { class: "timeline", id: "sp-timeline", "aria-labelledby": "sp-timeline-title" }, h("li", {}, "Loading…")),
  );
  if (moveFocus) title.focus();
  document.title = `${store.name} · Clienteling console`;
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
