"""Orphan numbers: numbers the tenant's Twilio account owns that no store claims and no attempt
in progress holds (bought by hand in the Console, or left by an attempt given up), what they
cost a month, and releasing them exactly once."""
