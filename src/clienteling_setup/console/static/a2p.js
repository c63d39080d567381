// US A2P 10DLC: the business profile form and the registration's stages (what Twilio said and
// what to fix). Self-contained: it fills #a2p and follows the console's Refresh button.
import { api } from "./api.js";

const $ = (id) => document.getElementById(id);

function text(tag, content, attrs = {}) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.textContent = content;
  return node;
}

const ACTIONS = {
  submit_business_profile: "Fill in or fix the business profile, then register.",
  await_brand_review: "Twilio and The Campaign Registry are reviewing the brand (minutes to days).",
  fix_rejected_brand: "The brand was rejected: fix the business profile, then register again.",
  await_campaign_review: "The campaigns are being vetted (days to weeks).",
  fix_rejected_campaign: "A campaign was rejected: fix what its errors name, then register again.",
};

function renderRegistration(registration) {
  const box = $("a2p-stages");
  box.replaceChildren();
  box.append(text("p", `Registration: ${registration.status.replaceAll("_", " ")}`, { id: "a2p-status" }));
  if (registration.action) box.append(text("p", ACTIONS[registration.action] || registration.action, { id: "a2p-action", class: "hint" }));
  const list = document.createElement("ul");
  for (const stage of registration.stages) {
    const item = text("li", `${stage.stage.replaceAll("_", " ")}: ${stage.twilio_status || "not started"}`);
    if (stage.failure_reason) item.append(text("p", `What to fix: ${stage.failure_reason}`, { class: "form-error" }));
    list.append(item);
  }
  for (const campaign of registration.campaigns) {
    const where = campaign.sender_group_id ? `sender group ${campaign.sender_group_id}` : "retailer";
    const item = text("li", `campaign (${where}): ${campaign.twilio_status || "not started"}`);
    for (const error of campaign.errors) item.append(text("p", `What to fix: ${error}`, { class: "form-error" }));
    list.append(item);
  }
  box.append(list);
  if (registration.last_error) box.append(text("p", registration.last_error, { class: "form-error" }));
}

const FIELDS = ["legal_name", "business_type", "industry", "registration_number", "registration_type", "website", "company_type", "stock_exchange", "stock_ticker"];
const REPRESENTATIVE = ["first_name", "last_name", "title", "job_position", "email", "phone"];
const ADDRESS = ["street", "city", "region", "postal_code", "country"];

function fill(profile) {
  const form = $("a2p-form");
  for (const name of FIELDS) form.elements[name].value = profile[name] ?? "";
  for (const name of REPRESENTATIVE) form.elements[`rep_${name}`].value = profile.authorized_representative[name] ?? "";
  for (const name of ADDRESS) form.elements[`address_${name}`].value = profile.address[name] ?? "";
  form.elements.regions.value = profile.regions_of_operation.join(",");
  form.elements.low_volume.checked = profile.low_volume;
}

function body() {
  const form = $("a2p-form");
  const value = (name) => form.elements[name].value.trim() || null;
  const profile = Object.fromEntries(FIELDS.map((name) => [name, value(name)]).filter(([, v]) => v !== null));
  profile.authorized_representative = Object.fromEntries(REPRESENTATIVE.map((name) => [name, value(`rep_${name}`)]));
  profile.address = Object.fromEntries(ADDRESS.map((name) => [name, value(`address_${name}`)]));
  profile.regions_of_operation = (value("regions") || "").split(",").map((r) => r.trim()).filter(Boolean);
  profile.low_volume = form.elements.low_volume.checked;
  return profile;
}

function say(message, bad = false) {
  const box = $("a2p-message");
  box.textContent = message;
  box.className = bad ? "form-error" : "form-ok";
}

export async function loadA2p() {
  if (!$("a2p")) return;
  try {
    renderRegistration(await api("GET", "/clienteling/a2p-registration"));
    try {
      fill(await api("GET", "/clienteling/business-profile"));
    } catch (exc) {
      if (exc.status !== 404) throw exc;
    }
    $("a2p").hidden = false;
  } catch {
    $("a2p").hidden = true; // clienteling not enabled yet, or not signed in
  }
}

async function save(event) {
  event.preventDefault();
  try {
    await api("PUT", "/clienteling/business-profile", body());
    const registration = await api("POST", "/clienteling/a2p-registration");
    renderRegistration(registration);
    say("Business profile saved; registration submitted to Twilio.");
  } catch (exc) {
    say(exc.message, true);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const form = $("a2p-form");
  if (form) form.addEventListener("submit", save);
  const refresh = $("refresh");
  if (refresh) refresh.addEventListener("click", loadA2p);
  // Shown with the console (after sign-in), without a hook in app.js.
  const consoleBox = $("console");
  if (consoleBox) {
    new MutationObserver(() => { if (!consoleBox.hidden) loadA2p(); })
      .observe(consoleBox, { attributes: true, attributeFilter: ["hidden"] });
  }
  loadA2p();
});
