"""The Twilio adapter's pure parts: retry policy, Retry-After, host rewriting, the error map."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.response import Response

from clienteling_setup.providers.messaging import (
    InputRejected,
    NotFound,
    NumberUnavailable,
    ProviderError,
    ProviderFailure,
    ProviderUnavailable,
    RegulatoryRejected,
)
from clienteling_setup.providers.twilio.errors import map_twilio_errors, provider_error
from clienteling_setup.providers.twilio.http import rewrite_url
from clienteling_setup.providers.twilio.retry import (
    RetryPolicy,
    is_retryable_status,
    parse_retry_after,
    retry_after_seconds,
)


def no_jitter() -> float:
    return 1.0  # jitter factor 0.5 + 0.5 * 1.0 == 1: the full backoff


class TestBackoffSchedule:
    def test_doubles_from_the_base(self) -> None:
        policy = RetryPolicy(max_attempts=5, backoff_base=0.2, max_total_wait=100)
        assert [policy.backoff(n) for n in (1, 2, 3, 4)] == pytest.approx([0.2, 0.4, 0.8, 1.6])

    def test_is_capped(self) -> None:
        policy = RetryPolicy(backoff_base=1.0, max_backoff=3.0)
        assert policy.backoff(10) == 3.0
        assert policy.backoff(10_000) == 3.0

    def test_schedule_has_one_wait_fewer_than_attempts(self) -> None:
        policy = RetryPolicy(max_attempts=4, backoff_base=0.2, max_total_wait=100)
        assert policy.schedule() == pytest.approx([0.2, 0.4, 0.8])

    def test_schedule_stops_at_total_wait(self) -> None:
        policy = RetryPolicy(max_attempts=10, backoff_base=1.0, max_backoff=100, max_total_wait=5)
        assert policy.schedule() == pytest.approx([1.0, 2.0])  # 1 + 2 + 4 would pass 5

    @pytest.mark.parametrize("draw", [0.0, 0.3, 0.999])
    def test_jitter_stays_between_half_and_full_backoff(self, draw: float) -> None:
        policy = RetryPolicy(backoff_base=0.4, rand=lambda: draw)
        delay = policy.jittered_backoff(2)  # backoff 0.8
        assert 0.4 <= delay <= 0.8
        assert delay == pytest.approx(0.8 * (0.5 + 0.5 * draw))

    def test_rejects_nonsense(self) -> None:
        with pytest.raises(ValueError, match="max_attempts"):
            RetryPolicy(max_attempts=0)
        with pytest.raises(ValueError, match="negative"):
            RetryPolicy(max_total_wait=-1)


class TestNextDelay:
    def test_gives_up_after_max_attempts(self) -> None:
        policy = RetryPolicy(max_attempts=3, rand=no_jitter)
        assert policy.next_delay(1, elapsed=0) == pytest.approx(0.2)
        assert policy.next_delay(2, elapsed=0.2) == pytest.approx(0.4)
        assert policy.next_delay(3, elapsed=0.6) is None

    def test_single_attempt_policy_never_retries(self) -> None:
        assert RetryPolicy(max_attempts=1).next_delay(1, elapsed=0) is None

    def test_retry_after_replaces_backoff(self) -> None:
        policy = RetryPolicy(backoff_base=0.2, rand=no_jitter)
        assert policy.next_delay(1, elapsed=0, retry_after=2.5) == 2.5
        assert policy.next_delay(1, elapsed=0, retry_after=0) == 0

    def test_no_retry_that_would_end_past_the_total(self) -> None:
        policy = RetryPolicy(max_attempts=10, max_total_wait=3, rand=no_jitter)
        assert policy.next_delay(1, elapsed=1, retry_after=2) == 2
        assert policy.next_delay(1, elapsed=1.5, retry_after=2) is None
        assert policy.next_delay(1, elapsed=0, retry_after=30) is None

    def test_total_wait_bounds_a_run_that_always_fails(self) -> None:
        policy = RetryPolicy(max_attempts=50, backoff_base=0.5, max_total_wait=4, rand=no_jitter)
        elapsed, attempts = 0.0, 1
        while (delay := policy.next_delay(attempts, elapsed=elapsed)) is not None:
            elapsed += delay
            attempts += 1
        assert elapsed <= 4
        assert attempts < 50


class TestRetryAfter:
    @pytest.mark.parametrize(
        ("header", "seconds"),
        [("3", 3.0), (" 0.5 ", 0.5), ("0", 0.0), ("-4", 0.0), (None, None), ("", None)],
    )
    def test_delta_seconds(self, header: str | None, seconds: float | None) -> None:
        assert parse_retry_after(header) == seconds

    def test_http_date(self) -> None:
        now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
        assert parse_retry_after("Thu, 01 Jan 2026 12:00:07 GMT", now=now) == pytest.approx(7)

    def test_http_date_in_the_past_means_now(self) -> None:
        now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
        assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0

    @pytest.mark.parametrize("header", ["soon", "nan", "inf", "Thu, 99 Foo"])
    def test_garbage_is_ignored(self, header: str) -> None:
        assert parse_retry_after(header) is None

    def test_whole_seconds_for_our_callers(self) -> None:
        assert retry_after_seconds(None) == 5
        assert retry_after_seconds(0) == 1
        assert retry_after_seconds(2.1) == 3

    @pytest.mark.parametrize(("status", "retry"), [(429, True), (500, True), (503, True)])
    def test_retryable_statuses(self, status: int, retry: bool) -> None:
        assert is_retryable_status(status) is retry

    @pytest.mark.parametrize("status", [200, 201, 400, 401, 404, 409])
    def test_not_retryable_statuses(self, status: int) -> None:
        assert not is_retryable_status(status)


class TestRewriteUrl:
    @pytest.mark.parametrize("sub", ["api", "messaging", "numbers", "pricing", "trusthub"])
    def test_twilio_hosts_go_to_the_base_url(self, sub: str) -> None:
        url = f"https://{sub}.twilio.com/v1/Things/XX1?PageSize=5"
        assert rewrite_url(url, "http://127.0.0.1:9/") == (
            f"http://127.0.0.1:9/{sub}/v1/Things/XX1?PageSize=5"
        )

    def test_without_base_url_nothing_changes(self) -> None:
        url = "https://api.twilio.com/2010-04-01/Accounts.json"
        assert rewrite_url(url, None) == url

    def test_other_hosts_are_left_alone(self) -> None:
        for url in ("http://127.0.0.1:9/api/x", "https://api.twilio.com.evil.test/x"):
            assert rewrite_url(url, "http://emulator") == url


class TestErrorMap:
    @pytest.mark.parametrize(
        ("status", "code", "kind"),
        [
            (400, 21422, NumberUnavailable),
            (400, 21631, RegulatoryRejected),
            (400, 21649, RegulatoryRejected),
            (400, 21613, RegulatoryRejected),
            (400, 22205, RegulatoryRejected),
            (400, 22217, RegulatoryRejected),
            (400, 18012, RegulatoryRejected),
            (400, 18039, RegulatoryRejected),
            (400, 21601, InputRejected),
            (409, None, InputRejected),
            (404, 20404, NotFound),
            (404, None, NotFound),
            (429, 20429, ProviderUnavailable),
            (500, None, ProviderFailure),
            (503, 20503, ProviderUnavailable),
            (401, 20003, ProviderFailure),
        ],
    )
    def test_rest_exception(self, status: int, code: int | None, kind: type[ProviderError]) -> None:
        exc = TwilioRestException(status, "https://x", "Unable to create record: Nope", code)
        with pytest.raises(kind) as raised, map_twilio_errors("buy number"):
            raise exc
        assert type(raised.value) is kind
        assert raised.value.status == status
        assert raised.value.code == code
        assert raised.value.message == "Nope"
        assert raised.value.__cause__ is exc

    def test_code_repeating_the_status_is_no_code(self) -> None:
        # The SDK fills `code` with the HTTP status when Twilio's body has none.
        error = provider_error(status=500, code=500, message="boom")
        assert isinstance(error, ProviderFailure)
        assert error.code is None

    def test_rate_limit_carries_retry_after(self) -> None:
        exc = TwilioRestException(429, "https://x", "Unable to fetch record: Too many", 20429)
        with (
            pytest.raises(ProviderUnavailable) as raised,
            map_twilio_errors("x", retry_after=lambda: 7.2),
        ):
            raise exc
        assert raised.value.retry_after == 8

    def test_rfc9457_service_exception(self) -> None:
        exc = TwilioServiceException("about:blank", "Bad", 400, 21422, detail="Taken")
        with pytest.raises(NumberUnavailable, match="Taken"), map_twilio_errors("x"):
            raise exc

    @pytest.mark.parametrize(
        "exc",
        [
            requests.ConnectionError("refused"),
            requests.ReadTimeout("slow"),
            requests.exceptions.ChunkedEncodingError("cut"),
        ],
    )
    def test_transport_errors_mean_unavailable(self, exc: Exception) -> None:
        with pytest.raises(ProviderUnavailable) as raised, map_twilio_errors("x"):
            raise exc
        assert raised.value.retry_after == 5

    def test_provider_errors_pass_through(self) -> None:
        error = NotFound("gone", code=20404, status=404)
        with pytest.raises(NotFound) as raised, map_twilio_errors("x"):
            raise error
        assert raised.value is error


class TestPageErrors:
    """The SDK reports a failed list page as `TwilioException("Unable to fetch page", response)`."""

    def page_error(
        self, status: int, body: str, headers: dict[str, str] | None = None
    ) -> Exception:
        return TwilioException("Unable to fetch page", Response(status, body, headers or {}))

    def test_not_found(self) -> None:
        exc = self.page_error(404, '{"code": 20404, "message": "not found", "status": 404}')
        with pytest.raises(NotFound) as raised, map_twilio_errors("x"):
            raise exc
        assert (raised.value.code, raised.value.status, raised.value.message) == (
            20404,
            404,
            "not found",
        )

    def test_rate_limited_with_retry_after(self) -> None:
        exc = self.page_error(429, '{"code": 20429, "message": "slow down"}', {"Retry-After": "3"})
        with pytest.raises(ProviderUnavailable) as raised, map_twilio_errors("x"):
            raise exc
        assert raised.value.retry_after == 3

    def test_server_error_without_body(self) -> None:
        with pytest.raises(ProviderFailure, match="Twilio answered 502"), map_twilio_errors("x"):
            raise self.page_error(502, "<html>bad gateway</html>")

    def test_other_sdk_errors_are_failures(self) -> None:
        with pytest.raises(ProviderFailure), map_twilio_errors("x"):
            raise TwilioException("Page Records can not be deserialized")
