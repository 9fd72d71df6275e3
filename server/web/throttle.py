"""Throttles: a bounded token bucket per key, a count of open connections per key, and the two policies built on
them (sign-in attempts, join-code guesses).

Pure and clock-injected, so tests move time by hand. In-process: with several worker processes each keeps its own
counts, so every budget here is per worker (four workers allow four times as much).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from starlette.requests import HTTPConnection

from activities.i18n import N_, _
from server.config import Settings

K = TypeVar("K", bound=Hashable)
Clock = Callable[[], float]

MINUTE = 60.0
# What a limiter shrinks to once it passes its cap, as a share of the cap: the scan is paid once per many new keys.
SHRINK_TO = 0.75


@dataclass(frozen=True)
class Rate:
    """`count` per `seconds` in the long run, and at most `burst` at once (by default `count`)."""

    count: int
    seconds: float
    burst: int | None = None

    @property
    def capacity(self) -> float:
        return float(self.count if self.burst is None else self.burst)

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


class RateLimiter(Generic[K]):
    """A token bucket per key: a key may take `rate.capacity` tokens at once, then `rate.count` per `rate.seconds`.

    Memory is bounded. A bucket that has filled up again is forgotten (it holds nothing a new one would not), and
    past `max_keys` buckets the least recently used are forgotten too, down to three quarters of the cap. Forgetting
    a key forgives it: a flood of new keys (addresses, emails) can let some old key start afresh, never lock
    everyone out. A budget that must hold whatever comes (the global one) is a single key, so never forgotten.
    """

    def __init__(self, rate: Rate, *, max_keys: int = 100_000, clock: Clock = time.monotonic) -> None:
        if rate.count < 1 or rate.capacity < 1 or rate.seconds <= 0:
            raise ValueError(f"a rate needs at least one token per positive period: {rate}")
        self.rate = rate
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: dict[K, tuple[float, float]] = {}  # key -> (tokens, as of when); least recently used first

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: K) -> bool:
        """Take one of `key`'s tokens; False, and nothing taken, when it has none."""
        now = self._clock()
        tokens = self._tokens(key, now)
        if tokens < 1:
            self._store(key, tokens, now)
            return False
        self._store(key, tokens - 1, now)
        return True

    def give_back(self, key: K) -> None:
        """Return a token taken for something that turned out not to count (a right code, a good password)."""
        now = self._clock()
        self._store(key, self._tokens(key, now) + 1, now)

    def wait(self, key: K) -> float:
        """Seconds until `key` has a token again (0 when it has one now)."""
        tokens = self._tokens(key, self._clock())
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate.per_second

    def forget(self, key: K) -> None:
        """Start `key` afresh, with a full bucket."""
        self._buckets.pop(key, None)

    def _tokens(self, key: K, now: float) -> float:
        capacity = self.rate.capacity
        tokens, at = self._buckets.get(key, (capacity, now))
        return min(capacity, tokens + max(0.0, now - at) * self.rate.per_second)

    def _store(self, key: K, tokens: float, now: float) -> None:
        self._buckets.pop(key, None)  # re-inserted last: the dict's order is least recently used first
        if tokens >= self.rate.capacity:
            return
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self.max_keys:
            self._shrink(now)

    def _shrink(self, now: float) -> None:
        self._buckets = {
            key: bucket for key, bucket in self._buckets.items() if self._tokens(key, now) < self.rate.capacity
        }
        keep = max(1, int(self.max_keys * SHRINK_TO))  # the key just stored stays
        for key in list(self._buckets)[: max(0, len(self._buckets) - keep)]:
            del self._buckets[key]


