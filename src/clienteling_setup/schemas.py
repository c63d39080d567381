"""What the capabilities' response schemas share: building an `XRead` from a row or record."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

S = TypeVar("S", bound=BaseModel)


def read_from(schema: type[S], source: object, **values: Any) -> S:
    """`schema` with each field taken from `source`'s attribute of the same name, except those
    in `values` (the fields the schema renames or derives). A field `source` lacks keeps its
    default; validation is the schema's own."""
    taken = {
        name: getattr(source, name)
        for name in schema.model_fields
        if name not in values and hasattr(source, name)
    }
    return schema.model_validate({**taken, **values})
