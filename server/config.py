"""Settings, read from `HANDSUP_*` environment variables."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from server import ROOT
from server.times import DEFAULT_ZONE, MAX_ZONE_NAME, check_zone

PLACEHOLDER_SECRETS = frozenset({"", "changethis", "change-me", "secret", "dev"})
MIN_SECRET_LENGTH = 32


class OidcProvider(BaseModel):
    """One OpenID Connect provider (HANDSUP_OIDC_PROVIDERS is a JSON list of these)."""

    # In the provider's URLs on this server (/login/oidc/<name>/callback is the redirect URI to register).
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    # On its button: "Sign in with <title>".
    title: str = Field(min_length=1, max_length=60)
    issuer: str = Field(min_length=8, max_length=255)
    client_id: str = Field(min_length=1, max_length=255)
    client_secret: str = Field(min_length=1, max_length=1024)
    scopes: str = Field(default="openid email profile", max_length=255)
    # Email domains let in at once (a verified email only), each with the role its new accounts get.
    domains: dict[str, Literal["presenter", "organizer", "admin"]] = Field(default_factory=dict, max_length=200)
    # Anyone else: true, their account is created waiting for an administrator's approval; false, refused.
    approval: bool = False
    # Take this provider's emails as verified even without an `email_verified` claim: only for a directory you run
    # whose addresses its administrators assign (a single Microsoft Entra tenant sends no such claim).
    emails_verified: bool = False

    @field_validator("issuer")
    @classmethod
    def _check_issuer(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(
                f"an issuer is an https:// (or http://) address without ?query or #fragment (got {value!r})"
            )
        return value.strip()  # exactly as the provider writes it: ID tokens' `iss` is compared with it as it is

    @field_validator("domains")
    @classmethod
    def _lower_domains(cls, value: dict[str, str]) -> dict[str, str]:
        return {domain.strip().lower().lstrip("@"): role for domain, role in value.items()}


class Settings(BaseSettings):
    """Every tunable of a Handsup server; each limit has a name and a sane default."""

    model_config = SettingsConfigDict(env_prefix="HANDSUP_", extra="ignore")

    env: Literal["development", "production", "test"] = "production"
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = Field(
        default=None, description="Base URL participants use (join links, QR codes); defaults to the request's."
    )
    data_dir: Path = Path("data")
    database_url: str | None = None
    backplane_url: str = "memory://"
    secret_key: str | None = None
    decks_dir: Path | None = ROOT / "examples" / "decks"
    # Cookies marked Secure: true or false as set; unset, they follow public_url (Secure when it is https://).
    https_cookies: bool | None = None
    # API tokens an account may hold at once (revoked ones do not count): a leak stays a short list to check.
    api_tokens_per_account: int = Field(default=20, ge=1)
    forwarded_allow_ips: str = Field(
        default="127.0.0.1,::1",
        description="Proxies whose X-Forwarded-* headers are trusted (comma-separated, or *)",
    )
    # GET /metrics: with a token, only with `Authorization: Bearer <token>`; without, only from this machine.
    metrics_token: str | None = Field(default=None, min_length=16)
    # Log lines: `text` for a person at a terminal, `json` (one object per line) for a log shipper.
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    # The write-behind queue: how long the writer gathers responses before one commit, and how many at most.
    commit_interval_ms: int = 20
    commit_batch_limit: int = 2000
    write_queue_limit: int = 20000
    # The join gate (server/live/gate.py): past this lateness of the event loop (with a crowd joining), or this many
    # joins under way, a phone that has not joined yet is asked to come back in a moment ("the room is filling up",
    # 503 with Retry-After).
    join_lag_limit_ms: int = Field(default=300, ge=10)
    joins_in_flight_limit: int = Field(default=500, ge=1)
    # ... or, when set, past this many connections waiting for the worker to accept them (served directly, on
    # Linux). Off by default: the kernel's queue holds a room in order (the server asks for 4,096), and measured here
    # (docs/benchmarks.md, "The join path") deferring at its door made 10,000 phones at 1,000/s join later, not sooner.
    join_accept_queue_limit: int | None = Field(default=None, ge=1)
    # Pushes to presenter and projector views are coalesced to at most one per interval per session.
    push_interval_ms: int = 100
    # Messages waiting for one client; a client that falls further behind is dropped and resyncs on reconnect.
    client_queue_limit: int = 64
    backplane_queue_limit: int = 50000
    # With Redis: how long one publish may wait before it is given up (the votes are stored and acknowledged
    # already; rooms of other workers resync from the database). While Redis is known to be down, none waits.
    backplane_publish_timeout_ms: int = Field(default=500, ge=10)
    websocket_message_limit: int = 16 * 1024
    # Event streams (the fallback where websockets are blocked, server/live/sse.py): a comment line after this many
    # quiet seconds keeps proxies from timing the stream out; browsers reconnect a dropped stream after retry_ms.
    event_stream_heartbeat_seconds: float = Field(default=15.0, gt=0)
    event_stream_retry_ms: int = Field(default=3000, ge=100)
    # Without JavaScript, a participant page that only waits (the lobby, voting closed) reloads itself this often.
    no_script_refresh_seconds: int = Field(default=15, ge=1)
    # On stop, how long uvicorn waits for requests still running before it cancels them.
    shutdown_grace_seconds: int = Field(default=5, ge=0)
    form_field_limit: int = 2000
    room_idle_seconds: float = 120.0
    # Garbage collection (server/collector.py): long-lived objects are frozen out of automatic collections this often
    # (0 leaves CPython's collector as it is); a full sweep runs after this long with no answer and no socket change,
    # at most once per gc_sweep_seconds.
    gc_freeze_seconds: float = Field(default=10.0, ge=0)
    gc_sweep_quiet_seconds: float = Field(default=60.0, gt=0)
    gc_sweep_seconds: float = Field(default=900.0, gt=0)
    # CSP violation reports (server/web/headers.py): the largest body taken, and log lines per minute (all are counted).
    csp_report_bytes: int = Field(default=16 * 1024, ge=1024)
    csp_reports_logged_per_minute: int = Field(default=60, ge=1)
    # Uploaded images (server/media.py): the largest file taken, and the most pixels one may declare (decompression
    # bombs are refused on their header, before a pixel is decoded); the in-process cache of images served.
    media_max_bytes: int = Field(default=20_000_000, ge=1024)
    media_max_pixels: int = Field(default=40_000_000, ge=1)
    media_cache_bytes: int = Field(default=32 * 1024 * 1024, ge=0)
    # How often each worker removes images no deck refers to any more (uploaded over a day ago); 0 never does.
    media_sweep_seconds: float = Field(default=3600.0, ge=0)

    # Throttles and named limits (server/web/throttle.py; docs/security/limits.md). Budgets are per worker process.
    # Sign-in: failed attempts per account and per address within the window; past either, 429 without a check.
    login_attempts_per_account: int = Field(default=10, ge=1)
    login_attempts_per_address: int = Field(default=50, ge=1)
    login_window_seconds: float = Field(default=900.0, gt=0)
    # Join codes that are not live, per minute, from one address and from everyone (right codes never count).
    join_misses_per_address: int = Field(default=30, ge=1)
    join_misses_global: int = Field(default=300, ge=1)
    # Digits of new join codes: more when many sessions are live at once (codes already given keep theirs).
    join_code_digits: int = Field(default=6, ge=6, le=9)
    # Per participant: entries one answer may hold (questions, words), answers and reactions per minute.
    entries_per_participant: int = Field(default=20, ge=1)
    submissions_per_minute: int = Field(default=30, ge=1)
    reactions_per_minute: int = Field(default=60, ge=1)
    reaction_burst: int = Field(default=3, ge=1)
    # Open websockets from one address: high, since a venue's NAT puts a whole room behind one.
    connections_per_address: int = Field(default=1000, ge=1)
    # Keys (addresses, accounts, participants) one rate limiter remembers; past it, the longest quiet are forgotten.
    throttle_keys_limit: int = Field(default=100_000, ge=1)

    # Slide import (server/slideimport.py): the largest PDF or PowerPoint file taken, its most pages (counted before
    # any is drawn), the wall-clock time of one import, and imports running at once in one process (each account
    # runs one at a time).
    import_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    import_max_pages: int = Field(default=200, ge=1)
    import_seconds: float = Field(default=120.0, gt=0)
    import_at_once: int = Field(default=2, ge=1)

    # Local times people read (dashboards, reports, CSVs, workbooks) of sessions without a cohort, whose own zone
    # (Cohort.time_zone) says it otherwise: an IANA name such as America/Phoenix (server/times.py).
    time_zone: str = Field(default=DEFAULT_ZONE, max_length=MAX_ZONE_NAME)

    # --- Single sign-on (OpenID Connect; server/accounts/oidc.py, docs/security.md "Single sign-on") ---------------
    # The providers people may sign in with, as JSON: each gets its own button on /login.
    oidc_providers: list[OidcProvider] = Field(default_factory=list, max_length=10)
    # Link a provider's sign-in to an existing account with the same email when the provider says the email is
    # verified (email_verified: true). Off: only an administrator links (the people page).
    oidc_link_verified_email: bool = False
    # How far the provider's clock may be off ours when ID tokens' times (exp, iat) are checked.
    oidc_clock_skew_seconds: int = Field(default=120, ge=0, le=600)
    # How long one call to a provider (discovery, keys, token) may take, and how long its discovery document and
    # keys are kept (a token signed with a key not known yet fetches the keys again, at most once per
    # oidc_keys_refetch_seconds).
    oidc_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    oidc_cache_seconds: float = Field(default=3600.0, ge=0)
    oidc_keys_refetch_seconds: float = Field(default=10.0, ge=0)
    # How long a sign-in started at /login may take at the provider before its answer is refused.
    oidc_sign_in_seconds: int = Field(default=600, ge=30)
    # Sign-in with an email and a password (/login). Off: only the providers above; POST /login is refused.
    password_sign_in: bool = True

    # Webhooks (server/webhooks.py; docs/api.md "Webhooks"). Subscriptions per account; events waiting for delivery
    # in one worker (past it, new ones are dropped and counted: a vote never waits); deliveries in flight at once;
    # one attempt's timeout; attempts per delivery and the backoff between them (doubling from base, capped, with
    # jitter); failed deliveries in a row that pause a subscription; how long responses of one session are gathered
    # into one response.stored event, and the most one event carries; deliveries kept per subscription.
    webhooks_per_account: int = Field(default=10, ge=1)
    webhook_queue_limit: int = Field(default=10_000, ge=1)
    webhook_concurrency: int = Field(default=8, ge=1)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_attempts: int = Field(default=5, ge=1, le=20)
    webhook_backoff_seconds: float = Field(default=2.0, gt=0)
    webhook_backoff_cap_seconds: float = Field(default=300.0, gt=0)
    webhook_failures_to_pause: int = Field(default=5, ge=1)
    webhook_batch_seconds: float = Field(default=1.0, gt=0)
    webhook_batch_limit: int = Field(default=500, ge=1)
    webhook_deliveries_kept: int = Field(default=200, ge=10)
    # Development and tests only: lets webhooks target private, loopback and link-local addresses, and http:// on
    # loopback. Off, such targets are refused when a webhook is created and again at each delivery (SSRF).
    webhooks_allow_local: bool = False
    # Certificates (a PEM file) trusted for webhook receivers besides the public authorities, e.g. an institution's
    # own certificate authority.
    webhook_ca_file: Path | None = None

    @field_validator("decks_dir", mode="before")
    @classmethod
    def _no_decks_dir(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("webhook_ca_file", mode="before")
    @classmethod
    def _no_webhook_ca_file(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _no_metrics_token(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_zone(value)

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        problem = public_url_problem(value)
        if problem:
            raise ValueError(problem)
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _distinct_providers(self) -> Settings:
        names = [provider.name for provider in self.oidc_providers]
        if len(names) != len(set(names)):
            raise ValueError(f"HANDSUP_OIDC_PROVIDERS: each provider needs a name of its own (got {names})")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        key = self.secret_key
        if (
            self.env == "production"
            and key is not None
            and (key.strip().lower() in PLACEHOLDER_SECRETS or len(key) < MIN_SECRET_LENGTH)
        ):
            raise ValueError(
                f"HANDSUP_SECRET_KEY is a placeholder or shorter than {MIN_SECRET_LENGTH} characters; "
                'generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        return self

    @property
    def secure_cookies(self) -> bool:
        """Whether the session and participant cookies carry Secure (sent back over HTTPS only)."""
        if self.https_cookies is not None:
            return self.https_cookies
        return bool(self.public_url and self.public_url.lower().startswith("https://"))

    @cached_property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy async URL: the configured one, or a SQLite file in the data folder."""
        url = self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'handsup.db'}"
        for plain, driver in (("sqlite://", "sqlite+aiosqlite://"), ("postgresql://", "postgresql+asyncpg://")):
            if url.startswith(plain):
                url = driver + url[len(plain) :]
        return url

    @cached_property
    def resolved_secret_key(self) -> str:
        """The signing key: the configured one; outside production, one kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        if self.env == "production":
            raise ConfigError(
                "HANDSUP_SECRET_KEY is not set. A production server needs its own secret; generate one with: "
                'python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            # Created private: never readable by others, not even for a moment.
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
                out.write(secrets.token_urlsafe(48))
        return path.read_text().strip()


def public_url_problem(value: str) -> str | None:
    """What is wrong with a public URL (HANDSUP_PUBLIC_URL, `serve --public-url`), or None: phones open it, so it is
    an http:// or https:// address with a host and nothing a join link could not carry (a query, a fragment, a user)."""
    wanted = "must be the http:// or https:// address phones open, such as http://192.168.1.20:8000"
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018  (reading it checks it: a port that is not a number raises ValueError)
    except ValueError:
        return f"{wanted} (got {value!r})"
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return f"{wanted} (got {value!r})"
    if parts.query or parts.fragment or parts.username is not None:
        return f"{wanted}, without ?query, #fragment or user@ (got {value!r})"
    return None


class ConfigError(RuntimeError):
    """A setting the server cannot start with; the message says what to do."""


def get_settings() -> Settings:
    """Settings from the environment (a fresh read: tests and the CLI build their own)."""
    return Settings()
