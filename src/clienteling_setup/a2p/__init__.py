"""US A2P 10DLC registration: the retailer's business profile and the durable workflow that
registers it with Twilio (customer profile, A2P trust product, brand, one campaign per
Messaging Service)."""
