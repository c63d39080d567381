// Bulk actions on the stores table: select stores (a page, or every store matching the
// filters), then onboard or offboard them through the bulk jobs API
// (POST /clienteling/onboarding-jobs). A dry run first gives the count and the monthly cost for
// the one confirmation; the job's progress then shows overall and on each row.
import { api, ApiError } from "./api.js";

let ui = null;
const bulk = { operation: "onboard", ids: [], job: null, timer: null };
const JOB_POLL_MS = 1000;

export function initBulk(helpers) {
  ui = helpers;
  const { $ } = ui;
  $("bulk-select-all").addEventListener("click", () => {
    for (const r of ui.state.view) ui.state.selected.add(r.id);
    ui.renderPage();
    $("bulk-onboard").focus();
  });
  $("bulk-clear").addEventListener("click", () => {
    ui.state.selected.clear();
    ui.renderPage();
    $("select-page").focus();
  });
  $("bulk-onboard").addEventListener("click", () => openBulk("onboard"));
  $("bulk-offboard").addEventListener("click", () => openBulk("offboard"));
  $("bulk-form").addEventListener("submit", (e) => e.preventDefault());
  $("bulk-submit").addEventListener("click", startJob);
  $("bulk-cancel-job").addEventListener("click", cancelJob);
}

// The bar above the table: how many are selected, and the actions on them.
export function renderBulkBar() {
  const { $, state } = ui;
  const selected = state.selected.size;
  const matching = state.view.length;
  $("bulk-count").textContent = selected
    ? `${selected} store${selected === 1 ? "" : "s"} selected`
    : "No store selected";
  const allSelected = matching > 0 && state.view.every((r) => state.selected.has(r.id));
  $("bulk-select-all").hidden = matching === 0 || allSelected;
  $("bulk-select-all").textContent = `Select all ${matching} matching`;
  $("bulk-clear").hidden = selected === 0;
  $("bulk-onboard").disabled = selected === 0 || !state.configuration;
  $("bulk-offboard").disabled = selected === 0 || !state.configuration;
}

function selectedIds() {
  const { state } = ui;
  // In the table's order, as the operator sees them.
  const order = state.view.filter((r) => state.selected.has(r.id)).map((r) => r.id);
  const rest = [...state.selected].filter((id) => !order.includes(id));
  return [...order, ...rest];
}

function body(dryRun) {
  const { $ } = ui;
  const request = { store_ids: bulk.ids, operation: bulk.operation, dry_run: dryRun };
  if (bulk.operation === "onboard" && $("bulk-enable").checked) request.enable = true;
  return request;
}

async function openBulk(operation) {
  const { $, h, showError, whileBusy } = ui;
  bulk.operation = operation;
  bulk.ids = selectedIds();
  const form = $("bulk-form");
  const errorBox = form.querySelector(".form-error");
  showError(errorBox, null);
  form.querySelector(".form-ok").textContent = "";
  form.querySelector("[data-close]").textContent = "Cancel";
  $("bulk-title").textContent = operation === "onboard" ? "Onboard stores" : "Offboard stores";
  $("bulk-enable-field").hidden = operation !== "onboard";
  $("bulk-progress-area").hidden = true;
  $("bulk-cancel-job").hidden = true;
  $("bulk-submit").hidden = true;
  $("bulk-plan").replaceChildren(h("p", {}, `Checking what this does for ${bulk.ids.length} stores…`));
  $("bulk-dialog").showModal();
  let plan = null;
  await whileBusy($("bulk-submit"), errorBox, null, async (signal) => {
    plan = await api("POST", "/clienteling/onboarding-jobs", body(true), null, { signal });
    $("bulk-plan").replaceChildren(...planLines(plan));
  });
  if (!plan) return;
  // After the busy state gave the button back its old label.
  $("bulk-submit").textContent = operation === "onboard"
    ? `Buy ${plan.count} number${plan.count === 1 ? "" : "s"} and onboard`
    : `Offboard ${bulk.ids.length} store${bulk.ids.length === 1 ? "" : "s"}`;
  $("bulk-submit").hidden = false;
  $("bulk-submit").focus();
}

