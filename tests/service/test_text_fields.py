"""Every string the API accepts is bounded text, on SQLite and PostgreSQL alike.

The cases are generated from the service's own /openapi.json: each string of each JSON request
body (nested ones too), each string query and path parameter. For each, a NUL (U+0000), a lone
surrogate and a value one character longer than the document's `maxLength` must be a 400 whose
message names the field, before anything happens: the emulator receives no Twilio write and
the directory is unchanged. An operation added later is covered without touching this file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest

from tests.service.helpers import STORES, enable, put_store
from tests.support import Api
from twilio_emulator import EmulatorServer

#: A valid value for each path parameter, so that only the parameter under test is wrong.
PATH_VALUES = {"store_id": "us-nyc", "sender_group_id": "g1"}
WEBHOOKS = "/clienteling/webhooks/"


@dataclass(frozen=True)
class Field:
    method: str
    path: str
    where: str  # body, query or path
    name: tuple[str | int, ...]  # the field's place: ("name",), ("stores", 0, "name"), ...
    schema: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} {self.where} {'.'.join(map(str, self.name))}"


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _strings(spec: dict[str, Any], schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The string alternatives of a schema (`anyOf` of a string and null, ...)."""
    schema = _resolve(spec, schema)
    for alternative in schema.get("anyOf", [schema]):
        alternative = _resolve(spec, alternative)
        if alternative.get("type") == "string":
            yield alternative


def _leaves(
    spec: dict[str, Any], schema: dict[str, Any], place: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """Every string inside a body schema, with its place (arrays through their first item)."""
    schema = _resolve(spec, schema)
    for string in _strings(spec, schema):
        yield place, string
    for alternative in schema.get("anyOf", [schema]):
        alternative = _resolve(spec, alternative)
        for key, sub in alternative.get("properties", {}).items():
            yield from _leaves(spec, sub, (*place, key))
        if alternative.get("type") == "array":
            yield from _leaves(spec, alternative["items"], (*place, 0))


def text_fields(spec: dict[str, Any]) -> list[Field]:
    fields: list[Field] = []
    for path, item in spec["paths"].items():
        if path.startswith(WEBHOOKS):
            continue  # Twilio's signed form posts: test_callback_input.py
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] not in ("query", "path"):
                    continue
                for string in _strings(spec, parameter["schema"]):
                    fields.append(
                        Field(method, path, parameter["in"], (parameter["name"],), string)
                    )
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                body = content["application/json"]["schema"]
                for place, string in _leaves(spec, body, ()):
                    fields.append(Field(method, path, "body", place, string))
    return fields


def _put(container: Any, place: tuple[str | int, ...], value: str) -> Any:
    if not place:
        return value
    head, rest = place[0], place[1:]
    if isinstance(head, int):
        return [_put(None, rest, value)]
    base = dict(container or {})
    base[head] = _put(base.get(head), rest, value)
    return base


def _send(api: Api, field: Field, value: str) -> Any:
    path_values = {**PATH_VALUES}
    query: dict[str, str] = {}
    body: Any = None
    if field.where == "path":
        path_values[str(field.name[0])] = value
    elif field.where == "query":
        query[str(field.name[0])] = value
    url = field.path.format(**{k: quote(v, safe="") for k, v in path_values.items()})
    if "requestBody" in _operation(api, field):
        body = _example_body(api, field)
    if field.where == "body":
        body = _put(body, field.name, value)
    # json.dumps escapes a lone surrogate as JSON allows (httpx's encoder would refuse it).
    content = None if body is None else json.dumps(body).encode()
    headers = {} if body is None else {"Content-Type": "application/json"}
    return api.request(field.method.upper(), url, params=query, content=content, headers=headers)


def _example_body(api: Api, field: Field) -> dict[str, Any]:
    """The body's required fields at their documented examples: only the field under test is
    wrong, so that no other error (a missing field) can stand in for its own."""
    spec = _spec(api)
    content = _operation(api, field)["requestBody"]["content"]["application/json"]
    schema = _resolve(spec, content["schema"])
    return {
        name: schema["properties"][name]["examples"][0]
        for name in schema.get("required", [])
        if schema["properties"][name].get("examples")
    }


def _operation(api: Api, field: Field) -> dict[str, Any]:
    spec = _spec(api)
    operation: dict[str, Any] = spec["paths"][field.path][field.method]
    return operation


_SPECS: dict[str, dict[str, Any]] = {}


def _spec(api: Api) -> dict[str, Any]:
    if api.base_url not in _SPECS:
        _SPECS[api.base_url] = api.client.get("/openapi.json").json()
    return _SPECS[api.base_url]


