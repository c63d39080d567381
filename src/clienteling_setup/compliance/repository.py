"""Compliance rows: the tenant's bundles and trust products, and refreshed country rules.

Writes from reconciliation are conditional (`read_since`): a row written after a pass started
reading Twilio is never overwritten or deleted by that pass (see `compliance.records`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clienteling_setup.compliance.models import (
    BundleRecord,
    CountryRequirement,
    RegulationsRefresh,
    TrustProductRecord,
)
from clienteling_setup.db.repository import TenantScoped

_Record = type[BundleRecord] | type[TrustProductRecord]


class ComplianceRepository(TenantScoped):
    """The tenant's regulatory bundles and trust products, as last synchronised from Twilio."""

    def bundle_for_update(self, sid: str) -> BundleRecord | None:
        """The bundle row, locked until the transaction ends (a status callback's write)."""
        return self.session.get(BundleRecord, (self.tenant_id, sid), with_for_update=True)

    def bundles(self) -> dict[str, BundleRecord]:
        """The tenant's bundles by sid."""
        rows = self.session.scalars(
            select(BundleRecord).where(BundleRecord.tenant_id == self.tenant_id)
        )
        return {row.sid: row for row in rows}

    def trust_products(self) -> dict[str, TrustProductRecord]:
        """The tenant's trust products by sid."""
        rows = self.session.scalars(
            select(TrustProductRecord).where(TrustProductRecord.tenant_id == self.tenant_id)
        )
        return {row.sid: row for row in rows}

    def bundle_addresses(self) -> dict[str, str]:
        """Each known bundle's address sid, for the bundles that have one."""
        rows = self.session.execute(
            select(BundleRecord.sid, BundleRecord.address_sid).where(
                BundleRecord.tenant_id == self.tenant_id, BundleRecord.address_sid.is_not(None)
            )
        )
        return {sid: address for sid, address in rows if address}

    def upsert_bundle(
        self,
        sid: str,
        values: dict[str, Any],
        *,
        read_since: datetime,
        keep_failure_reason: bool = False,
    ) -> None:
        """Write the bundle unless it was written after `read_since`. With
        `keep_failure_reason`, an existing row keeps its failure reason where `values` has
        none."""
        updates = (
            {
                "failure_reason": func.coalesce(
                    values.get("failure_reason"), BundleRecord.failure_reason
                )
            }
            if keep_failure_reason
            else None
        )
        self._upsert(BundleRecord, sid, values, read_since, updates)

    def upsert_trust_product(
        self, sid: str, values: dict[str, Any], *, read_since: datetime
    ) -> None:
        """Write the trust product unless it was written after `read_since`."""
        self._upsert(TrustProductRecord, sid, values, read_since, None)

    def mark_read(self, model: _Record, sid: str, at: datetime) -> None:
        """Note that the row was read in full from Twilio at `at` (and found unchanged): only
        `synced_at` moves; `updated_at`, which the status fingerprint is built on, stays."""
        self._set_synced_at(model, sid, at)

    def mark_for_reread(self, sid: str) -> None:
        """A bundle callback arrived: the next pass reads the bundle's details again even in
        a final state (`synced_at` cleared; `updated_at` stays)."""
        self._set_synced_at(BundleRecord, sid, None)

    def _set_synced_at(self, model: _Record, sid: str, at: datetime | None) -> None:
        self.session.execute(
            update(model)
            .where(model.tenant_id == self.tenant_id, model.sid == sid)
            # Naming updated_at keeps its onupdate default from firing.
            .values(synced_at=at, updated_at=model.updated_at)
            .execution_options(synchronize_session=False)
        )

    def delete_bundles_except(self, keep: Collection[str], *, read_since: datetime) -> None:
        """Delete the tenant's bundles not in `keep`, unless written after `read_since`."""
        self._delete_except(BundleRecord, keep, read_since)

    def delete_trust_products_except(self, keep: Collection[str], *, read_since: datetime) -> None:
        """Delete the tenant's trust products not in `keep`, unless written after `read_since`."""
        self._delete_except(TrustProductRecord, keep, read_since)

    def forget_all(self) -> None:
        """Delete every bundle and trust product record (their account was closed)."""
        for model in (BundleRecord, TrustProductRecord):
            self.session.execute(delete(model).where(model.tenant_id == self.tenant_id))

    def _upsert(
        self,
        model: _Record,
        sid: str,
        values: dict[str, Any],
        read_since: datetime,
        updates: dict[str, Any] | None,
    ) -> None:
        """Update the row unless it was written after `read_since`; insert it when absent.
        `updates` overrides `values` in the UPDATE only (SQL expressions over the old row)."""
        changed = self.session.execute(
            update(model)
            .where(
                model.tenant_id == self.tenant_id,
                model.sid == sid,
                model.updated_at <= read_since,
            )
            .values(**{**values, **(updates or {})})
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount:  # type: ignore[attr-defined]
            return
        if self.session.get(model, (self.tenant_id, sid)) is not None:
            return  # written after we started reading: the newer state stays
        try:
            with self.session.begin_nested():
                self.session.add(model(tenant_id=self.tenant_id, sid=sid, **values))
        except IntegrityError:
            pass  # inserted concurrently (a callback): that one is at least as new

    def _delete_except(self, model: _Record, keep: Collection[str], read_since: datetime) -> None:
        self.session.execute(
            delete(model)
            .where(
                model.tenant_id == self.tenant_id,
                model.sid.not_in(list(keep)),
                model.updated_at <= read_since,
            )
            .execution_options(synchronize_session=False)
        )


class RequirementRepository:
    """Country requirements refreshed from Twilio's Regulations API (not tenant-scoped)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def all(self) -> list[CountryRequirement]:
        return list(self.session.scalars(select(CountryRequirement)))

    def get(self, country_code: str) -> CountryRequirement | None:
        return self.session.get(CountryRequirement, country_code)

    def record(
        self, country_code: str, *, number_type: str, bundle_required: bool, at: datetime
    ) -> CountryRequirement:
        """Insert or overwrite the country's refreshed requirement. An answer that changes
        nothing writes nothing: `refreshed_at` is when the requirement last changed, and the
        status documents built on it stay valid (see `status.cache`)."""
        row = self.session.get(CountryRequirement, country_code, with_for_update=True)
        if row is None:
            row = CountryRequirement(country_code=country_code)
            self.session.add(row)
        elif row.number_type == number_type and row.bundle_required == bundle_required:
            return row
        row.number_type = number_type
        row.bundle_required = bundle_required
        row.refreshed_at = at
        return row

    def last_refreshed(self) -> datetime | None:
        """When the regulations were last refreshed from Twilio (None: never)."""
        row = self.session.get(RegulationsRefresh, _TWILIO)
        return row.refreshed_at if row is not None else None

    def record_refreshed(self, at: datetime) -> None:
        row = self.session.get(RegulationsRefresh, _TWILIO, with_for_update=True)
        if row is None:
            self.session.add(RegulationsRefresh(scope=_TWILIO, refreshed_at=at))
        else:
            row.refreshed_at = at


#: The one row of `RegulationsRefresh`: Twilio's regulations are the same for every account.
_TWILIO = "twilio"
