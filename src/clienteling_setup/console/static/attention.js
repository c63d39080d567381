// Who acts next, per store and per country: the "Needs attention" home groups everything that
// is not done by it. Pure functions of the status document (no DOM), so the table's filter,
// the counts and the country order all agree.

// The groups, most urgent first: what the console shows and the `attention` filter's values.
export const GROUPS = [
  { key: "failed", title: "Failed", hint: "A Twilio or Meta step failed: retry, or read the reason." },
  { key: "retailer", title: "Retailer acts next", hint: "Stores to onboard and compliance steps the retailer owns." },
  { key: "waiting", title: "Waiting on Twilio or Meta", hint: "Reviews and registrations under way: nothing to do but wait." },
  { key: "unsupported", title: "Unsupported", hint: "Countries where the service cannot buy SMS numbers." },
];

// Country actions that wait on Twilio's review rather than on the retailer.
const WAITING_ACTIONS = new Set([
  "await_bundle_review", "await_trust_product_review", "await_brand_review", "await_campaign_review",
]);
// Country actions that block its stores until the retailer (or operations) acts.
const RETAILER_COUNTRY_ACTIONS = new Set([
  "enable_clienteling", "fix_twilio_connection", "create_regulatory_bundle", "upload_supporting_documents",
  "fix_rejected_bundle", "register_trust_product", "fix_rejected_trust_product",
  "submit_business_profile", "fix_rejected_brand", "fix_rejected_campaign",
]);
// WhatsApp sender states that are final and fine, or not started.
const WHATSAPP_FINE = new Set(["online", "not_onboarded"]);
const WHATSAPP_FAILED = /(offline|fail|reject|banned|suspend|delet)/;

export function countryIndex(status) {
  return new Map(status.countries.map((c) => [c.country_code, c]));
}

// "failed", "waiting", "retailer", "unsupported" or "done" for one store.
export function storeGroup(store, countries) {
  const country = countries.get(store.country_code);
  const sms = store.channels.sms;
  const wa = store.channels.whatsapp;
  const waStatus = String(wa.status || "").toLowerCase();
  if (country && !country.number_availability.supported) return "unsupported";
  if ((sms.status === "pending" && sms.last_error) || wa.last_error || WHATSAPP_FAILED.test(waStatus)) return "failed";
  if (sms.status === "pending" || !WHATSAPP_FINE.has(waStatus)) return "waiting";
  if (sms.status === "onboarded") return "done";
  // A US store whose number is ready while its A2P 10DLC registration is not verified: the
  // retailer acts when the registration asks for something, else the review is under way.
  if (sms.status === "registration_pending") {
    const actions = country ? country.actions : [];
    return actions.some((a) => RETAILER_COUNTRY_ACTIONS.has(a)) ? "retailer" : "waiting";
  }
  // Not onboarded: the retailer acts, unless its country's compliance waits on a review and
  // asks nothing of the retailer.
  const actions = country ? country.actions : [];
  if (actions.some((a) => WAITING_ACTIONS.has(a)) && !actions.some((a) => RETAILER_COUNTRY_ACTIONS.has(a))) return "waiting";
  return "retailer";
}

// The country's group: the most urgent of its own state and its stores'.
export function countryGroup(country, storeGroups) {
  if (!country.number_availability.supported) return "unsupported";
  if (country.regulatory_bundle.status === "twilio-rejected" || country.trusted_product.status === "twilio-rejected"
      || storeGroups.failed) return "failed";
  const retailerActions = country.actions.filter((a) => !WAITING_ACTIONS.has(a));
  if (retailerActions.length || storeGroups.retailer) return "retailer";
  if (country.actions.length || storeGroups.waiting) return "waiting";
  return "done";
}

const RANK = { failed: 0, retailer: 1, waiting: 2, done: 3, unsupported: 4 };

// Everything the home and the table need, in one pass over the stores: each store's group
// (by id), the counts per group, and the countries sorted by urgency, each with its group and
// its stores' counts.
export function assess(status) {
  const countries = countryIndex(status);
  const byStore = new Map();
  const counts = { failed: 0, retailer: 0, waiting: 0, unsupported: 0, done: 0 };
  const perCountry = new Map();
  for (const store of status.stores) {
    const group = storeGroup(store, countries);
    byStore.set(store.id, group);
    counts[group] += 1;
    let tally = perCountry.get(store.country_code);
    if (!tally) perCountry.set(store.country_code, (tally = { failed: 0, retailer: 0, waiting: 0, unsupported: 0, done: 0 }));
    tally[group] += 1;
  }
  const ranked = status.countries.map((country) => {
    const tally = perCountry.get(country.country_code) || { failed: 0, retailer: 0, waiting: 0, unsupported: 0, done: 0 };
    return { country, tally, group: countryGroup(country, tally) };
  });
  ranked.sort((a, b) => RANK[a.group] - RANK[b.group]
    || (b.tally.failed - a.tally.failed)
    || (b.country.stores - a.country.stores)
    || a.country.country_code.localeCompare(b.country.country_code));
  const countryCounts = { failed: 0, retailer: 0, waiting: 0, unsupported: 0, done: 0 };
  for (const entry of ranked) countryCounts[entry.group] += 1;
  // Progress counts what can be done: stores of countries the service supports.
  const possible = status.stores.length - counts.unsupported;
  const onboarded = status.stores.filter((s) => s.channels.sms.status === "onboarded").length;
  return { byStore, counts, countries: ranked, countryCounts, possible, onboarded };
}
