"""API tokens on the presenter's and projector's sockets, over real websockets to a real `handsup serve`:
`Authorization: Bearer` on the handshake, or the subprotocol `handsup.bearer.<token>` beside `handsup`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.factories import PASSWORD, TWO_QUESTIONS, LiveServer, cli


@dataclass
class Accounts:
    url: str
    presenter: str  # the session's presenter's API token
    stranger: str  # another presenter's token
    revoked: str  # the presenter's token, revoked
    session: dict[str, Any]

    @property
    def ws(self) -> str:
        return self.url.replace("http://", "ws://")

    @property
    def secret(self) -> str:
        return str(self.session["projector_url"]).rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def accounts(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Accounts]:
    password = tmp_path_factory.mktemp("password") / "password"
    password.write_text(f"{PASSWORD}\n")
    for email in ("speaker@example.org", "stranger@example.org"):
        cli(live_server, "user", "add", email, "--password-file", str(password))
    presenter = cli(live_server, "token", "create", "speaker@example.org", "--name", "socket test")
    stranger = cli(live_server, "token", "create", "stranger@example.org", "--name", "socket test")
    revoked = cli(live_server, "token", "create", "speaker@example.org", "--name", "to revoke")
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        bearer = {"Authorization": f"Bearer {revoked}"}
        listed = http.get("/api/v1/tokens", headers=bearer).json()
        token_id = next(token["id"] for token in listed if token["name"] == "to revoke")
        assert http.delete(f"/api/v1/tokens/{token_id}", headers=bearer).status_code == 204
        started = http.post(
            "/api/v1/sessions", json={"deck_yaml": TWO_QUESTIONS}, headers={"Authorization": f"Bearer {presenter}"}
        )
        assert started.status_code == 201, started.text
    yield Accounts(live_server.url, presenter, stranger, revoked, started.json())


async def _first_frame(url: str, **options: Any) -> tuple[str, str | None]:
    async with connect(url, open_timeout=10, **options) as socket:
        frame = await asyncio.wait_for(socket.recv(), 10)
        assert isinstance(frame, str)
        return frame, socket.subprotocol


async def _refusal(url: str, **options: Any) -> tuple[int | None, str]:
    async with connect(url, open_timeout=10, **options) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


def _presenter_url(accounts: Accounts, view: str = "") -> str:
    return f"{accounts.ws}/ws/presenter/{accounts.session['id']}" + (f"?view={view}" if view else "")


def test_a_bearer_token_opens_the_presenter_socket(accounts: Accounts) -> None:
    headers = {"Authorization": f"Bearer {accounts.presenter}"}
    frame, subprotocol = asyncio.run(_first_frame(_presenter_url(accounts), additional_headers=headers))
    assert 'id="presenter-live"' in frame
    assert "Where does the week go?" in frame
    assert subprotocol is None


def test_a_token_as_a_subprotocol_opens_the_presenter_socket_and_handsup_is_selected(accounts: Accounts) -> None:
    offered = ["handsup", f"handsup.bearer.{accounts.presenter}"]
    frame, subprotocol = asyncio.run(_first_frame(_presenter_url(accounts, "remote"), subprotocols=offered))
    assert 'id="remote-live"' in frame
    assert subprotocol == "handsup"  # never the token: the answer's headers do not echo it


def test_a_token_from_another_site_s_page_still_opens_it(accounts: Accounts) -> None:
    """No cookie rides along with a token, so the Origin check (against cross-site hijacking) has nothing to guard."""
    headers = {"Authorization": f"Bearer {accounts.presenter}", "Origin": "https://dashboard.example.net"}
    frame, _ = asyncio.run(_first_frame(_presenter_url(accounts), additional_headers=headers))
    assert 'id="presenter-live"' in frame


def test_another_presenter_s_token_is_refused_with_4404(accounts: Accounts) -> None:
    headers = {"Authorization": f"Bearer {accounts.stranger}"}
    code, reason = asyncio.run(_refusal(_presenter_url(accounts), additional_headers=headers))
    assert (code, reason) == (4404, "sign in as this session's presenter")


def test_another_presenter_s_token_as_a_subprotocol_is_refused_with_4404_after_a_handshake(accounts: Accounts) -> None:
    """Accepted with `handsup` first, so a browser sees the code and the reason rather than a failed handshake."""
    offered = ["handsup", f"handsup.bearer.{accounts.stranger}"]
    code, reason = asyncio.run(_refusal(_presenter_url(accounts), subprotocols=offered))
    assert (code, reason) == (4404, "sign in as this session's presenter")


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("revoked", "That API token is not valid or was revoked."),
        ("made up", "That API token is not valid or was revoked."),
        ("empty", "Send an API token: Authorization: Bearer <token>."),
    ],
)
def test_a_bad_token_is_refused_with_its_reason(accounts: Accounts, token: str, reason: str) -> None:
    sent = {"revoked": accounts.revoked, "made up": "hsu_" + "x" * 43, "empty": ""}[token]
    headers = {"Authorization": f"Bearer {sent}"}
    assert asyncio.run(_refusal(_presenter_url(accounts), additional_headers=headers)) == (4404, reason)


def test_a_token_subprotocol_without_handsup_is_refused_saying_what_to_offer(accounts: Accounts) -> None:
    """The server cannot select the token's own subprotocol (its answer would echo the token): it selects none and
    says what to offer. A browser fails such a handshake; this client lets it through and reads the reason."""
    offered = [f"handsup.bearer.{accounts.presenter}"]
    code, reason = asyncio.run(_refusal(_presenter_url(accounts), subprotocols=offered))
    assert (code, reason) == (4404, "offer the subprotocol handsup beside handsup.bearer.<token>")


def test_the_projector_socket_takes_a_token_from_another_site(accounts: Accounts) -> None:
    url = f"{accounts.ws}/ws/projector/{accounts.secret}"
    foreign = {"Origin": "https://dashboard.example.net"}
    assert asyncio.run(_refusal(url, additional_headers=foreign)) == (4404, "not a valid projector link")
    headers = {**foreign, "Authorization": f"Bearer {accounts.stranger}"}  # the secret is the key: any good token
    frame, _ = asyncio.run(_first_frame(url, additional_headers=headers))
    assert 'id="projector-stage"' in frame


def test_the_projector_socket_refuses_a_bad_token_and_a_good_token_with_a_wrong_secret(accounts: Accounts) -> None:
    url = f"{accounts.ws}/ws/projector/{accounts.secret}"
    offered = ["handsup", f"handsup.bearer.{accounts.revoked}"]
    assert asyncio.run(_refusal(url, subprotocols=offered)) == (4404, "That API token is not valid or was revoked.")
    wrong = f"{accounts.ws}/ws/projector/{'x' * 32}"
    headers = {"Authorization": f"Bearer {accounts.presenter}"}
    assert asyncio.run(_refusal(wrong, additional_headers=headers)) == (4404, "not a valid projector link")


def test_the_token_never_reaches_the_server_log(accounts: Accounts, live_server: LiveServer) -> None:
    offered = ["handsup", f"handsup.bearer.{accounts.presenter}"]
    asyncio.run(_first_frame(_presenter_url(accounts), subprotocols=offered))
    log = Path(live_server.log).read_text()
    assert f"/ws/presenter/{accounts.session['id']}" in log
    assert accounts.presenter not in log


def test_a_socket_opened_with_a_token_is_pushed_what_the_presenter_does(accounts: Accounts) -> None:
    """The same pushes as the cookie's socket: a control through the API reaches the token's socket."""
    wordcloud = accounts.session["activities"][1]["id"]

    async def watch() -> str:
        headers = {"Authorization": f"Bearer {accounts.presenter}"}
        async with connect(_presenter_url(accounts), additional_headers=headers, open_timeout=10) as socket:
            await asyncio.wait_for(socket.recv(), 10)
            async with httpx.AsyncClient(base_url=accounts.url, timeout=10) as http:
                moved = await http.post(
                    f"/api/v1/sessions/{accounts.session['id']}/control",
                    json={"action": "goto", "activity_id": wordcloud},
                    headers={"Authorization": f"Bearer {accounts.presenter}"},
                )
                assert moved.status_code == 200, moved.text
            while True:
                frame = await asyncio.wait_for(socket.recv(), 10)
                assert isinstance(frame, str)
                if 'id="presenter-live"' in frame:
                    return frame

    assert "<h1>Three words</h1>" in asyncio.run(watch())  # the current activity's heading: the word cloud now
