"""The floor of a store import: `python -m bench.bulk_insert FILE URL TENANT` reads a store CSV
and inserts its rows as they are (no validation, no upsert), 2,000 rows a statement, in one
transaction. `bench.data_paths` runs it beside `clienteling-setup stores import`."""

from __future__ import annotations

import csv
import sys
from typing import Any

from sqlalchemy import create_engine, insert

from clienteling_setup.db.base import utcnow
from clienteling_setup.stores.models import Store


def main(file: str, url: str, tenant: str) -> None:
    now = utcnow()
    with open(file, newline="", encoding="utf-8") as handle:
        rows: list[dict[str, Any]] = [
            {
                **{k: (v if v != "" else None) for k, v in row.items()},
                "tenant_id": tenant,
                "created_at": now,
                "updated_at": now,
            }
            for row in csv.DictReader(handle)
        ]
    for row in rows:
        for key in ("latitude", "longitude"):
            row[key] = float(row[key]) if row[key] is not None else None
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for start in range(0, len(rows), 2000):
                conn.execute(insert(Store), rows[start : start + 2000])
    finally:
        engine.dispose()
    print(f"inserted {len(rows)}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
