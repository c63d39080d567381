// The API's and Twilio's words as an operator reads them: status labels in one casing rule
// (sentence case), and error messages in plain language (the raw text stays behind a details
// toggle, with the request id).

const STATUS_LABELS = {
  "twilio-approved": "Approved",
  "provisionally-approved": "Provisionally approved",
  "pending-review": "Waiting for review",
  "in-review": "In review",
  "twilio-rejected": "Rejected",
  "online:updating": "Online, updating",
  not_onboarded: "Not onboarded",
  not_required: "Not required",
  pending_verification: "Waiting for verification",
  // A US store whose A2P 10DLC campaign is not verified yet (see a2p.js).
  registration_pending: "Number ready, registration pending",
};

// One rule for every status shown: sentence case, words not codes.
export function statusLabel(value) {
  if (value === null || value === undefined || value === "") return "—";
  const raw = String(value);
  const known = STATUS_LABELS[raw.toLowerCase()];
  if (known) return known;
  const words = raw.toLowerCase().replaceAll("_", " ").replaceAll("-", " ").replaceAll(":", ", ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// [pattern, plain text, field the message is about (an element id of the dialog), or null].
const PLAIN = [
  [/bundle_sid.*(pending-review|in-review|draft|not approved|is '?(pending|in)-review)/i,
    "This regulatory bundle is still being reviewed by Twilio. Choose an approved bundle, or wait for the review.", "onboard-bundle"],
  [/bundle/i, "Twilio did not accept this regulatory bundle for this number. Choose another approved bundle of the store's country.", "onboard-bundle"],
  [/no longer available|not available|already (taken|purchased|claimed)|belongs to another/i,
    "This number is no longer available. The list has been reloaded: choose another number.", "onboard-number"],
  [/phone_number_already_purchased.*does not belong|does not belong to the tenant/i,
    "The retailer's Twilio account does not own this number. Untick 'already owns' to buy one, or enter a number it owns.", "onboard-owned-number"],
  [/address/i, "Twilio did not accept this address for the bundle. Choose the bundle's own address.", "onboard-address"],
  [/did not answer in time|timed? ?out/i,
    "Twilio did not answer in time. Nothing was charged twice: retrying finishes the same onboarding.", null],
  [/ProviderUnavailable|Service Unavailable|503|Retry the same request/i,
    "Twilio is unavailable right now. Retry in a minute: the same onboarding resumes where it stopped.", null],
  [/waba/i, "The WhatsApp Business Account ID was refused: check the ID in Meta Business Manager.", "wa-waba"],
  [/profile_name/i, "Profile name: enter the name customers will see.", "wa-name"],
  [/does not grant access|token (is )?(expired|invalid)|401|403/i,
    "Your sign-in has expired or does not cover this retailer. Sign in again: what you entered stays.", null],
];

// {text, field} for an error: the plain text (the raw one when nothing maps) and the id of
// the field it is about, if any.
export function plainError(err) {
  const raw = err && err.message ? String(err.message) : String(err || "");
  if (err && (err.status === 401 || err.status === 403)) {
    return { text: "Your sign-in has expired or does not cover this retailer. Sign in again: what you entered stays.", field: null, mapped: true };
  }
  for (const [pattern, text, field] of PLAIN) {
    if (pattern.test(raw)) return { text, field, mapped: true };
  }
  return { text: raw, field: null, mapped: false };
}

// A channel's last error as one plain sentence for a table row.
export function plainReason(lastError) {
  if (!lastError) return "";
  return plainError({ message: lastError.message }).text;
}