function planLines(plan) {
  const { h } = ui;
  const cost = plan.monthly_cost ? `${plan.monthly_cost.amount} ${plan.monthly_cost.currency}` : null;
  const failing = plan.stores.filter((s) => s.action === "fail");
  const lines = [];
  if (bulk.operation === "onboard") {
    lines.push(h("p", { class: "bulk-summary" },
      `${bulk.ids.length} stores selected: this buys ${plan.count} phone number${plan.count === 1 ? "" : "s"} through Twilio`,
      cost ? `, costing ${cost} a month in total until released.` : " (the monthly cost is not known yet)."));
  } else {
    lines.push(h("p", { class: "bulk-summary" },
      `${bulk.ids.length} stores selected: ${plan.count} number${plan.count === 1 ? " is" : "s are"} released; Twilio stops charging for ${plan.count === 1 ? "it" : "them"} every month.`));
  }
  if (failing.length) {
    lines.push(h("p", { class: "hint" }, `${failing.length} of them would fail: ${[...new Set(failing.map((s) => s.message))].slice(0, 3).join("; ")}`));
  }
  if (plan.note) lines.push(h("p", { class: "hint" }, plan.note));
  return lines;
}

async function startJob() {
  const { $, showError, whileBusy } = ui;
  const form = $("bulk-form");
  const errorBox = form.querySelector(".form-error");
  await whileBusy($("bulk-submit"), errorBox, "Starting…", async (signal) => {
    const job = await api("POST", "/clienteling/onboarding-jobs", body(false), null, { signal });
    showError(errorBox, null);
    bulk.job = job;
    ui.state.bulkProgress = new Map(bulk.ids.map((id) => [id, { status: "pending", message: null }]));
    $("bulk-submit").hidden = true;
    $("bulk-cancel-job").hidden = false;
    $("bulk-progress-area").hidden = false;
    showProgress(job);
    follow();
  });
}

function showProgress(job) {
  const { $ } = ui;
  const c = job.counts;
  const done = job.total - c.pending - c.in_progress;
  $("bulk-progress").max = Math.max(1, job.total);
  $("bulk-progress").value = done;
  $("bulk-progress-text").textContent = `${done} of ${job.total} stores done: ${c.onboarded + c.already_onboarded + c.offboarded + c.nothing_to_offboard} succeeded, ${c.failed} failed${c.cancelled ? `, ${c.cancelled} cancelled` : ""}.`;
  if (job.stores) {
    for (const s of job.stores) ui.state.bulkProgress.set(s.store_id, { status: s.status, message: s.message });
  }
}

function follow() {
  const { $ } = ui;
  clearTimeout(bulk.timer);
  bulk.timer = setTimeout(async () => {
    try {
      const job = await api("GET", `/clienteling/onboarding-jobs/${encodeURIComponent(bulk.job.id)}`);
      bulk.job = job;
      showProgress(job);
      ui.renderPage();
      if (job.status === "finished" || job.status === "cancelled") {
        $("bulk-cancel-job").hidden = true;
        const form = $("bulk-form");
        form.querySelector(".form-ok").textContent = job.status === "finished"
          ? `Done: ${job.counts.failed ? `${job.counts.failed} failed; their rows say why.` : "every store went through."}`
          : "Cancelled: the stores not started were left as they were.";
        const close = form.querySelector("[data-close]");
        close.textContent = "Close";
        close.focus();
        ui.state.selected.clear();
        await ui.refresh(true);
        return;
      }
      follow();
    } catch (err) {
      if (err instanceof ApiError) ui.showError($("bulk-form").querySelector(".form-error"), err);
      follow();
    }
  }, JOB_POLL_MS);
}

async function cancelJob() {
  const { $, whileBusy } = ui;
  const errorBox = $("bulk-form").querySelector(".form-error");
  await whileBusy($("bulk-cancel-job"), errorBox, "Cancelling…", async () => {
    await api("DELETE", `/clienteling/onboarding-jobs/${encodeURIComponent(bulk.job.id)}`);
  });
}
