"""One text type for every string the service accepts: bodies, query and path parameters, the
store import and Twilio's callbacks.

``Annotated[str, Text(255)]`` is a string of at most 255 characters with no control character:
no NUL (PostgreSQL refuses it, SQLite stores it silently), no other C0 or C1 control, no lone
UTF-16 surrogate (a JSON ``"\\ud800"`` that the database driver cannot encode). Multi-line text
(``Text(1600, multiline=True)``) also accepts tab, line feed and carriage return. Take the bound
from the column the value is stored in, ``Text(column_length(Store.name))``, so that the two
cannot drift; both databases then see the same, fitting values.

The rule is checked while the request is parsed, before any service code runs, so a refused
value never costs a Twilio call. Outside a schema (a query value read by hand, a CLI option),
`check_text` applies the same rule and raises `ValueError` with the same message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import annotated_types
from pydantic import AfterValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from sqlalchemy.orm import InstrumentedAttribute

_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# What the OpenAPI document states (JSON Schema patterns cannot name lone surrogates).
SINGLE_LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
MULTILINE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"


def check_text(value: str, *, multiline: bool = False) -> str:
    """`value` if it holds no control character (nor, unless `multiline`, a line break)."""
    found = (_MULTILINE if multiline else _SINGLE_LINE).search(value)
    if found is None:
        return value
    code = ord(found.group())
    kind = "a lone surrogate" if 0xD800 <= code <= 0xDFFF else "a control character"
    allowed = "printable characters, tabs and line breaks" if multiline else "printable text"
    raise ValueError(
        f"contains {kind} (U+{code:04X}) at position {found.start()}; "
        f"remove it: only {allowed} is accepted"
    )


def check_bounded_text(value: str, max_length: int, *, multiline: bool = False) -> str:
    """`check_text` plus the length bound, for values that are not parsed by a schema."""
    if len(value) > max_length:
        raise ValueError(f"is {len(value)} characters long; at most {max_length} are accepted")
    return check_text(value, multiline=multiline)


@dataclass(frozen=True)
class _DocumentedRule:
    """Adds the control-character rule to the field's JSON Schema (unless the field declares
    a pattern of its own, which then states what it accepts)."""

    pattern: str

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", self.pattern)
        return json_schema


@dataclass(frozen=True)
class Text(annotated_types.GroupedMetadata):
    """Pydantic metadata: ``name: Annotated[str, Text(255)]``; optional fields are
    ``Annotated[str, Text(100)] | None``. Combine freely with ``Field(min_length=...,
    pattern=..., description=...)``."""

    max_length: int
    multiline: bool = False

    def __iter__(self) -> Iterator[object]:
        yield annotated_types.MaxLen(self.max_length)
        yield AfterValidator(self._check)
        yield _DocumentedRule(MULTILINE_PATTERN if self.multiline else SINGLE_LINE_PATTERN)

    def _check(self, value: str) -> str:
        return check_text(value, multiline=self.multiline)


def column_length(column: InstrumentedAttribute[Any]) -> int:
    """The number of characters a ``String(n)`` column holds: the bound of its input."""
    length = getattr(column.expression.type, "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{column} is not a bounded String column")
    return length
