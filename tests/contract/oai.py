"""Twilio's OpenAPI files as a test oracle: find an operation, validate a request or a response.

Functions (all raise `AssertionError` with a message naming the operation and the problem):

* `find_operation(host, method, path) -> (path_template, operation)`: the OAI operation for a
  request; `host` is ``api``/``messaging``/``numbers``/``trusthub`` or ``api.twilio.com``;
* `validate_request(host, method, path, params, json_body=None)`: parameter names are declared
  (query for GET/DELETE, form body for POST), required ones are present, values fit their declared
  type/enum/pattern; a JSON body validates against the request schema;
* `validate_response(host, method, path, status, body, complete=True)`: the status is declared
  and the body validates against its schema. OpenAPI 3.0 is converted for `jsonschema`
  (``nullable``, ``$ref`` with siblings) and formats are checked (ISO 8601 and RFC 2822 dates,
  URIs, E.164). With ``complete`` every object must carry exactly the properties the schema
  declares (Twilio always sends every field, null when unknown), so a missing or an undeclared
  field fails too.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema

# A copy of Twilio's published OpenAPI files (MIT, see twilio-oai/LICENSE and VERSION), kept in
# the repository so that a fresh clone judges the gateway and the emulator by them.
OAI_DIR = Path(__file__).resolve().parent / "twilio-oai"
FILES = {
    "api": ("twilio_api_v2010.json",),
    "messaging": ("twilio_messaging_v1.json", "twilio_messaging_v2.json"),
    "numbers": ("twilio_numbers_v2.json",),
    "trusthub": ("twilio_trusthub_v1.json",),
    "pricing": ("twilio_pricing_v1.json",),
}
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_FORMATTED = re.compile(r"^\+?[\d() .-]{3,}$")


@dataclass(frozen=True)
class OaiFile:
    name: str
    doc: dict[str, Any]
    templates: tuple[tuple[re.Pattern[str], str], ...]


@functools.cache
def load(name: str) -> OaiFile:
    doc = json.loads((OAI_DIR / name).read_text())
    templates = []
    for template in doc["paths"]:
        regex = re.sub(r"\\\{[A-Za-z0-9_]+\\\}", "[^/]+", re.escape(template))
        templates.append((re.compile(regex + r"\Z"), template))
    # Literal segments win over parameters: /v1/Services/Usecases before /v1/Services/{Sid}.
    templates.sort(key=lambda t: (t[1].count("{"), -len(t[1])))
    return OaiFile(name, doc, tuple(templates))


def _host(host: str) -> str:
    sub = host.split(".", 1)[0]
    if sub not in FILES:
        raise AssertionError(f"unknown Twilio host {host!r}")
    return sub


def _locate(host: str, method: str, path: str) -> tuple[OaiFile, str, dict[str, Any]]:
    path = urlsplit(path).path
    for name in FILES[_host(host)]:
        oai = load(name)
        for regex, template in oai.templates:
            if regex.match(path):
                operation = oai.doc["paths"][template].get(method.lower())
                if operation is None:
                    raise AssertionError(f"{method} {host}{path}: {template} has no {method}")
                return oai, template, operation
    raise AssertionError(f"{method} {host}{path}: no path template in {FILES[_host(host)]}")


def find_operation(host: str, method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The OAI path template and operation object for a request."""
    _, template, operation = _locate(host, method, path)
    return template, operation


# ---------------------------------------------------------------------------- schema conversion
def _convert(node: Any, complete: bool) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema 2020-12 (nullable, $ref siblings, completeness)."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "x-twilio" and isinstance(value, dict) and "overrideType" in value:
            # What goes on the wire: Pricing's prices are declared numbers, sent as strings
            # ("1.00", as the file's own examples show).
            out["type"] = value["overrideType"]
            continue
        if key.startswith("x-"):
            continue
        if key == "type" and "type" in out:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _convert(prop, complete) for name, prop in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = _convert(value, complete)
        elif key in ("anyOf", "oneOf", "allOf") and isinstance(value, list):
            out[key] = [_convert(item, complete) for item in value]
        else:
            out[key] = value
    nullable = out.pop("nullable", False)
    if "$ref" in out:
        ref = {"$ref": out["$ref"]}
        return {"anyOf": [ref, {"type": "null"}]} if nullable else ref
    if (
        complete
        and isinstance(out.get("properties"), dict)
        and out.get("type", "object") == "object"
    ):
        out["required"] = sorted(out["properties"])
        out["additionalProperties"] = False
    if nullable:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


@functools.cache
def _components(name: str, complete: bool) -> dict[str, Any]:
    schemas = load(name).doc["components"].get("schemas", {})
    return {"schemas": {key: _convert(value, complete) for key, value in schemas.items()}}


def _schema(oai: OaiFile, schema: dict[str, Any], complete: bool) -> dict[str, Any]:
    converted: dict[str, Any] = _convert(copy.deepcopy(schema), complete)
    converted["components"] = _components(oai.name, complete)
    return converted


_FORMATS = jsonschema.FormatChecker([])


