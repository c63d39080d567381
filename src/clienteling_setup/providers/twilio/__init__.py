"""The Twilio adapter of the messaging port (official `twilio` SDK)."""

from .http import GatewayHttpClient
from .retry import RetryPolicy
from .sdk import TwilioGateway

__all__ = ["GatewayHttpClient", "RetryPolicy", "TwilioGateway"]
