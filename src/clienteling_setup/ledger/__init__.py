"""The money ledger: an append-only record of every Twilio action that starts or stops a cost.

Each action (a number bought, a number released) is written once, keyed by the SID of what
costs and the action, in the same transaction that records the action itself, so that retries,
crashes and concurrent requests never write it twice or lose it. `GET /clienteling/ledger`
serves it, as JSON pages or as CSV.
"""
