"""Settings, read from `HANDSUP_*` environment variables."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from server import ROOT

PLACEHOLDER_SECRETS = frozenset({"", "changethis", "change-me", "secret", "dev"})
MIN_SECRET_LENGTH = 32


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
    https_cookies: bool = False
    forwarded_allow_ips: str = Field(
        default="127.0.0.1,::1",
        description="Proxies whose X-Forwarded-* headers are trusted (comma-separated, or *)",
    )

    # The write-behind queue: how long the writer gathers responses before one commit, and how many at most.
    commit_interval_ms: int = 20
    commit_batch_limit: int = 2000
    write_queue_limit: int = 20000
    # Pushes to presenter and projector views are coalesced to at most one per interval per session.
    push_interval_ms: int = 100
    # Messages waiting for one client; a client that falls further behind is dropped and resyncs on reconnect.
    client_queue_limit: int = 64
    backplane_queue_limit: int = 50000
    websocket_message_limit: int = 16 * 1024
    form_field_limit: int = 2000
    room_idle_seconds: float = 120.0

    @field_validator("decks_dir", mode="before")
    @classmethod
    def _no_decks_dir(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else None

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


class ConfigError(RuntimeError):
    """A setting the server cannot start with; the message says what to do."""


def get_settings() -> Settings:
    """Settings from the environment (a fresh read: tests and the CLI build their own)."""
    return Settings()