class ConnectionCounter(Generic[K]):
    """Open connections per key, at most `limit` each. Keys with none open are dropped: memory follows the open
    connections, which are bounded by the server's own limits."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[K, int] = {}

    def acquire(self, key: K) -> bool:
        """Count one more connection of `key`; False, and nothing counted, when it has `limit` open already."""
        count = self._open.get(key, 0)
        if count >= self.limit:
            return False
        self._open[key] = count + 1
        return True

    def release(self, key: K) -> None:
        """One connection of `key` has closed."""
        count = self._open.get(key, 0) - 1
        if count > 0:
            self._open[key] = count
        else:
            self._open.pop(key, None)

    def count(self, key: K) -> int:
        return self._open.get(key, 0)

    def __len__(self) -> int:
        return len(self._open)


class Throttled(Exception):
    """Refused for now, for `wait` seconds more; the message is for people."""

    def __init__(self, message: str, wait: float) -> None:
        super().__init__(message)
        self.wait = wait

    @property
    def retry_after(self) -> str:
        """The Retry-After header: whole seconds, at least one."""
        return str(max(1, math.ceil(self.wait)))


def in_minutes(seconds: float) -> str:
    """'3 minutes', '1 minute': a wait as people say it, rounded up."""
    minutes = max(1, math.ceil(seconds / MINUTE))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def address_of(connection: HTTPConnection) -> str:
    """Who a request or socket comes from, as a throttling key.

    The client's IP as Starlette sees it: uvicorn has already put a trusted proxy's forwarded address in its place.
    An IPv6 address counts by its /64 network, since one home or phone is given a whole /64 and could otherwise
    bring a fresh address to every guess.
    """
    host = connection.client.host if connection.client is not None else ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host  # not an IP address (a unix socket, a test client)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class LoginThrottle:
    """Failed sign-ins per account and per address. An attempt takes a token from both before the password is
    checked (so a hundred attempts sent at once cost a hundred tokens), and a success gives them back: it wipes the
    account's failures and returns the address's token."""

    def __init__(self, settings: Settings, clock: Clock = time.monotonic) -> None:
        window, keys = settings.login_window_seconds, settings.throttle_keys_limit
        self.accounts: RateLimiter[str] = RateLimiter(
            Rate(settings.login_attempts_per_account, window), max_keys=keys, clock=clock
        )
        self.addresses: RateLimiter[str] = RateLimiter(
            Rate(settings.login_attempts_per_address, window), max_keys=keys, clock=clock
        )

    def attempt(self, account: str | None, address: str) -> None:
        """Count an attempt to sign in (as `account`, when there is one); Throttled when either is out of tries."""
        if account is not None and not self.accounts.take(account):
            wait = self.accounts.wait(account)
            raise Throttled(self._message(wait), wait)
        if not self.addresses.take(address):
            if account is not None:
                self.accounts.give_back(account)
            wait = self.addresses.wait(address)
            raise Throttled(self._message(wait), wait)

    def succeeded(self, account: str | None, address: str) -> None:
        """The attempt was right: it does not count."""
        if account is not None:
            self.accounts.forget(account)
        self.addresses.give_back(address)

    @staticmethod
    def _message(wait: float) -> str:
        return f"Too many sign-in attempts; try again in {in_minutes(wait)}."


TOO_MANY_FROM_HERE = N_("Too many codes tried from this network; wait a minute and try again.")
TOO_MANY_EVERYWHERE = N_("Too many wrong codes are being tried on this server just now; wait a minute and try again.")
EVERYONE = "*"


class CodeGuard:
    """Join-code guesses: a code that is not live counts against the address and against everyone.

    A lookup takes a token from both before it is made, and a right code gives them back, so only wrong codes count
    (a room of phones behind one venue NAT typing the right code never uses the budget up) and guesses sent all at
    once are counted all the same. Past either budget every code is refused, the right one too: a guesser who was
    still told when they hit would be slowed down by nothing.
    """

    def __init__(self, settings: Settings, clock: Clock = time.monotonic) -> None:
        self.addresses: RateLimiter[str] = RateLimiter(
            Rate(settings.join_misses_per_address, MINUTE), max_keys=settings.throttle_keys_limit, clock=clock
        )
        self.everyone: RateLimiter[str] = RateLimiter(Rate(settings.join_misses_global, MINUTE), clock=clock)

    def attempt(self, address: str) -> None:
        """Count a lookup of a code from `address` as a miss until it is known to be right; Throttled when past
        either budget."""
        if not self.everyone.take(EVERYONE):
            raise Throttled(_(TOO_MANY_EVERYWHERE), self.everyone.wait(EVERYONE))
        if not self.addresses.take(address):
            self.everyone.give_back(EVERYONE)
            raise Throttled(_(TOO_MANY_FROM_HERE), self.addresses.wait(address))

    def hit(self, address: str) -> None:
        """The code was live: the lookup does not count."""
        self.addresses.give_back(address)
        self.everyone.give_back(EVERYONE)


class Throttles:
    """The throttles of one server process."""

    def __init__(self, settings: Settings, clock: Clock = time.monotonic) -> None:
        self.login = LoginThrottle(settings, clock)
        self.codes = CodeGuard(settings, clock)
        self.connections: ConnectionCounter[str] = ConnectionCounter(settings.connections_per_address)
