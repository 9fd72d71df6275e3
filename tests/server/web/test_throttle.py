"""Throttles: token buckets per key, open connections per key, sign-in and join-code budgets; time moved by hand."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import HTTPConnection

from server.config import Settings
from server.web.throttle import (
    TOO_MANY_EVERYWHERE,
    TOO_MANY_FROM_HERE,
    CodeGuard,
    ConnectionCounter,
    LoginThrottle,
    Rate,
    RateLimiter,
    Throttled,
    address_of,
    in_minutes,
)


class Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def limiter(clock: Clock, rate: Rate, max_keys: int = 100) -> RateLimiter[Any]:
    return RateLimiter(rate, max_keys=max_keys, clock=clock)


# --- RateLimiter ------------------------------------------------------------------------------------------------


def test_a_burst_then_the_rate(clock: Clock) -> None:
    limit = limiter(clock, Rate(60, 60, burst=3))  # three at once, then one a second
    assert [limit.take("phone") for _ in range(4)] == [True, True, True, False]
    clock.advance(0.5)
    assert not limit.take("phone")
    clock.advance(0.5)
    assert limit.take("phone")
    assert not limit.take("phone")


def test_each_key_has_its_own_bucket(clock: Clock) -> None:
    limit = limiter(clock, Rate(2, 60))
    assert [limit.take("a"), limit.take("a"), limit.take("a")] == [True, True, False]
    assert limit.take("b")


def test_the_burst_defaults_to_the_count_and_never_grows_past_it(clock: Clock) -> None:
    limit = limiter(clock, Rate(5, 60))
    clock.advance(3600)  # an idle hour saves nothing up
    assert sum(limit.take("k") for _ in range(10)) == 5


def test_wait_says_when_the_next_token_comes(clock: Clock) -> None:
    limit = limiter(clock, Rate(10, 600))  # one every minute
    assert limit.wait("k") == 0
    for _ in range(10):
        limit.take("k")
    assert limit.wait("k") == pytest.approx(60)
    clock.advance(45)
    assert limit.wait("k") == pytest.approx(15)
    clock.advance(15)
    assert limit.wait("k") == 0 and limit.take("k")


def test_a_token_given_back_can_be_taken_again_but_never_past_the_burst(clock: Clock) -> None:
    limit = limiter(clock, Rate(2, 60))
    assert limit.take("k") and limit.take("k") and not limit.take("k")
    limit.give_back("k")
    assert limit.take("k") and not limit.take("k")
    limit.give_back("fresh")
    limit.give_back("fresh")
    assert sum(limit.take("fresh") for _ in range(5)) == 2


def test_forget_starts_a_key_afresh(clock: Clock) -> None:
    limit = limiter(clock, Rate(2, 60))
    limit.take("k"), limit.take("k")
    limit.forget("k")
    assert limit.take("k") and limit.take("k")


def test_full_buckets_are_not_kept(clock: Clock) -> None:
    limit = limiter(clock, Rate(60, 60, burst=1))
    limit.take("k")
    assert len(limit) == 1
    limit.give_back("k")
    assert len(limit) == 0  # back to full: nothing to remember
    assert not limit.wait("never seen") and len(limit) == 0  # asking stores nothing


def test_past_the_cap_refilled_buckets_go_first(clock: Clock) -> None:
    limit = limiter(clock, Rate(1, 10), max_keys=4)
    for key in range(4):
        limit.take(key)
    clock.advance(10)  # all four have refilled, but nobody has come back to say so
    limit.take("new")
    assert len(limit) == 1 and not limit.take("new")


def test_past_the_cap_the_longest_quiet_keys_are_forgotten_and_start_afresh(clock: Clock) -> None:
    limit = limiter(clock, Rate(1, 3600), max_keys=4)
    for key in range(4):
        assert limit.take(key)
    assert not limit.take(0)  # key 0 is seen again: now the most recent
    limit.take(4)  # the fifth key: over the cap, shrink to three quarters
    assert len(limit) == 3
    assert not limit.take(0) and not limit.take(4) and not limit.take(3)  # kept: still out of tokens
    assert limit.take(1) and limit.take(2)  # forgotten: forgiven, never the whole table refused


def test_a_rate_without_a_token_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one token"):
        RateLimiter(Rate(0, 60))


# --- ConnectionCounter ------------------------------------------------------------------------------------------


def test_connections_are_counted_per_key_up_to_the_limit() -> None:
    sockets: ConnectionCounter[str] = ConnectionCounter(limit=2)
    assert sockets.acquire("venue") and sockets.acquire("venue")
    assert not sockets.acquire("venue")
    assert sockets.acquire("home")
    sockets.release("venue")
    assert sockets.count("venue") == 1 and sockets.acquire("venue")


def test_a_key_with_no_connection_open_is_dropped() -> None:
    sockets: ConnectionCounter[str] = ConnectionCounter(limit=5)
    sockets.acquire("a"), sockets.acquire("a")
    sockets.release("a"), sockets.release("a"), sockets.release("a")  # one release too many changes nothing
    assert len(sockets) == 0 and sockets.count("a") == 0


# --- addresses ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("testclient", "testclient"),
    ],
)
def test_an_address_is_the_client_ip_and_ipv6_counts_by_its_64(host: str, key: str) -> None:
    scope = {"type": "http", "client": (host, 5000), "headers": []}
    assert address_of(HTTPConnection(scope)) == key


def test_a_request_without_a_client_has_an_empty_address() -> None:
    assert address_of(HTTPConnection({"type": "http", "client": None, "headers": []})) == ""


# --- sign-in ----------------------------------------------------------------------------------------------------


def settings(**limits: Any) -> Settings:
    return Settings(env="test", **limits)


def test_in_minutes_rounds_up() -> None:
    assert [in_minutes(s) for s in (1, 60, 61, 900)] == ["1 minute", "1 minute", "2 minutes", "15 minutes"]


def test_sign_in_is_throttled_per_account_after_its_failures(clock: Clock) -> None:
    login = LoginThrottle(settings(login_attempts_per_account=3, login_window_seconds=900), clock)
    for _ in range(3):
        login.attempt("ada@example.org", "203.0.113.9")
    with pytest.raises(Throttled, match=r"^Too many sign-in attempts; try again in 5 minutes\.$") as throttled:
        login.attempt("ada@example.org", "203.0.113.10")  # another address changes nothing
    assert throttled.value.retry_after == "300"
    login.attempt("bob@example.org", "203.0.113.9")  # another account from the same address still may
    clock.advance(300)
    login.attempt("ada@example.org", "203.0.113.9")


def test_sign_in_is_throttled_per_address_across_accounts(clock: Clock) -> None:
    login = LoginThrottle(settings(login_attempts_per_address=4), clock)
    for n in range(4):
        login.attempt(f"person{n}@example.org", "203.0.113.9")
    with pytest.raises(Throttled, match="Too many sign-in attempts"):
        login.attempt("someone@example.org", "203.0.113.9")
    login.attempt("someone@example.org", "198.51.100.1")
    # The refused attempt took nothing from the account: it has all its tries from elsewhere.
    assert login.accounts.wait("someone@example.org") == 0


def sign_ins(login: LoginThrottle, outcomes: str) -> None:
    """Attempts by ada from one address: `f` failed, `s` succeeded."""
    for outcome in outcomes:
        login.attempt("ada@example.org", "203.0.113.9")
        if outcome == "s":
            login.succeeded("ada@example.org", "203.0.113.9")


def test_a_success_wipes_the_accounts_failures(clock: Clock) -> None:
    login = LoginThrottle(settings(login_attempts_per_account=3, login_attempts_per_address=100), clock)
    sign_ins(login, "ffsfff")  # three failures after the success: all allowed
    with pytest.raises(Throttled):
        sign_ins(login, "f")


def test_a_success_does_not_count_for_the_address(clock: Clock) -> None:
    login = LoginThrottle(settings(login_attempts_per_account=100, login_attempts_per_address=3), clock)
    sign_ins(login, "ffsf")
    with pytest.raises(Throttled):
        sign_ins(login, "f")


# --- join codes --------------------------------------------------------------------------------------------------


def test_wrong_codes_count_per_address_and_right_ones_never_do(clock: Clock) -> None:
    guard = CodeGuard(settings(join_misses_per_address=5, join_misses_global=1000), clock)
    for _ in range(300):  # a room of phones behind one NAT, every one typing the right code
        guard.attempt("venue")
        guard.hit("venue")
    for _ in range(5):
        guard.attempt("venue")  # five typos: not hits
    with pytest.raises(Throttled) as throttled:
        guard.attempt("venue")
    assert str(throttled.value) == TOO_MANY_FROM_HERE and throttled.value.retry_after == "12"
    guard.attempt("elsewhere")
    clock.advance(12)
    guard.attempt("venue")


def test_wrong_codes_from_everyone_share_one_budget(clock: Clock) -> None:
    guard = CodeGuard(settings(join_misses_per_address=5, join_misses_global=10), clock)
    for n in range(10):
        guard.attempt(f"198.51.100.{n}")
    with pytest.raises(Throttled) as throttled:
        guard.attempt("203.0.113.200")
    assert str(throttled.value) == TOO_MANY_EVERYWHERE


def test_an_address_past_its_budget_takes_nothing_from_everyones(clock: Clock) -> None:
    guard = CodeGuard(settings(join_misses_per_address=2, join_misses_global=5), clock)
    for _ in range(2):
        guard.attempt("guesser")
    for _ in range(20):
        with pytest.raises(Throttled):
            guard.attempt("guesser")
    for n in range(3):
        guard.attempt(f"phone {n}")
