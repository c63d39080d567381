// Each action string of GET /clienteling/onboarding-status (docs/actions.md) as a plain-language
// next step, with where to do it. `do` is either an in-page control or an outside link.
const TWILIO_BUNDLES = "https://console.twilio.com/us1/develop/phone-numbers/regulatory-compliance/bundles";
const TWILIO_TRUST_HUB = "https://console.twilio.com/us1/account/trust-hub/overview";
const TWILIO_A2P = "https://console.twilio.com/us1/develop/sms/regulatory-compliance/a2p-10dlc-overview";

export function describeAction(action, country, status) {
  const cc = country.country_code;
  const bundle = country.regulatory_bundle || {};
  const product = country.trusted_product || {};
  const waiting = status.stores.filter(
    (s) => s.country_code === cc && !["onboarded", "registration_pending"].includes(s.channels.sms.status),
  ).length;
  switch (action) {
    case "country_not_supported":
      return { text: `Clienteling cannot buy SMS numbers for stores in ${cc}. Contact NewStore if this country matters to you.` };
    case "enable_clienteling":
      return {
        text: "Enable clienteling for the retailer first: it creates the Twilio account where bundles and trust products live.",
        do: { kind: "focus", target: "ecom-link", label: "Go to the enable form" },
      };
    case "fix_twilio_connection":
      return { text: "The retailer's Twilio account is suspended or closed. Contact NewStore operations: nothing else can proceed until it is active again." };
    case "create_regulatory_bundle":
      return {
        text: `Create a regulatory bundle for ${cc} (business identity and address documents) in the Twilio Console and submit it for review.`,
        do: { kind: "link", href: TWILIO_BUNDLES, label: "Open regulatory bundles in Twilio" },
      };
    case "upload_supporting_documents":
      return {
        text: `Upload the missing or replaced supporting documents to bundle ${bundle.bundle_id || ""} and submit it.`.replace("  ", " "),
        do: { kind: "link", href: TWILIO_BUNDLES, label: "Open the bundle in Twilio" },
      };
    case "fix_rejected_bundle":
      return {
        text: `Twilio rejected the bundle${bundle.failure_reason ? `: ${bundle.failure_reason}` : ""}. Correct the rejected documents and resubmit it.`,
        do: { kind: "link", href: TWILIO_BUNDLES, label: "Fix the bundle in Twilio" },
      };
    case "await_bundle_review":
      return { text: "The bundle is being reviewed by Twilio (often several business days). Nothing to do but wait." };
    case "register_trust_product":
      return {
        text: cc === "US"
          ? "Complete and submit the A2P 10DLC registration (customer profile, brand, campaign)."
          : "Complete and submit the trust product registration.",
        do: { kind: "link", href: cc === "US" ? TWILIO_A2P : TWILIO_TRUST_HUB, label: "Open Trust Hub in Twilio" },
      };
    case "fix_rejected_trust_product":
      return {
        text: `Twilio rejected the trust product${product.failure_reason ? `: ${product.failure_reason}` : ""}. Correct it and resubmit.`,
        do: { kind: "link", href: TWILIO_TRUST_HUB, label: "Fix it in Trust Hub" },
      };
    case "await_trust_product_review":
      return { text: "The trust product is being reviewed (A2P 10DLC takes 10 to 15 business days). Nothing to do but wait." };
    case "submit_business_profile":
      return {
        text: `Fill in the business profile for the US A2P 10DLC registration${product.failure_reason ? ` (Twilio: ${product.failure_reason})` : ""}, then register.`,
        do: { kind: "focus", target: "a2p-legal_name", label: "Go to the business profile" },
      };
    case "await_brand_review":
      return { text: "Twilio and The Campaign Registry are reviewing the A2P brand (minutes to a few days). Nothing to do but wait." };
    case "fix_rejected_brand":
      return {
        text: `The A2P brand was rejected${product.failure_reason ? `: ${product.failure_reason}` : ""}. Fix the business profile, then register again.`,
        do: { kind: "focus", target: "a2p-legal_name", label: "Fix the business profile" },
      };
    case "await_campaign_review":
      return { text: "The A2P campaigns are being vetted (days to a few weeks). US stores show \"number ready, registration pending\" until then." };
    case "fix_rejected_campaign":
      return {
        text: `An A2P campaign was rejected${product.failure_reason ? `: ${product.failure_reason}` : ""}. Fix what it names, then register again.`,
        do: { kind: "focus", target: "a2p-legal_name", label: "Go to the registration" },
      };
    case "create_opt_in_template":
      return {
        text: "Write the SMS opt-in disclaimer: it is required before the retailer counts as onboarded.",
        do: { kind: "focus", target: "optin-body", label: "Write the opt-in template" },
      };
    case "onboard_stores":
      return {
        text: `${waiting} store${waiting === 1 ? "" : "s"} in ${cc} ${waiting === 1 ? "has" : "have"} no clienteling number yet: onboard ${waiting === 1 ? "it" : "them"}.`,
        do: { kind: "stores", country: cc, label: `Show ${cc} stores to onboard` },
      };
    default:
      return { text: `Next step: ${action}.` };
  }
}
