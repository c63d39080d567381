"""Phone numbers a tenant has claimed, across channels, and owning one exactly once in Twilio.

Neutral ground: SMS onboarding and WhatsApp registration both claim and buy numbers here,
so neither imports the other.
"""