def _problem(field: Field, value: str, response: Any) -> str | None:
    """What is wrong with the answer to a refused value, or None if it is right."""
    leaf = str(field.name[-1])
    if response.status_code != 400:
        return f"{field}: {response.status_code} {response.text[:300]}"
    body = response.json()
    if set(body) != {"request_id", "message"} or f"{leaf}': " not in body["message"]:
        return f"{field}: the message does not name {leaf!r}: {body}"
    return None


@pytest.fixture
def world(api: Api, emulator: EmulatorServer) -> Api:
    """A configured tenant with one store; the emulator's request log emptied."""
    enable(api)
    put_store(api, "us-nyc")
    emulator.state.clear_requests()
    return api


def _unchanged(api: Api, emulator: EmulatorServer) -> None:
    writes = [(r.method, r.path) for r in emulator.state.requests if r.method != "GET"]
    assert writes == [], "refused input reached Twilio"
    stores = api.get("/clienteling/stores").json()["items"]
    assert [(s["id"], s["name"]) for s in stores] == [("us-nyc", STORES["us-nyc"]["name"])]
    assert api.get("/clienteling/sender-groups").json() == []


def test_the_document_bounds_every_string_it_accepts(world: Api) -> None:
    fields = text_fields(_spec(world))
    # Not vacuous: bodies, queries and paths are all there.
    assert {f.where for f in fields} == {"body", "query", "path"}
    assert len(fields) > 30, [str(f) for f in fields]
    unbounded = [str(f) for f in fields if "maxLength" not in f.schema and "enum" not in f.schema]
    assert unbounded == [], "strings without maxLength in /openapi.json"


@pytest.mark.parametrize(
    "bad", ["a\x00b", "a\ud800b", "a\x1bb", "a\x85b"], ids=["nul", "surrogate", "esc", "c1"]
)
def test_control_characters_are_400_naming_the_field(
    world: Api, emulator: EmulatorServer, bad: str
) -> None:
    problems = []
    for field in text_fields(_spec(world)):
        if "\ud800" in bad and field.where != "body":
            continue  # only JSON can carry a lone surrogate; a URL's bytes are UTF-8
        response = _send(world, field, bad)
        problems.append(_problem(field, bad, response))
    assert [p for p in problems if p] == []
    _unchanged(world, emulator)


def test_over_long_values_are_400_naming_the_field(world: Api, emulator: EmulatorServer) -> None:
    problems = []
    for field in text_fields(_spec(world)):
        longest = field.schema.get("maxLength") or max(map(len, field.schema["enum"]))
        response = _send(world, field, "a" * (longest + 1))
        problems.append(_problem(field, "", response))
    assert [p for p in problems if p] == []
    _unchanged(world, emulator)


def test_the_nul_message_says_what_to_fix(api: Api) -> None:
    response = api.put("/clienteling/stores/s1", json={"name": "Do\x00dici", "country_code": "US"})
    assert response.status_code == 400
    assert response.json()["message"] == (
        "'name': contains a control character (U+0000) at position 2; remove it: only "
        "printable text is accepted"
    )


def test_line_breaks_are_text_where_text_is_multiline(api: Api) -> None:
    body = "Reply YES to receive messages from Dodici.\r\nMsg&data rates may apply.\tSTOP to end."
    response = api.put("/clienteling/opt-in-template", json={"body": body})
    assert response.status_code in (200, 201), response.text
    assert api.get("/clienteling/opt-in-template").json()["body"] == body
    single = api.put("/clienteling/stores/s1", json={"name": "Do\ndici", "country_code": "US"})
    assert single.status_code == 400
    assert "U+000A" in single.json()["message"]


def test_the_longest_values_the_columns_hold_are_stored_alike(api: Api) -> None:
    # The bounds are the columns' own: at the limit, both databases store the value whole.
    longest = {"name": "n" * 255, "region": "r" * 100, "locality": "l" * 100}
    store = put_store(api, "s" * 128, postal_code="p" * 20, **longest)
    fetched = api.get(f"/clienteling/stores/{'s' * 128}").json()
    assert fetched == store
    assert (fetched["name"], fetched["postal_code"]) == ("n" * 255, "p" * 20)
    page = api.get("/clienteling/stores", params={"cursor": "r" * 128}).json()
    assert [s["id"] for s in page["items"]] == ["s" * 128]


@pytest.mark.parametrize("account_sid", ["AC\x00", "AC" + "0" * 32 + "\x00", "x" * 10_000])
def test_a_callback_from_no_account_of_ours_is_403_whatever_it_holds(
    api: Api, account_sid: str
) -> None:
    # The account is looked up before the signature can be checked: a value the database
    # cannot hold must not make that look-up fail.
    webhooks = [p for p in _spec(api)["paths"] if p.startswith(WEBHOOKS)]
    assert webhooks
    for path in webhooks:
        response = api.client.post(path, data={"AccountSid": account_sid, "To": "\x00"})
        assert response.status_code == 403, (path, response.text)
