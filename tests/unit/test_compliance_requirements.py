"""Refreshed bundle requirements (rows of ``country_requirements``) over the packaged table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clienteling_setup.compliance.models import CountryRequirement
from clienteling_setup.compliance.records import document_status
from clienteling_setup.compliance.repository import RequirementRepository
from clienteling_setup.compliance.requirements import (
    _refreshed,
    bundle_required,
    effective_rule,
    effective_rules,
)
from clienteling_setup.compliance.rules import (
    REGULATIONS_API_SOURCE,
    rule_for,
    with_bundle_required,
)


class _Requirements(RequirementRepository):
    """Refreshed rows held in memory, behind the repository's read methods."""

    def __init__(self, *rows: CountryRequirement) -> None:
        self.rows = {row.country_code: row for row in rows}

    def all(self) -> list[CountryRequirement]:
        return list(self.rows.values())

    def get(self, country_code: str) -> CountryRequirement | None:
        return self.rows.get(country_code)


def _row(code: str, number_type: str, required: bool) -> CountryRequirement:
    return CountryRequirement(
        country_code=code,
        number_type=number_type,
        bundle_required=required,
        refreshed_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_with_bundle_required_sets_the_requirement_for_the_sms_number_type() -> None:
    us = rule_for("US")
    assert us is not None
    assert not us.bundle_required
    refreshed = with_bundle_required(us, True)
    assert refreshed.bundle_required
    assert refreshed.bundle_number_type == "local"
    assert REGULATIONS_API_SOURCE in refreshed.sources


def test_with_bundle_required_false_clears_the_bundle_number_type() -> None:
    gb = rule_for("GB")
    assert gb is not None
    refreshed = with_bundle_required(gb, False)
    assert not refreshed.bundle_required
    assert refreshed.bundle_number_type is None


def test_with_bundle_required_leaves_an_unsupported_country_unchanged() -> None:
    jp = rule_for("JP")
    assert jp is not None
    assert with_bundle_required(jp, False) == jp


def test_a_refreshed_row_overrides_the_table() -> None:
    gb = rule_for("GB")
    assert gb is not None
    assert not _refreshed(gb, _row("GB", "mobile", False)).bundle_required


def test_no_row_keeps_the_table() -> None:
    gb = rule_for("GB")
    assert gb is not None
    assert _refreshed(gb, None) == gb


def test_a_row_asked_for_another_number_type_is_ignored() -> None:
    gb = rule_for("GB")
    assert gb is not None
    assert _refreshed(gb, _row("GB", "local", False)) == gb


def test_without_a_repository_the_table_answers() -> None:
    assert effective_rule(None, "gb") == rule_for("GB")
    assert effective_rules(None)["GB"] == rule_for("GB")
    assert bundle_required("GB")
    assert not bundle_required("US")


def test_the_repository_s_refreshed_rows_answer_where_they_apply() -> None:
    requirements = _Requirements(
        _row("GB", "mobile", False), _row("US", "local", True), _row("DE", "local", False)
    )
    assert not bundle_required("GB", requirements)
    assert bundle_required("US", requirements)
    assert bundle_required("DE", requirements)  # asked for another number type: table stands
    rules = effective_rules(requirements)
    assert not rules["GB"].bundle_required
    assert rules["US"].bundle_required
    assert rules["FR"] == rule_for("FR")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("APPROVED", "approved"), ("PENDING_REVIEW", "pending-review"), ("rejected", "rejected")],
)
def test_document_statuses_share_one_vocabulary(raw: str, shown: str) -> None:
    assert document_status(raw) == shown