def _iso_date(value: object) -> bool:
    return not isinstance(value, str) or bool(_ISO.match(value))


def _rfc2822(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsedate_to_datetime(value)
    return bool(
        re.match(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$", value)
    )


def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if value.startswith("/"):  # the 2010 API's uris are relative to https://api.twilio.com
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _phone(value: object) -> bool:
    """E.164, or a formatted number as in Twilio's `friendly_name` examples ("(808) 925-1571")."""
    return not isinstance(value, str) or bool(_E164.match(value) or _FORMATTED.match(value))


def _country(value: object) -> bool:
    return not isinstance(value, str) or bool(re.match(r"^[A-Z]{2}$", value))


for _name, _check, _raises in (
    ("date-time", _iso_date, ValueError),
    ("date-time-rfc-2822", _rfc2822, (TypeError, ValueError)),
    ("uri", _uri, ValueError),
    ("phone-number", _phone, ValueError),
    ("iso-country-code", _country, ValueError),
):
    _FORMATS.checks(_name, raises=_raises)(_check)


def _validate(schema: dict[str, Any], value: Any, where: str) -> None:
    validator = jsonschema.Draft202012Validator(schema, format_checker=_FORMATS)
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"  at /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10]]
        raise AssertionError(f"{where}: {len(errors)} schema violation(s)\n" + "\n".join(lines))


# ---------------------------------------------------------------------------- responses
def response_schema(
    host: str, method: str, path: str, status: int, *, complete: bool = True
) -> dict[str, Any] | None:
    """The JSON Schema of a declared response (None for a bodiless one such as 204)."""
    oai, template, operation = _locate(host, method, path)
    responses = operation.get("responses", {})
    if str(status) not in responses:
        raise AssertionError(
            f"{method} {template}: status {status} not declared (declared: {sorted(responses)})"
        )
    content = responses[str(status)].get("content", {}).get("application/json")
    if not content or "schema" not in content:
        return None
    return _schema(oai, content["schema"], complete)


def validate_response(
    host: str, method: str, path: str, status: int, body: Any, *, complete: bool = True
) -> None:
    """Assert `body` (parsed JSON) is what Twilio's OAI declares for this request and status."""
    template, _ = find_operation(host, method, path)
    schema = response_schema(host, method, path, status, complete=complete)
    if schema is None:
        if body not in (None, b"", ""):
            raise AssertionError(f"{method} {template} {status}: declared without a body")
        return
    _validate(schema, body, f"{method} {template} -> {status}")


# ---------------------------------------------------------------------------- requests
def _resolve(oai: OaiFile, node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = oai.doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _check_value(oai: OaiFile, name: str, schema: dict[str, Any], value: Any, where: str) -> None:
    schema = _resolve(oai, schema)
    text = str(value)
    kind = schema.get("type")
    if kind == "integer" and not re.fullmatch(r"-?\d+", text):
        raise AssertionError(f"{where}: {name}={text!r} is not an integer")
    if kind == "boolean" and text.lower() not in ("true", "false"):
        raise AssertionError(f"{where}: {name}={text!r} is not a boolean")
    if "enum" in schema and text not in [str(e) for e in schema["enum"]]:
        raise AssertionError(f"{where}: {name}={text!r} is not one of {schema['enum']}")
    if kind == "string" and "pattern" in schema and not re.search(schema["pattern"], text):
        raise AssertionError(f"{where}: {name}={text!r} does not match {schema['pattern']}")


def validate_request(
    host: str,
    method: str,
    path: str,
    params: dict[str, Any] | None = None,
    json_body: Any = None,
) -> None:
    """Assert a request (query/form `params` or a JSON body) is one Twilio's OAI declares."""
    oai, template, operation = _locate(host, method, path)
    where = f"{method} {template}"
    params = dict(params or {})
    declared: dict[str, tuple[bool, dict[str, Any]]] = {}
    for param in operation.get("parameters", []):
        param = _resolve(oai, param)
        if param["in"] in ("query",):
            declared[param["name"]] = (bool(param.get("required")), param.get("schema", {}))
    body = operation.get("requestBody", {}).get("content", {})
    form = body.get("application/x-www-form-urlencoded")
    if form:
        schema = _resolve(oai, form["schema"])
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            declared[name] = (name in required, prop)
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise AssertionError(
            f"{where}: undeclared parameter(s) {unknown}; declared: {sorted(declared)}"
        )
    missing = sorted(n for n, (req, _) in declared.items() if req and n not in params)
    if missing:
        raise AssertionError(f"{where}: required parameter(s) missing: {missing}")
    for name, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            _check_value(oai, name, declared[name][1], item, where)
    if json_body is not None:
        content = body.get("application/json")
        if content is None:
            raise AssertionError(f"{where}: takes no JSON body (declared: {sorted(body)})")
        _validate(_schema(oai, content["schema"], False), json_body, f"{where} request body")
    elif "application/json" in body and body["application/json"]["schema"] and method != "GET":
        required_json = _resolve(oai, body["application/json"]["schema"]).get("required")
        if required_json:
            raise AssertionError(f"{where}: a JSON body with {required_json} is required")
