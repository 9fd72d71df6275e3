"""Accounts and API tokens, through the functions the pages use and through the `handsup` command."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.accounts.people import AccountRefused, add_user, authenticate, clean_email, count_users, create_token
from server.cli import main
from server.config import Settings
from server.db import create_engine, session_factory
from server.models import ApiToken, Role, User
from server.sessions import hash_token
from tests.factories import PASSWORD, run, services_of, stored


def add(
    client: TestClient, email: str, password: str = PASSWORD, role: Role = Role.presenter, only_if_first: bool = False
) -> User:
    db = services_of(client).db
    return run(client, lambda: add_user(db, email, password, role, only_if_first=only_if_first))


def refusal(client: TestClient, email: str, password: str = PASSWORD, only_if_first: bool = False) -> str:
    with pytest.raises(AccountRefused) as refused:
        add(client, email, password, only_if_first=only_if_first)
    return str(refused.value)


@pytest.mark.parametrize(("typed", "email"), [("  Ana@Example.ORG ", "ana@example.org"), ("a@b.co", "a@b.co")])
def test_clean_email_trims_and_lower_cases(typed: str, email: str) -> None:
    assert clean_email(typed) == email


@pytest.mark.parametrize("typed", ["", "ana", "ana@", "@example.org", "ana@localhost", "a na@example.org"])
def test_clean_email_refuses_what_is_not_an_address(typed: str) -> None:
    with pytest.raises(AccountRefused, match="is not an email address"):
        clean_email(typed)


def test_add_user_stores_a_hash_not_the_password(client: TestClient) -> None:
    add(client, "Ana@Example.org", role=Role.organizer)
    [user] = stored(client, select(User))
    assert (user.email, user.role) == ("ana@example.org", Role.organizer)
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_add_user_refuses_a_second_account_for_the_same_email(client: TestClient) -> None:
    add(client, "ana@example.org")
    assert refusal(client, "ANA@example.org") == "An account for ana@example.org exists already."
    assert run(client, lambda: count_users(services_of(client).db)) == 1


def test_add_user_refuses_a_short_password(client: TestClient) -> None:
    assert refusal(client, "ana@example.org", "short") == "Use at least 10 characters."
    assert stored(client, select(User)) == []


def test_only_the_first_account_may_be_made_by_the_setup_path(client: TestClient) -> None:
    add(client, "first@example.org", only_if_first=True)
    assert refusal(client, "second@example.org", only_if_first=True) == (
        "This server already has an administrator; sign in instead."
    )


def test_authenticate_finds_the_user_by_email_and_password(client: TestClient) -> None:
    add(client, "ana@example.org")
    db = services_of(client).db
    assert run(client, lambda: authenticate(db, " ANA@example.org", PASSWORD)) is not None
    assert run(client, lambda: authenticate(db, "ana@example.org", PASSWORD + "!")) is None
    assert run(client, lambda: authenticate(db, "nobody@example.org", PASSWORD)) is None


def test_an_api_token_is_stored_only_as_its_hash(client: TestClient) -> None:
    add(client, "ana@example.org")
    token = run(client, lambda: create_token(services_of(client).db, "ana@example.org", "laptop script"))
    assert token.startswith("hsu_")
    [row] = stored(client, select(ApiToken))
    assert (row.token_hash, row.name) == (hash_token(token), "laptop script")


def test_a_token_for_an_unknown_account_is_refused(client: TestClient) -> None:
    with pytest.raises(AccountRefused, match="There is no account for nobody@example.org."):
        run(client, lambda: create_token(services_of(client).db, "nobody@example.org"))


# --- the command line -------------------------------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HANDSUP_ENV", "test")
    monkeypatch.setenv("HANDSUP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HANDSUP_DATABASE_URL", raising=False)
    (tmp_path / "password").write_text(PASSWORD + "\n")
    return tmp_path


def test_handsup_user_add_and_token_create(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    password_file = str(data_dir / "password")
    assert main(["user", "add", "Ana@Example.org", "--role", "admin", "--password-file", password_file]) == 0
    assert capsys.readouterr().err == "Created admin account ana@example.org.\n"
    assert main(["token", "create", "ana@example.org", "--name", "script"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("hsu_") and len(out.strip()) == 47 and err == ""


def test_handsup_user_add_no_password_makes_an_account_that_only_signs_in_through_a_provider(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["user", "add", "bea@example.org", "--no-password"]) == 0
    assert capsys.readouterr().err == (
        "Created presenter account bea@example.org, which signs in through single sign-on only.\n"
    )
    stored = asyncio.run(_user(data_dir, "bea@example.org"))
    assert stored is not None and stored.password_hash == "" and not stored.has_password
    assert not stored.password_temporary


def test_handsup_user_add_refuses_markup_for_an_email(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["user", "add", "<script>alert(1)</script>@example.org", "--no-password"]) == 1
    assert capsys.readouterr().err == (
        "handsup: '<script>alert(1)</script>@example.org' is not an email address: it holds ( ) < >, "
        "which no address may.\n"
    )
    assert asyncio.run(_user(data_dir, "<script>alert(1)</script>@example.org")) is None


async def _user(data_dir: Path, email: str) -> User | None:
    engine = create_engine(Settings(env="test", data_dir=data_dir).resolved_database_url)
    try:
        async with session_factory(engine)() as db:
            return (await db.exec(select(User).where(User.email == email))).first()
    finally:
        await engine.dispose()


def test_handsup_user_add_twice_says_why_and_fails(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    password_file = str(data_dir / "password")
    assert main(["user", "add", "ana@example.org", "--password-file", password_file]) == 0
    assert main(["user", "add", "ana@example.org", "--password-file", password_file]) == 1
    assert capsys.readouterr().err.endswith("handsup: An account for ana@example.org exists already.\n")


def test_handsup_token_create_for_nobody_fails(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "create", "nobody@example.org"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == "handsup: There is no account for nobody@example.org.\n"


def test_handsup_token_list_shows_tokens_but_never_their_secrets(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["user", "add", "ana@example.org", "--password-file", str(data_dir / "password")]) == 0
    assert main(["token", "list", "ana@example.org"]) == 0
    assert capsys.readouterr().out == "ana@example.org has no API tokens.\n"
    main(["token", "create", "ana@example.org", "--name", "laptop script"])
    secret = capsys.readouterr().out.strip()
    assert main(["token", "list", "ana@example.org"]) == 0
    header, line = capsys.readouterr().out.splitlines()
    assert header.split("\t") == ["id", "state", "created", "last used", "name"]
    token_id, state, _, last_used, name = line.split("\t")
    assert (token_id, state, last_used, name) == ("1", "active", "never", "laptop script")
    assert secret not in line


def test_handsup_token_revoke_revokes_it(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["user", "add", "ana@example.org", "--password-file", str(data_dir / "password")])
    main(["token", "create", "ana@example.org", "--name", "script"])
    capsys.readouterr()
    assert main(["token", "revoke", "1"]) == 0
    assert capsys.readouterr().err == "Revoked API token 1 (script).\n"
    main(["token", "list", "ana@example.org"])
    assert capsys.readouterr().out.splitlines()[1].split("\t")[1].startswith("revoked ")
    assert main(["token", "revoke", "1"]) == 0
    assert capsys.readouterr().err == "API token 1 (script) was revoked already.\n"
    assert main(["token", "revoke", "7"]) == 1
    assert capsys.readouterr().err == "handsup: There is no API token 7.\n"


def test_handsup_token_list_for_nobody_fails(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "list", "nobody@example.org"]) == 1
    assert capsys.readouterr().err == "handsup: There is no account for nobody@example.org.\n"


def test_single_sign_on_settings_that_cannot_work_stop_the_command_with_the_reason(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HANDSUP_OIDC_PROVIDERS", "[{'name': 'google'}]")
    assert main(["user", "add", "ana@example.org", "--no-password"]) == 2
    assert capsys.readouterr().err.startswith("handsup: HANDSUP_OIDC_PROVIDERS: not valid JSON (Expecting property")
    provider = {"name": "Google!", "title": "Google", "issuer": "accounts.google.com", "client_id": "a"}
    monkeypatch.setenv("HANDSUP_OIDC_PROVIDERS", json.dumps([provider]))
    assert main(["user", "add", "ana@example.org", "--no-password"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "handsup: HANDSUP_OIDC_PROVIDERS_0_NAME: String should match pattern '^[a-z0-9][a-z0-9-]{0,39}$'",
        "handsup: HANDSUP_OIDC_PROVIDERS_0_ISSUER: an issuer is an https:// (or http://) address without ?query or "
        "#fragment (got 'accounts.google.com')",
        "handsup: HANDSUP_OIDC_PROVIDERS_0_CLIENT_SECRET: Field required",
    ]
    good = {**provider, "name": "google", "issuer": "https://accounts.google.com", "client_secret": "s"}
    monkeypatch.setenv("HANDSUP_OIDC_PROVIDERS", json.dumps([good, good]))
    assert main(["user", "add", "ana@example.org", "--no-password"]) == 2
    assert "each provider needs a name of its own" in capsys.readouterr().err
