"""GET /clienteling/ledger: what was bought and released, by whom, at what price."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from clienteling_setup.deps import TenantDep, UowsDep
from clienteling_setup.ledger import service
from clienteling_setup.ledger.models import LedgerEntry
from clienteling_setup.ledger.schemas import CSV_COLUMNS, Action, LedgerPage
from clienteling_setup.openapi_docs import ERRORS_READ
from clienteling_setup.text import Text, column_length

router = APIRouter(prefix="/clienteling", tags=["Ledger"])

MAX_LIMIT = 1000
_CSV_EXAMPLE = (
    ",".join(CSV_COLUMNS)
    + "\r\n7f0c...,2026-12-02T07:59:12.345678Z,number_bought,store-1,+14155550100,PN...,"
    "AC...,alice@example.com,req-1,1.15,USD,sms onboarding\r\n"
)


@router.get(
    "/ledger",
    summary="The money ledger",
    description=(
        "Every Twilio action that started or stopped a monthly cost for the tenant (a number "
        "bought, a number released), oldest first, each recorded once: the store, the number "
        "and its SIDs, who asked (the token's subject) and the request id, when, and the "
        "monthly price from Twilio's Pricing API (null when it was unknown). Filter by store, "
        "action and time range; page with `limit` and `cursor`. With `Accept: text/csv` the "
        "answer is every matching entry (after `cursor`, when given) as CSV, streamed: a "
        "header row, then one line per entry with the JSON fields, the price as "
        "monthly_price_amount and monthly_price_currency."
    ),
    responses={
        200: {
            "description": "A page of entries (JSON), or all matching entries (CSV).",
            "content": {
                "application/json": {},
                "text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE},
            },
        },
        **ERRORS_READ,
    },
    response_model=LedgerPage,
)
def read_ledger(
    request: Request,
    tenant: TenantDep,
    uows: UowsDep,
    store_id: Annotated[
        str | None,
        Query(description="Only entries of this store."),
        Text(column_length(LedgerEntry.store_id)),
    ] = None,
    action: Annotated[
        list[Action] | None,
        Query(description="Only entries of these actions (repeat the parameter for several)."),
    ] = None,
    since: Annotated[
        str | None,
        Query(
            description="Only entries recorded at or after this ISO 8601 time (UTC if no offset)."
        ),
        Text(40),
    ] = None,
    until: Annotated[
        str | None,
        Query(description="Only entries recorded before this ISO 8601 time (UTC if no offset)."),
        Text(40),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Entries per page (JSON only).")
    ] = 100,
    cursor: Annotated[
        str | None, Query(description="next_cursor of the previous page."), Text(200)
    ] = None,
) -> Any:
    query = service.ledger_query(
        store_id=store_id, actions=action, since=since, until=until, cursor=cursor
    )
    if "text/csv" in request.headers.get("accept", ""):
        return StreamingResponse(
            service.ledger_csv(uows, tenant, query),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="ledger-{tenant}.csv"'},
        )
    return service.ledger_page(uows, tenant, query, limit)
