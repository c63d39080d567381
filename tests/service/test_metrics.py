"""`GET /metrics`, scraped over real HTTP and read with prometheus_client's own parser: the
families exist, and their values move with real requests, Twilio calls, workflows, lease
takeovers and reconciliation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from clienteling_setup.sync import SyncReport, sync_tenant
from clienteling_setup.workflow import leases
from tests.conftest import Service
from tests.service.helpers import available_number, enable, put_store
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

FAMILIES = {
    "clienteling_http_request_duration_seconds": "histogram",
    "clienteling_twilio_call_duration_seconds": "histogram",
    "clienteling_workflow_outcomes": "counter",
    "clienteling_lease_takeovers": "counter",
    "clienteling_reconciliation_lag_seconds": "gauge",
    "clienteling_status_cache_bytes": "gauge",
}


def scrape(api: Api) -> tuple[dict[str, str], Samples]:
    response = api.client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    types: dict[str, str] = {}
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        types[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return types, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum over the samples of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


@pytest.fixture
def acme(api: Api) -> Api:
    enable(api)
    put_store(api, "us-nyc")
    return api


def test_the_families_are_served_with_their_types(api: Api) -> None:
    types, _ = scrape(api)
    for name, kind in FAMILIES.items():
        assert types.get(name) == kind, f"{name}: {types.get(name)}"


def test_requests_are_counted_by_route_template_and_status(api: Api) -> None:
    _, before = scrape(api)
    put_store(api, "us-nyc")
    for _ in range(3):
        assert api.get("/clienteling/stores/us-nyc").status_code == 200
    assert_error(api.get("/clienteling/stores/nowhere"), 404)
    assert_error(api.client.get("/clienteling/stores/us-nyc"), 401)
    api.client.get("/no/such/path/12345")
    _, after = scrape(api)

    count = "clienteling_http_request_duration_seconds_count"
    route = "/clienteling/stores/{store_id}"

    def moved(status: str, path: str = route, method: str = "GET") -> float:
        labels = {"method": method, "route": path, "status": status}
        return value(after, count, **labels) - value(before, count, **labels)

    assert moved("200") == 3
    assert moved("404") == 1
    assert moved("401") == 1, "a request refused before routing still has its route"
    assert moved("404", path="unmatched") == 1
    assert not any("12345" in dict(labels).get("route", "") for _, labels in after)
    summed = "clienteling_http_request_duration_seconds_sum"
    labels = {"method": "GET", "route": route, "status": "200"}
    assert value(after, summed, **labels) > value(before, summed, **labels)


def test_twilio_calls_are_counted_by_operation_outcome_and_latency(
    acme: Api, emulator: EmulatorServer
) -> None:
    count = "clienteling_twilio_call_duration_seconds_count"
    _, before = scrape(acme)
    number = available_number(acme, "us-nyc")
    emulator.state.add_fault(
        method="POST", path=r"/IncomingPhoneNumbers\.json$", kind="error", status=400, code=21631
    )
    refused = acme.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": number})
    assert_error(refused, 400, "21631")
    _, after = scrape(acme)

    def moved(operation: str, outcome: str) -> float:
        labels = {"operation": operation, "outcome": outcome}
        return value(after, count, **labels) - value(before, count, **labels)

    assert moved("buy number", "rejected") == 1
    assert total(after, count, outcome="ok") > total(before, count, outcome="ok")
    summed = "clienteling_twilio_call_duration_seconds_sum"
    assert total(after, summed) > total(before, summed)
    bucket = "clienteling_twilio_call_duration_seconds_bucket"
    labels = {"operation": "buy number", "outcome": "rejected"}
    assert value(after, bucket, **labels, le="+Inf") == value(after, count, **labels)


def test_workflow_outcomes_move(acme: Api, emulator: EmulatorServer) -> None:
    outcomes = "clienteling_workflow_outcomes_total"
    _, before = scrape(acme)
    number = available_number(acme, "us-nyc")
    onboarded = acme.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": number})
    assert onboarded.status_code == 201, onboarded.text
    put_store(acme, "us-two", name="Second")
    emulator.state.add_fault(
        method="POST", path=r"/IncomingPhoneNumbers\.json$", kind="error", status=400, code=21631
    )
    other = available_number(acme, "us-two")
    refused = acme.post("/clienteling/stores/us-two/onboard", json={"phone_number": other})
    assert refused.status_code == 400, refused.text
    _, after = scrape(acme)

    def moved(workflow: str, outcome: str) -> float:
        labels = {"workflow": workflow, "outcome": outcome}
        return value(after, outcomes, **labels) - value(before, outcomes, **labels)

    assert moved("onboard", "completed") == 1
    assert moved("onboard", "rejected") == 1


def test_lease_takeovers_are_counted(api: Api, service: Service) -> None:
    takeovers = "clienteling_lease_takeovers_total"
    _, before = scrape(api)
    sessions = service.runtime.sessions
    # A holder whose lease ran out (a worker that stalled or died), then a new worker.
    assert leases.acquire(sessions, "onboard:acme:s1", "gone-worker", -1)
    assert leases.acquire(sessions, "onboard:acme:s1", "new-worker", 60)
    assert leases.acquire(sessions, "onboard:acme:s1", "new-worker", 60)  # a renewal
    leases.release(sessions, "onboard:acme:s1", "new-worker")
    _, after = scrape(api)
    moved = value(after, takeovers, reason="expired") - value(before, takeovers, reason="expired")
    assert moved == 1


def test_reconciliation_lag_per_tenant(acme: Api, service: Service) -> None:
    lag = "clienteling_reconciliation_lag_seconds"
    _, before = scrape(acme)
    assert "acme" in {dict(labels).get("tenant") for name, labels in before if name == lag}
    started = datetime.now(UTC)
    report = SyncReport()
    sync_tenant(service.runtime, "acme", report)
    assert report.done == ["acme"], report
    _, after = scrape(acme)
    elapsed = (datetime.now(UTC) - started).total_seconds()
    assert 0 <= value(after, lag, tenant="acme") <= elapsed
    outcomes = "clienteling_workflow_outcomes_total"
    labels = {"workflow": "sync", "outcome": "completed"}
    assert value(after, outcomes, **labels) == value(before, outcomes, **labels) + 1


def test_a_metrics_token_is_required_when_configured(
    api: Api, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service.runtime.settings, "metrics_token", SecretStr("scrape-me"))
    missing = api.client.get("/metrics")
    assert_error(missing, 401, "CLIENTELING_METRICS_TOKEN")
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    wrong = api.client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert_error(wrong, 403, "metrics token")
    good = api.client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert good.status_code == 200
    names = {family.name for family in text_string_to_metric_families(good.text)}
    assert set(FAMILIES) <= names
