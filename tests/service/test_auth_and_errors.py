"""Authentication, tenant isolation and the one error model, through real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import jwt
import pytest

from tests.conftest import TEST_JWT_SECRET, Service
from tests.service.helpers import enable, put_store
from tests.support import Api, assert_error

ROUTES = [
    ("POST", "/clienteling/configuration", {"ecom_link": "https://x.example"}),
    ("GET", "/clienteling/configuration", None),
    ("PATCH", "/clienteling/configuration", {"ecom_link": "https://x.example"}),
    ("GET", "/clienteling/onboarding-status", None),
    ("PUT", "/clienteling/opt-in-template", {"body": "Reply YES"}),
    ("GET", "/clienteling/opt-in-template", None),
    ("PUT", "/clienteling/stores/s1", {"name": "S", "country_code": "US"}),
    ("GET", "/clienteling/stores/s1", None),
    ("DELETE", "/clienteling/stores/s1", None),
    ("GET", "/clienteling/stores", None),
    ("POST", "/clienteling/stores/s1/onboard", {"phone_number": "+12125550100"}),
    ("GET", "/clienteling/stores/s1/available-phone-numbers", None),
    ("GET", "/clienteling/stores/s1/addresses", None),
    ("GET", "/clienteling/stores/s1/regulatory-bundles", None),
    ("GET", "/clienteling/trust-products", None),
    ("PUT", "/clienteling/sender-groups/g1", {"name": "G"}),
    ("GET", "/clienteling/sender-groups/g1", None),
    ("GET", "/clienteling/sender-groups", None),
    ("POST", "/clienteling/stores/s1/whatsapp/onboard", {"profile_name": "S"}),
    ("GET", "/clienteling/stores/s1/whatsapp", None),
    ("POST", "/clienteling/whatsapp/profile-picture-upload-url", {"file_name": "a.png"}),
    ("PUT", "/clienteling/business-profile", {"legal_name": "Acme"}),
    ("GET", "/clienteling/business-profile", None),
    ("POST", "/clienteling/a2p-registration", None),
    ("GET", "/clienteling/a2p-registration", None),
]


def _token(service: Service, **claims: object) -> str:
    base = {
        "sub": "t",
        "tenants": ["acme"],
        "iss": "clienteling-setup",
        "aud": "clienteling-setup",
        "exp": 4_000_000_000,
    }
    base.update(claims)
    secret = str(base.pop("_secret", TEST_JWT_SECRET))
    return jwt.encode({k: v for k, v in base.items() if v is not None}, secret, algorithm="HS256")


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_missing_authorization_is_401(api: Api, method: str, path: str, body: object) -> None:
    response = api.client.request(method, path, json=body, headers={"Tenant": "acme"})
    assert_error(response, 401, "Authorization")


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_token_for_tenant_a_is_403_for_tenant_b(
    api: Api, method: str, path: str, body: object
) -> None:
    response = api.request(method, path, json=body, headers={"Tenant": "b"})
    assert_error(response, 403, "does not grant", "'b'")


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"_secret": "another-secret-another-secret-another-secret"}, "Signature"),
        ({"exp": 1_000_000_000}, "expired"),
        ({"iss": "someone-else"}, "issuer"),
        ({"aud": "another-api"}, "audience"),
        ({"tenants": None}, "tenants"),
        ({"tenants": "acme"}, "tenants"),
    ],
)
def test_invalid_tokens_are_403(
    api: Api, service: Service, claims: dict[str, object], reason: str
) -> None:
    response = api.get(
        "/clienteling/onboarding-status",
        headers={"Authorization": f"Bearer {_token(service, **claims)}"},
    )
    body = assert_error(response, 403, "not valid")
    assert reason.lower() in body["message"].lower()


def test_a_token_signed_with_another_algorithm_is_refused(api: Api) -> None:
    forged = jwt.encode({"sub": "x", "tenants": ["acme"]}, key=None, algorithm="none")  # type: ignore[arg-type]
    response = api.get(
        "/clienteling/onboarding-status", headers={"Authorization": f"Bearer {forged}"}
    )
    assert_error(response, 403)


def test_basic_scheme_is_401(api: Api) -> None:
    response = api.get(
        "/clienteling/onboarding-status", headers={"Authorization": "Basic Zm9vOmJhcg=="}
    )
    assert_error(response, 401, "Bearer")


@pytest.mark.parametrize("tenant", ["", "Acme", "-acme", "a" * 64, "acme_1"])
def test_malformed_tenant_header_is_400(api: Api, tenant: str) -> None:
    response = api.get("/clienteling/onboarding-status", headers={"Tenant": tenant})
    assert_error(response, 400, "Tenant")


def test_missing_tenant_header_is_400(api: Api) -> None:
    response = api.client.get(
        "/clienteling/onboarding-status", headers={"Authorization": f"Bearer {api.token}"}
    )
    assert_error(response, 400, "Tenant header is missing")


def test_error_order_auth_before_tenant_before_body(api: Api) -> None:
    # No Authorization and a broken body: 401 wins.
    response = api.client.post(
        "/clienteling/configuration", content=b"{not json", headers={"Tenant": "BAD"}
    )
    assert_error(response, 401)
    # Valid token, malformed tenant and a broken body: the tenant header (400) is reported.
    response = api.post("/clienteling/configuration", content=b"{", headers={"Tenant": "BAD"})
    assert_error(response, 400, "Tenant")


def test_unknown_route_is_404_with_error_body(api: Api) -> None:
    assert_error(api.get("/clienteling/nothing-here"), 404, "No route")
    assert_error(api.client.get("/elsewhere"), 404, "No route")


def test_wrong_method_is_405(api: Api) -> None:
    assert_error(api.delete("/clienteling/onboarding-status"), 405, "DELETE")


def test_malformed_json_is_400(api: Api) -> None:
    response = api.post(
        "/clienteling/configuration",
        content=b'{"ecom_link": ',
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 400, "not valid JSON")


def test_body_that_is_not_an_object_is_400(api: Api) -> None:
    assert_error(api.post("/clienteling/configuration", json=["x"]), 400)


def test_validation_is_400_not_422_and_names_the_field(api: Api) -> None:
    assert_error(api.post("/clienteling/configuration", json={}), 400, "'ecom_link' is required")
    assert_error(
        api.post("/clienteling/configuration", json={"ecom_link": "   "}), 400, "ecom_link"
    )
    assert_error(
        api.post("/clienteling/configuration", json={"ecom_link": "www.dodici.example"}),
        400,
        "ecom_link must be an absolute URL",
    )


def test_unknown_body_fields_are_400_naming_them(api: Api) -> None:
    response = api.post(
        "/clienteling/configuration", json={"ecom_link": "https://x.example", "ecom_lnk": "y"}
    )
    assert_error(response, 400, "Unknown field(s): ecom_lnk")


def test_body_too_large_is_413(api: Api) -> None:
    response = api.post(
        "/clienteling/configuration", json={"ecom_link": "https://x.example/" + "a" * 2_000_000}
    )
    assert_error(response, 413, "larger than")


def test_chunked_body_too_large_is_413(api: Api) -> None:
    """A body sent without Content-Length (chunked) is counted as it arrives: 413 too."""

    def chunks() -> Iterator[bytes]:
        yield b'{"ecom_link": "https://x.example/'
        for _ in range(40):
            yield b"a" * 50_000
        yield b'"}'

    response = api.post(
        "/clienteling/configuration",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "larger than")


def test_every_response_carries_a_request_id(api: Api) -> None:
    response = api.get("/clienteling/onboarding-status")
    assert response.status_code == 200
    assert len(response.headers["X-Request-ID"]) >= 8
    assert api.client.get("/healthz").headers["X-Request-ID"]


def test_tenant_b_never_sees_tenant_a_stores(api: Api, service: Service) -> None:
    enable(api)
    put_store(api, "us-nyc")
    other = {"Authorization": f"Bearer {service.token('b')}", "Tenant": "b"}
    assert_error(api.client.get("/clienteling/stores/us-nyc", headers=other), 404)
    listing = api.client.get("/clienteling/stores", headers=other)
    assert listing.status_code == 200
    assert listing.json()["items"] == []
    status = api.client.get("/clienteling/onboarding-status", headers=other).json()
    assert status["stores"] == []
    assert status["twilio"]["sid"] is None
    response = api.client.post(
        "/clienteling/stores/us-nyc/onboard", json={"phone_number": "+12125550100"}, headers=other
    )
    assert_error(response, 404, "us-nyc")


def test_health_and_readiness(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


def test_openapi_documents_every_operation_and_the_tenant_header(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    paths = spec["paths"]
    for method, path, _ in ROUTES:
        template = (
            path.replace("/s1/", "/{store_id}/")
            .replace("/s1", "/{store_id}")
            .replace("/g1", "/{sender_group_id}")
        )
        assert method.lower() in paths[template], (method, template)
    onboard = paths["/clienteling/stores/{store_id}/onboard"]["post"]
    tenant = next(p for p in onboard["parameters"] if p["name"] == "Tenant")
    assert tenant["required"] is True
    assert tenant["schema"]["pattern"] == "^[a-z0-9][a-z0-9-]{0,62}$"
    assert "Redoc" in api.client.get("/docs").text or "redoc" in api.client.get("/docs").text
