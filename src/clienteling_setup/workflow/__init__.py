"""The durable-workflow core every write that creates or changes something in Twilio runs on."""
