from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from clienteling_setup import errors
from clienteling_setup.deps import TenantDep, UowsDep
from clienteling_setup.openapi_docs import ERRORS_READ, answer, write_responses
from clienteling_setup.stores import service
from clienteling_setup.stores.models import Store
from clienteling_setup.stores.schemas import (
    STORE_ID_PATTERN,
    StorePage,
    StoreRead,
    StoreWrite,
    store_read,
)
from clienteling_setup.text import Text, column_length
from clienteling_setup.validation import country_code

router = APIRouter(prefix="/clienteling", tags=["Store directory"])

StoreIdPath = Annotated[
    str,
    Path(description="The identifier of the store.", pattern=STORE_ID_PATTERN),
    Text(column_length(Store.id)),
]


@router.put(
    "/stores/{store_id}",
    summary="Add or replace a store in the directory",
    responses=write_responses(201, "Created", StoreRead),
)
def put_store(
    store_id: StoreIdPath,
    body: StoreWrite,
    tenant: TenantDep,
    uows: UowsDep,
    response: Response,
) -> StoreRead:
    return answer(response, service.put_store(uows, tenant, store_id, body), store_read)


@router.get("/stores/{store_id}", summary="Retrieve a store", responses=ERRORS_READ)
def get_store(store_id: StoreIdPath, tenant: TenantDep, uows: UowsDep) -> StoreRead:
    return store_read(service.get_store(uows, tenant, store_id))


@router.get("/stores", summary="List the store directory", responses=ERRORS_READ)
def list_stores(
    tenant: TenantDep,
    uows: UowsDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 100,
    cursor: Annotated[
        Annotated[str, Text(column_length(Store.id))] | None,
        Query(description="next_cursor of the previous page."),
    ] = None,
    country: Annotated[
        Annotated[str, Text(column_length(Store.country_code))] | None,
        Query(description="Only stores of this country."),
    ] = None,
) -> StorePage:
    try:
        cc = country_code(country) if country is not None else None
    except ValueError as exc:
        raise errors.BadRequest(f"'country': {exc}.") from exc
    stores = service.page_stores(uows, tenant, after=cursor, limit=limit + 1, country=cc)
    more = len(stores) > limit
    stores = stores[:limit]
    return StorePage(
        items=[store_read(s) for s in stores],
        next_cursor=stores[-1].id if more and stores else None,
    )
