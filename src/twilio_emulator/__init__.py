"""The built-in Twilio emulator: Twilio's REST API as the service uses it, over real HTTP.

It answers what the official ``twilio`` SDK sends once the gateway's HTTP client has rewritten
``https://{sub}.twilio.com{path}`` to ``{base_url}/{sub}{path}`` (sub: ``api``, ``messaging``,
``numbers``, ``trusthub``), with the shapes of Twilio's OpenAPI files in ``twilio-oai/``: paths,
form (PascalCase) and JSON parameters, snake_case response fields, paging envelopes and
Twilio's error body ``{"code", "message", "more_info", "status"}``.

Python API::

    state = EmulatorState(master_account_sid=..., master_auth_token=..., seed=1, pool_scale=1)
    app = create_emulator_app(state)                  # ASGI
    server = EmulatorServer(state, host="127.0.0.1", port=0).start(); server.base_url
    state.requests / clear_requests() / reset() / callbacks
    state.owned_numbers(acc), subaccounts(), messaging_services(acc),
    messaging_service_numbers(mg), applications(acc), senders(acc), addresses(acc),
    bundles(acc), trust_products(acc), snapshot()
    state.add_fault(method, path, kind, status, code, retry_after, times, rate, delay)
    state.clear_faults(); state.latency = 0.05
    state.set_bundle_status(acc, bu, status, failure_reason); add_bundle(...); add_address(...)
    state.set_bundle_status_callback(acc, bu, url)  # then set_bundle_status sends a signed callback
    state.add_trust_product(...); set_trust_product_status(...); set_supporting_document_status(...)
    state.mark_waba_bad(waba_id, reason); set_sender_status(xe, status, offline_reasons)
    state.set_sender_properties(xe, quality_rating, messaging_limit); advance_clock(seconds)
    state.make_number_unavailable(e164)
    state.drop_callbacks = True                      # status callbacks are lost, not sent
    server.stop(); run_emulator(host, port)           # blocking, for the CLI

See `app.py` (request pipeline), `faults.py`, `senders.py` (lifecycle and the status callback
format), `api_numbers.py` (purchase rules), `seed.py` (what a new subaccount finds) and
`admin.py` (the same controls over HTTP under ``/_emulator``).
"""

from .app import ConnectionDropped, EmulatorApp, create_emulator_app
from .faults import Fault
from .models import Callback
from .server import EmulatorServer, run_emulator
from .state import EmulatorState, LoggedRequest

__all__ = [
    "Callback",
    "ConnectionDropped",
    "EmulatorApp",
    "EmulatorServer",
    "EmulatorState",
    "Fault",
    "LoggedRequest",
    "create_emulator_app",
    "run_emulator",
]
