"""Hostile input: schemathesis against the running service's own /openapi.json.

Every operation, with a valid token and Tenant header, in every generation mode (schema-valid
and schema-violating data), every phase (examples, coverage, fuzzing, and stateful sequences
over the links schemathesis infers), with a fixed seed and example budget. Checks: all
built-in ones (no 5xx, status code / content type / headers / body conform to the documented
schema, negative data rejected, 405 Allow header, auth enforced) plus ours in
`schemathesis_checks.py` (every error body is exactly request_id and message).

One check is left out, `positive_data_acceptance`: it expects any schema-valid request to
succeed, but several documented 400s are rules no JSON schema states (a bundle is required for
a German store, latitude and longitude go together, `ecom_link` must be an absolute URL). Those
answers are covered by the service tests that name them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import Service
from tests.service.helpers import enable, put_store
from tests.support import Api
from twilio_emulator import EmulatorServer

SEED = 20261127
MAX_EXAMPLES = 20
ROOT = Path(__file__).resolve().parents[2]
ST = Path(sys.executable).with_name("st")


def _number(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    assert match is not None, (pattern, text[-5_000:])
    return int(match.group(1))


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    api: Api, service: Service, emulator: EmulatorServer, tmp_path: Path
) -> None:
    # Some data for the generated requests to meet: a configured tenant with two stores.
    enable(api)
    put_store(api, "us-nyc")
    put_store(api, "de-ber")
    emulator.state.clear_requests()
    junit = tmp_path / "junit.xml"
    command = [
        str(ST),
        "run",
        f"{service.base_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {api.token}",
        "--header",
        f"Tenant: {api.tenant}",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--generation-database",
        "none",
        "--request-timeout",
        "15",
        "--workers",
        "1",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(junit),
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.service.schemathesis_checks",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20_000:]
    # Not vacuous: every operation was exercised, each phase ran, links were followed.
    tail = output[-5_000:]
    tested = _number(r"Tested:\s+(\d+)", output)
    assert tested == _number(r"Selected:\s+\d+/(\d+)", output), tail
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert re.search(rf"✅ {phase}", output), (phase, tail)
    assert _number(r"API Links:\s+(\d+) covered", output) > 0, tail
    assert _number(r"(\d+) generated", output) > 200, tail
    assert junit.exists()
    # Some generated onboardings reached Twilio (the emulator) and none of them broke it.
    assert all(r.status < 500 for r in emulator.state.requests), [
        (r.method, r.path, r.status) for r in emulator.state.requests if r.status >= 500
    ]


# What the suite found, pinned as plain regression tests.


def test_405_allow_lists_every_method_of_the_path(api: Api) -> None:
    response = api.request("OPTIONS", "/clienteling/configuration")
    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, GET, HEAD, PATCH, POST"
    assert set(response.json()) == {"request_id", "message"}


def test_a_boolean_is_not_a_coordinate(api: Api) -> None:
    body = {"name": "S", "country_code": "US", "latitude": 40.7, "longitude": False}
    response = api.put("/clienteling/stores/s1", json=body)
    assert response.status_code == 400, response.text
    assert "longitude" in response.json()["message"]


def test_openapi_documents_400_not_422_and_403_for_webhooks(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert "422" not in operation["responses"], (method, path)
            if path.startswith("/clienteling/webhooks/"):
                assert "403" in operation["responses"], (method, path)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
