// The money ledger panel: what was bought and released, when, by whom and at what monthly
// price (GET /clienteling/ledger), filtered and paged, and exported as CSV.
import { api, download, loadSession } from "./api.js";

const $ = (id) => document.getElementById(id);
const PAGE = 50;
const ACTIONS = { number_bought: "Bought", number_released: "Released" };

// The console's DOM helpers (app.js), handed over once by initLedger.
let ui = null;
let cursor = null;
let shown = 0;

// The filters as query parameters: the dates are whole UTC days, "to" included.
function filters() {
  const params = new URLSearchParams();
  const store = $("ledger-store").value.trim();
  if (store) params.set("store_id", store);
  if ($("ledger-action").value) params.set("action", $("ledger-action").value);
  if ($("ledger-since").value) params.set("since", `${$("ledger-since").value}T00:00:00Z`);
  if ($("ledger-until").value) {
    const next = new Date(`${$("ledger-until").value}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    params.set("until", next.toISOString());
  }
  return params;
}

function price(entry) {
  const p = entry.monthly_price;
  return p ? `${p.amount} ${p.currency} a month` : "unknown";
}

function entryRow(entry) {
  const { h } = ui;
  return h("tr", { "data-entry-id": entry.entry_id },
    h("td", { "data-label": "When" }, ui.formatDate(entry.recorded_at)),
    h("td", { "data-label": "Action", class: "ledger-action" }, ACTIONS[entry.action] || entry.action),
    h("td", { "data-label": "Store" }, entry.store_id || "—"),
    h("td", { "data-label": "Number", class: "ledger-number" }, entry.phone_number || "—"),
    h("td", { "data-label": "Monthly price", class: "ledger-price" }, price(entry)),
    h("td", { "data-label": "Who" }, entry.actor),
    h("td", { "data-label": "Request" }, h("code", {}, entry.request_id || "—")),
  );
}

function showCount() {
  $("ledger-count").textContent = shown
    ? `${shown} ${shown === 1 ? "entry" : "entries"}${cursor ? ", more below" : ""}`
    : "No entries match.";
  $("ledger-more").hidden = !cursor;
}

// Reads the first page again (`more`: the next page, after what is shown).
export async function loadLedger(more = false) {
  if (!ui || !loadSession()) return;
  const params = filters();
  params.set("limit", String(PAGE));
  if (more && cursor) params.set("cursor", cursor);
  const page = await api("GET", `/clienteling/ledger?${params}`);
  if (!more) {
    $("ledger-rows").replaceChildren();
    shown = 0;
  }
  $("ledger-rows").append(...page.items.map(entryRow));
  shown += page.items.length;
  cursor = page.next_cursor;
  showCount();
}

async function exportCsv() {
  const blob = await download(`/clienteling/ledger?${filters()}`, "text/csv");
  const link = ui.h("a", { href: URL.createObjectURL(blob), download: `ledger-${loadSession().tenant}.csv` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

export function initLedger(helpers) {
  ui = helpers;
  const errorBox = $("ledger-error");
  const run = (button, work) => ui.whileBusy(button, errorBox, null, async () => {
    await work();
    ui.showError(errorBox, null);
  });
  $("ledger-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    run($("ledger-apply"), () => loadLedger());
  });
  $("ledger-more").addEventListener("click", () => run($("ledger-more"), () => loadLedger(true)));
  $("ledger-export").addEventListener("click", () => run($("ledger-export"), exportCsv));
}
