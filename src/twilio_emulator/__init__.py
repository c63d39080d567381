"""A stateful emulator of Twilio's REST API, over real HTTP, with fault injection.

It answers what the official ``twilio`` SDK sends once its HTTP client sends
``https://{sub}.twilio.com{path}`` to ``{base_url}/{sub}{path}`` (sub: ``api``, ``messaging``,
``numbers``, ``trusthub``), with the shapes of Twilio's OpenAPI files: paths, form (PascalCase)
and JSON parameters, snake_case response fields, paging envelopes and Twilio's error body
``{"code", "message", "more_info", "status"}``. See README.md beside this file.

Python API::

    state = EmulatorState(master_account_sid=..., master_auth_token=..., seed=1, pool_scale=1)
    app = create_emulator_app(state)                  # ASGI
    server = EmulatorServer(state, host="127.0.0.1", port=0).start(); server.base_url
    state.requests / clear_requests() / reset() / callbacks
    state.owned_numbers(acc), subaccounts(), messaging_services(acc),
    messaging_service_numbers(mg), applications(acc), senders(acc), addresses(acc),
    bundles(acc), trust_products(acc), snapshot()
    state.add_fault(method=, path=, kind=, status=, code=, retry_after=, times=, rate=, delay=)
    state.clear_faults(); state.latency = 0.05
    state.set_bundle_status(acc, bu, status, failure_reason); add_bundle(...); add_address(...)
    state.set_bundle_status_callback(acc, bu, url)  # then set_bundle_status sends a signed callback
    state.add_trust_product(...); set_trust_product_status(...); set_supporting_document_status(...)
    state.set_customer_profile_status(bu, status, failure_reason)   # A2P 10DLC (`a2p`)
    state.set_brand_status(bn, status, failure_reason); set_campaign_status(qe, status, errors)
    state.mark_waba_bad(waba_id, reason); set_sender_status(xe, status, offline_reasons)
    state.set_sender_properties(xe, quality_rating, messaging_limit); advance_clock(seconds)
    state.make_number_unavailable(e164)
    state.drop_callbacks = True                      # status callbacks are lost, not sent
    WorldStore(path, cipher).open(state)             # kept in SQLite as it changes (persistence)
    server.stop(); run_emulator(host, port)           # blocking, for a command line

Modules, lowest first (each imports only modules above it in this list): `errors`, `faults`,
`countries`, `models`, `journal` (what a persistent world changed), `numbers` (the
available-number pools), `regulations`, `world` (the
records and the clock), `compliance` (bundles, trust products), `a2p` (A2P 10DLC: Trust Hub
policies, customer profiles, end users, evaluations, brands, campaigns), `senders` (lifecycle
and the status callback format), `callbacks` (signing, delivery), `seed` (what a new
subaccount finds), `state` (`EmulatorState`: the world plus faults, request log and
controls), `persistence` (a world kept in a SQLite file as it changes), `admin` (the same
controls over HTTP under ``/_emulator``), `routing`, `render`, the ``api_*`` handlers (purchase
rules in `api_numbers`), `app` (request pipeline), `server`.
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
