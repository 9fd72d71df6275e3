"""Settings from HANDSUP_* variables: the secret-key guard, the generated development key, the database URL."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from server.app import create_app
from server.cli import main
from server.config import MIN_SECRET_LENGTH, ConfigError, Settings, get_settings

STRONG = "k" * MIN_SECRET_LENGTH


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from no HANDSUP_* variables, whatever the shell running the suite has."""
    for name in list(os.environ):
        if name.startswith("HANDSUP_"):
            monkeypatch.delenv(name)


# --- the secret key -----------------------------------------------------------------------------------------------


def test_settings_default_to_production() -> None:
    assert Settings().env == "production"


@pytest.mark.parametrize("placeholder", ["changethis", "change-me", "secret", "dev", "CHANGETHIS", "  secret  ", ""])
def test_production_refuses_a_placeholder_secret_key(placeholder: str) -> None:
    with pytest.raises(ValidationError, match="HANDSUP_SECRET_KEY is a placeholder"):
        Settings(env="production", secret_key=placeholder)


def test_production_refuses_a_short_secret_key() -> None:
    with pytest.raises(ValidationError, match=f"shorter than {MIN_SECRET_LENGTH} characters"):
        Settings(env="production", secret_key="k" * (MIN_SECRET_LENGTH - 1))


def test_production_accepts_a_long_enough_secret_key() -> None:
    assert Settings(env="production", secret_key=STRONG).resolved_secret_key == STRONG


def test_production_refuses_a_placeholder_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDSUP_SECRET_KEY", "changethis")
    with pytest.raises(ValidationError, match="token_urlsafe"):
        get_settings()


def test_production_without_a_secret_key_refuses_to_run(tmp_path: Path) -> None:
    settings = Settings(env="production", data_dir=tmp_path)
    with pytest.raises(ConfigError, match="HANDSUP_SECRET_KEY is not set"):
        create_app(settings)
    assert not (tmp_path / "secret.key").exists()


def test_serve_without_a_secret_key_in_production_says_why_and_exits(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HANDSUP_DATA_DIR", str(tmp_path))
    assert main(["serve"]) == 2
    assert capsys.readouterr().err.startswith("handsup: HANDSUP_SECRET_KEY is not set.")


def test_serve_with_a_placeholder_secret_key_says_why_and_exits(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HANDSUP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HANDSUP_SECRET_KEY", "secret")
    assert main(["serve"]) == 2
    assert "HANDSUP_SECRET_KEY is a placeholder" in capsys.readouterr().err


@pytest.mark.parametrize("env", ["development", "test"])
def test_outside_production_a_placeholder_key_is_allowed(env: str) -> None:
    assert Settings(env=env, secret_key="dev").resolved_secret_key == "dev"  # type: ignore[arg-type]


def test_development_generates_a_key_in_the_data_folder_readable_only_by_its_owner(tmp_path: Path) -> None:
    data = tmp_path / "data"
    key = Settings(env="development", data_dir=data).resolved_secret_key
    path = data / "secret.key"
    assert path.read_text().strip() == key
    assert len(key) >= MIN_SECRET_LENGTH
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_development_keeps_the_same_key_across_restarts(tmp_path: Path) -> None:
    first = Settings(env="development", data_dir=tmp_path).resolved_secret_key
    again = Settings(env="development", data_dir=tmp_path).resolved_secret_key
    assert first == again


def test_development_keys_differ_between_data_folders(tmp_path: Path) -> None:
    one = Settings(env="development", data_dir=tmp_path / "one").resolved_secret_key
    two = Settings(env="development", data_dir=tmp_path / "two").resolved_secret_key
    assert one != two


def test_a_configured_key_wins_over_the_generated_one(tmp_path: Path) -> None:
    assert Settings(env="development", data_dir=tmp_path, secret_key=STRONG).resolved_secret_key == STRONG
    assert not (tmp_path / "secret.key").exists()


# --- the database URL ---------------------------------------------------------------------------------------------


def test_database_defaults_to_sqlite_in_the_data_folder(tmp_path: Path) -> None:
    settings = Settings(env="test", data_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path / 'handsup.db'}"


def test_database_default_follows_a_relative_data_folder() -> None:
    assert Settings(env="test").resolved_database_url == "sqlite+aiosqlite:///data/handsup.db"


def test_database_plain_sqlite_url_gets_the_async_driver() -> None:
    settings = Settings(env="test", database_url="sqlite:////var/lib/handsup/h.db")
    assert settings.resolved_database_url == "sqlite+aiosqlite:////var/lib/handsup/h.db"


def test_database_plain_postgresql_url_gets_the_asyncpg_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDSUP_DATABASE_URL", "postgresql://handsup:pw@db:5432/handsup")
    assert get_settings().resolved_database_url == "postgresql+asyncpg://handsup:pw@db:5432/handsup"


@pytest.mark.parametrize(
    "url", ["postgresql+asyncpg://u@db/handsup", "sqlite+aiosqlite:///x.db", "postgresql+psycopg://u@db/h"]
)
def test_database_url_with_a_driver_is_kept(url: str) -> None:
    assert Settings(env="test", database_url=url).resolved_database_url == url


# --- other settings -----------------------------------------------------------------------------------------------


def test_settings_are_read_from_handsup_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HANDSUP_ENV", "development")
    monkeypatch.setenv("HANDSUP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HANDSUP_COMMIT_INTERVAL_MS", "7")
    monkeypatch.setenv("HANDSUP_PUBLIC_URL", "https://vote.example.org/")
    settings = get_settings()
    assert (settings.env, settings.data_dir, settings.commit_interval_ms) == ("development", tmp_path, 7)
    assert settings.public_url == "https://vote.example.org"


def test_an_empty_decks_dir_means_no_decks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDSUP_DECKS_DIR", "")
    assert get_settings().decks_dir is None


def test_an_unknown_environment_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(env="staging")  # type: ignore[arg-type]
