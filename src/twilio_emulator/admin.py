"""The test/admin API under ``/_emulator`` (JSON in, JSON out; no authentication).

==========================================  ====================================================
``GET    /_emulator/state``                  accounts, numbers, services, applications, senders
``POST   /_emulator/reset``                  `EmulatorState.reset`
``GET    /_emulator/requests``               the request log (``?host=``, ``?path=`` regex)
``DELETE /_emulator/requests``               clear it
``GET    /_emulator/callbacks``              status callbacks delivered
``GET|POST|DELETE /_emulator/faults``        list / add (body: `EmulatorState.add_fault` args) /
                                             clear fault rules
``POST   /_emulator/latency``                ``{"seconds": 0.05}``
``POST   /_emulator/clock/advance``          ``{"seconds": 60}``: senders move, callbacks go out
``POST   /_emulator/bundles/{sid}/status``   ``{"status", "failure_reason"}``
``POST   /_emulator/trust-products/{sid}/status``  ``{"status", "failure_reason"}``
``POST   /_emulator/customer-profiles/{sid}/status``  ``{"status", "failure_reason"}``
``POST   /_emulator/brands/{sid}/status``    ``{"status", "failure_reason"}`` (APPROVED, FAILED)
``POST   /_emulator/campaigns/{sid}/status`` ``{"status", "errors"}`` (VERIFIED, FAILED)
``GET    /_emulator/a2p``                    customer profiles, trust products, end users,
                                             brands, campaigns (``?account=AC...``)
``POST   /_emulator/senders/{sid}/status``   ``{"status", "offline_reasons"}``
``POST   /_emulator/senders/{sid}/properties``  ``{"quality_rating", "messaging_limit"}``
``POST   /_emulator/wabas/{waba_id}/bad``    ``{"reason"}``: senders on this WABA go OFFLINE
``POST   /_emulator/numbers/unavailable``    ``{"phone_number"}``: someone else bought it
==========================================  ====================================================
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import anyio.to_thread
from starlette.types import Scope

from .faults import FIELDS, KINDS
from .models import plain

if TYPE_CHECKING:
    from .state import EmulatorState


def _json(body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    value = json.loads(body)
    if not isinstance(value, dict):
        raise ValueError("the body must be a JSON object")
    return value


def _query(scope: Scope) -> dict[str, str]:
    return dict(parse_qsl(scope.get("query_string", b"").decode()))


async def handle(
    state: EmulatorState, method: str, path: str, scope: Scope, raw: bytes
) -> tuple[int, Any]:
    try:
        return await _dispatch(state, method.upper(), path.rstrip("/"), scope, _json(raw))
    except (KeyError, ValueError, TypeError, re.error) as exc:
        return 400, {"message": f"{type(exc).__name__}: {exc}"}


async def _dispatch(
    state: EmulatorState, method: str, path: str, scope: Scope, body: dict[str, Any]
) -> tuple[int, Any]:
    parts = path.split("/")[2:]  # after "", "_emulator"
    if method == "GET" and parts == ["state"]:
        return 200, state.snapshot()
    if method == "POST" and parts == ["reset"]:
        state.reset()
        return 200, {"reset": True}
    if parts == ["requests"]:
        if method == "DELETE":
            state.clear_requests()
            return 200, {"cleared": True}
        query = _query(scope)
        found = state.requests
        if host := query.get("host"):
            found = [r for r in found if r.host == host]
        if pattern := query.get("path"):
            found = [r for r in found if re.search(pattern, r.path)]
        return 200, {"requests": plain(found)}
    if method == "GET" and parts == ["callbacks"]:
        with state.lock:
            return 200, {"callbacks": plain(state.callbacks)}
    if parts == ["faults"]:
        if method == "GET":
            return 200, {"faults": [f.to_json() for f in state.faults.list()]}
        if method == "DELETE":
            state.clear_faults()
            return 200, {"cleared": True}
        if method == "POST":
            if body.get("kind", "error") not in KINDS:
                raise ValueError(f"kind must be one of {KINDS}")
            unknown = set(body) - set(FIELDS)
            if unknown:
                raise ValueError(f"unknown fault fields {sorted(unknown)}")
            return 201, state.add_fault(**body).to_json()
    if method == "POST" and parts == ["latency"]:
        state.latency = float(body["seconds"])
        return 200, {"latency": state.latency}
    if method == "POST" and parts == ["clock", "advance"]:
        seconds = float(body["seconds"])
        callbacks = await anyio.to_thread.run_sync(state.advance_clock, seconds)
        return 200, {"clock": state.clock, "callbacks": plain(callbacks)}
    if method == "POST" and len(parts) == 3 and parts[0] == "bundles" and parts[2] == "status":
        bundle = state.bundles_by_sid[parts[1]]
        await anyio.to_thread.run_sync(
            state.set_bundle_status,
            bundle.account_sid,
            bundle.sid,
            body["status"],
            body.get("failure_reason"),
        )
        return 200, plain(bundle)
    if method == "POST" and len(parts) == 3 and parts[0] == "trust-products":
        product = state.trust_products_by_sid[parts[1]]
        await anyio.to_thread.run_sync(
            state.set_trust_product_status,
            product.account_sid,
            product.sid,
            body["status"],
            body.get("failure_reason"),
        )
        return 200, plain(product)
    if method == "POST" and len(parts) == 3 and parts[0] in _A2P_KINDS and parts[2] == "status":
        return await _a2p_status(state, parts[0], parts[1], body)
    if method == "GET" and parts == ["a2p"]:
        return 200, _a2p_snapshot(state, _query(scope).get("account"))
    if method == "POST" and len(parts) == 3 and parts[0] == "senders":
        if parts[2] == "status":
            sender = await anyio.to_thread.run_sync(
                state.set_sender_status, parts[1], body["status"], body.get("offline_reasons")
            )
        elif parts[2] == "properties":
            sender = await anyio.to_thread.run_sync(
                state.set_sender_properties,
                parts[1],
                body.get("quality_rating"),
                body.get("messaging_limit"),
            )
        else:
            return 404, {"message": f"unknown emulator endpoint {method} {path}"}
        return 200, plain(sender)
    if method == "POST" and len(parts) == 3 and parts[0] == "wabas" and parts[2] == "bad":
        state.mark_waba_bad(parts[1], body.get("reason") or "WhatsApp Business Account is disabled")
        return 200, {"waba_id": parts[1], "bad": True}
    if method == "POST" and parts == ["numbers", "unavailable"]:
        state.make_number_unavailable(body["phone_number"])
        return 200, {"phone_number": body["phone_number"], "available": False}
    return 404, {"message": f"unknown emulator endpoint {method} {path}"}


_A2P_KINDS = ("customer-profiles", "brands", "campaigns")


async def _a2p_status(
    state: EmulatorState, kind: str, sid: str, body: dict[str, Any]
) -> tuple[int, Any]:
    if kind == "customer-profiles":
        changed: Any = await anyio.to_thread.run_sync(
            state.set_customer_profile_status, sid, body["status"], body.get("failure_reason")
        )
    elif kind == "brands":
        changed = state.set_brand_status(sid, body["status"], body.get("failure_reason"))
    elif kind == "campaigns":
        changed = state.set_campaign_status(sid, body["status"], body.get("errors"))
    else:
        return 404, {"message": f"unknown emulator endpoint POST /_emulator/{kind}/{sid}/status"}
    return 200, plain(changed)


def _a2p_snapshot(state: EmulatorState, account: str | None) -> dict[str, Any]:
    def mine(records: dict[str, Any]) -> list[Any]:
        found = [r for r in records.values() if account is None or r.account_sid == account]
        return [plain(r) for r in found]

    with state.lock:
        return {
            "customer_profiles": mine(state.customer_profiles_by_sid),
            "trust_products": mine(state.trust_products_by_sid),
            "end_users": mine(state.end_users_by_sid),
            "brands": mine(state.brands_by_sid),
            "campaigns": mine(state.campaigns_by_sid),
            "entity_assignments": mine(state.entity_assignments),
        }
