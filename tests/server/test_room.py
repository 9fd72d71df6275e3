"""A session in a room: `handsup serve --lan` (make run LAN=1) listens on the network, and the join line, the QR codes
and the console carry this machine's address there, which phones on the same Wi-Fi can open; when the join address is
loopback, the console and the presenter page say phones cannot open it, and how to fix that."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import segno
from starlette.testclient import TestClient

from server.app import create_app
from server.cli import console_qr, main
from server.config import Settings
from server.live.fragments import qr_svg
from server.network import PROBE_ADDRESS, interface_addresses, is_loopback, lan_address, loopback_host
from tests.factories import (
    PASSWORD,
    ROOT,
    LiveServer,
    Presenter,
    api_token,
    cli,
    csrf_from,
    free_port,
    login,
    make_user,
    server_env,
    start_server,
    stop_server,
)

ADMIN = "facilitator@example.org"
WARNING = 'id="join-warning"'


def machine_addresses() -> set[str]:
    """This machine's IPv4 addresses but loopback, as `ip` lists them (what a person checks with `ip -4 addr`)."""
    listed = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=True).stdout
    return {address for address in re.findall(r"inet (\S+)/", listed) if not address.startswith("127.")}


def routed_address() -> str:
    """The source address of this machine's route out (`ip route get`), the one phones on its network reach."""
    route = subprocess.run(["ip", "-4", "route", "get", PROBE_ADDRESS], capture_output=True, text=True, check=True)
    match = re.search(r"\bsrc (\S+)", route.stdout)
    assert match, route.stdout
    return match.group(1)


def terminal_qr(url: str) -> str:
    """The QR code as the console draws it into a log (segno's compact blocks), to compare with what was printed."""
    out = io.StringIO()
    segno.make(url, error="m").terminal(out=out, compact=True, border=2)
    return out.getvalue()


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`handsup serve --lan`, as a person starts it, on a free port."""
    server = start_server(tmp_path_factory.mktemp("room"), args=("--lan",))
    try:
        yield server
    finally:
        stop_server(server)


def printed_join_url(server: LiveServer) -> str:
    match = re.search(r"Phones on the same Wi-Fi open (http://\S+) \(or scan this\)", server.log.read_text())
    assert match, f"the console says where phones join:\n{server.log.read_text()}"
    return match.group(1)


# --- the console ---------------------------------------------------------------------------------------------------


def test_room_mode_prints_this_machines_network_address_with_a_qr_code(room: LiveServer) -> None:
    url = printed_join_url(room)
    assert url == f"http://{routed_address()}:{room.port}"
    host = url.removeprefix("http://").rsplit(":", 1)[0]
    assert host in machine_addresses() and not is_loopback(host)
    log = room.log.read_text()
    assert terminal_qr(url) in log, f"the console draws the QR code of {url}:\n{log}"
    assert f"Present from {url}/present" in log
    assert "firewall" in log and "hotspot" in log
    assert "Phones cannot open" not in log
    # The first-run setup link is at the address too: the facilitator may set up from a phone as well.
    assert room.setup_link().startswith(f"{url}/setup/")


def test_plain_serve_warns_that_phones_cannot_open_loopback(tmp_path: Path) -> None:
    server = start_server(tmp_path / "plain")
    try:
        log = server.log.read_text()
    finally:
        stop_server(server)
    assert f"Phones cannot open http://127.0.0.1:{server.port}: it is this machine only" in log
    assert "make run LAN=1" in log and "handsup serve --lan" in log and "HANDSUP_PUBLIC_URL" in log
    assert "Room mode" not in log


def test_a_public_url_behind_a_proxy_gets_no_warning(tmp_path: Path) -> None:
    server = start_server(tmp_path / "proxied", HANDSUP_PUBLIC_URL="https://handsup.example.org")
    try:
        log = server.log.read_text()
    finally:
        stop_server(server)
    assert "Phones cannot open" not in log and "Room mode" not in log
    assert "https://handsup.example.org/setup/" in log


def test_room_mode_with_a_public_url_shows_that_address(tmp_path: Path) -> None:
    server = start_server(tmp_path / "named", args=("--lan", "--public-url", "http://handsup.lan:8000/"))
    try:
        assert printed_join_url(server) == "http://handsup.lan:8000"
        assert terminal_qr("http://handsup.lan:8000") in server.log.read_text()
    finally:
        stop_server(server)


def test_on_a_terminal_the_qr_code_is_black_on_white_whatever_its_theme() -> None:
    """Each character is the upper half block, foreground black (30) or white (97) for the module above, background
    black (40) or white (107) for the one below: read back, that is segno's matrix of the URL, quiet zone included."""
    url = "http://192.168.1.20:8000"
    drawn = console_qr(url, colours=True)
    assert drawn.count("\033[0m\n") == len(drawn.splitlines())
    read: list[list[int]] = []
    for line in drawn.splitlines():
        cells = re.findall(r"\033\[(\d+);(\d+)m\u2580", line)
        read += [[int(fg == "30") for fg, _ in cells], [int(bg == "40") for _, bg in cells]]
    matrix = [list(row) for row in segno.make(url, error="m").matrix_iter(border=2)]
    assert read[: len(matrix)] == matrix
    assert all(module == 0 for row in read[len(matrix) :] for module in row)  # a last row, if any, is quiet zone


def test_room_mode_with_a_loopback_public_url_warns_instead(tmp_path: Path) -> None:
    server = start_server(tmp_path / "odd", args=("--lan", "--public-url", "http://localhost:8000"))
    try:
        log = server.log.read_text()
    finally:
        stop_server(server)
    assert "Phones cannot open http://localhost:8000: it is this machine only" in log
    assert "Room mode" not in log


def test_room_mode_logs_the_join_address_as_a_json_record(tmp_path: Path) -> None:
    """With HANDSUP_LOG_FORMAT=json (a log shipper reads the console), the address is a record's field, no QR code."""
    server = start_server(tmp_path / "json", args=("--lan",), HANDSUP_LOG_FORMAT="json")
    try:
        records = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
    finally:
        stop_server(server)
    [room_record] = [record for record in records if "join_url" in record]
    assert room_record["join_url"] == f"http://{routed_address()}:{server.port}"
    assert room_record["level"] == "info" and room_record["message"].startswith("Room mode")
    assert "█" not in server.log.read_text()


# --- what phones and the presenter see, over the network address ----------------------------------------------------


def test_in_room_mode_a_phone_joins_at_the_network_address_and_the_qr_codes_carry_it(room: LiveServer) -> None:
    url = printed_join_url(room)
    with httpx.Client(base_url=url, timeout=10) as laptop:
        path = "/setup/" + room.setup_link().rsplit("/setup/", 1)[1]
        form = {"csrf_token": csrf_from(laptop.get(path).text), "email": ADMIN, "password": PASSWORD}
        created = laptop.post(path, data=form)
        assert created.status_code == 303, created.text
        token = cli(room, "token", "create", ADMIN, "--name", "room test")
        started = laptop.post(
            "/api/v1/sessions",
            json={"deck_slug": "distributed-leadership", "title": "In the room"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert started.status_code == 201, started.text
        session = started.json()
        code = session["code"]
        assert session["join_url"] == f"{url}/{code}"
        presenter_page = laptop.get(f"/present/{session['id']}").text
    assert f'href="{url}/{code}"' in presenter_page and WARNING not in presenter_page
    with httpx.Client(base_url=url, timeout=10) as phone:
        home = phone.get("/")
        assert home.status_code == 200
        joined = phone.post("/join", data={"csrf_token": csrf_from(home.text), "code": code}, follow_redirects=True)
        assert joined.status_code == 200 and "In the room" in joined.text
        assert phone.cookies, "the phone keeps its participant cookie over plain http"
        assert all("secure" not in cookie.lower() for cookie in joined.history[0].headers.get_list("set-cookie"))
        qr = phone.get(f"/{code}/qr.svg")
    assert qr.status_code == 200 and qr.text == qr_svg(f"{url}/{code}")


# --- the presenter page --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opened_at", "public_url", "shown"),
    [
        ("http://127.0.0.1:8000", None, "127.0.0.1:8000"),  # plain `make run`
        ("http://localhost:8000", None, "localhost:8000"),
        ("http://192.168.1.20:8000", "http://[::1]:8000", "[::1]:8000"),
    ],
)
def test_the_presenter_page_warns_when_phones_cannot_open_the_join_address(
    settings: Settings, opened_at: str, public_url: str | None, shown: str
) -> None:
    page = presenter_page(settings.model_copy(update={"public_url": public_url}), opened_at)
    assert WARNING in page
    warning = re.sub(r"<[^>]+>|\s+", " ", page.split(WARNING, 1)[1].split("</p>", 1)[0])
    assert f"Phones cannot open {shown} : it is this computer only" in warning
    assert "make run LAN=1" in warning and "handsup serve --lan" in warning and "HANDSUP_PUBLIC_URL" in warning


@pytest.mark.parametrize(
    ("opened_at", "public_url"),
    [
        ("http://192.168.1.20:8000", None),  # room mode without a public URL: the laptop's own network address
        ("http://127.0.0.1:8000", "http://192.168.1.20:8000"),  # room mode: the presenter on loopback, phones not
        ("https://127.0.0.1:8000", "https://handsup.example.org"),  # production behind a proxy on this machine
    ],
)
def test_the_presenter_page_does_not_warn_when_phones_can_open_the_join_address(
    settings: Settings, opened_at: str, public_url: str | None
) -> None:
    page = presenter_page(settings.model_copy(update={"public_url": public_url}), opened_at)
    assert WARNING not in page and "Phones cannot open" not in page
    assert f'href="{public_url or opened_at}/' in page


def presenter_page(settings: Settings, opened_at: str) -> str:
    with TestClient(create_app(settings), base_url=opened_at) as client:
        user = make_user(client)
        session = Presenter(client, user, api_token(client, user.email)).start()
        login(client, user.email)
        page = client.get(f"/present/{session['id']}")
    assert page.status_code == 200, page.text
    return page.text


# --- finding the address -------------------------------------------------------------------------------------------


def test_the_lan_address_is_the_one_on_the_route_out() -> None:
    assert lan_address() == routed_address()


def test_without_a_route_the_interfaces_are_listed() -> None:
    """The fallback (a laptop that is itself the hotspot has no route out) finds the same addresses `ip` does."""
    assert machine_addresses() <= set(interface_addresses())


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("app.localhost", True),
        ("192.168.1.20", False),
        ("10.0.0.5", False),
        ("handsup.example.org", False),
        ("0.0.0.0", False),
    ],
)
def test_loopback_is_this_machine_only(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_loopback_host_names_what_phones_cannot_open() -> None:
    assert loopback_host("http://127.0.0.1:8000/123456") == "127.0.0.1:8000"
    assert loopback_host("http://192.168.1.20:8000/123456") is None
    assert loopback_host("https://handsup.example.org/123456") is None


# --- bad input -----------------------------------------------------------------------------------------------------


def test_room_mode_with_no_network_says_so_and_exits(tmp_path: Path) -> None:
    """In a network namespace of its own, the machine has loopback only: a clear refusal, no traceback."""
    # util-linux's unshare, as root (make test's system packages and CI): a missing part fails, it is not skipped.
    assert subprocess.run(["unshare", "--net", "true"], check=False).returncode == 0, "needs unshare --net, as root"
    done = subprocess.run(
        ["unshare", "--net", sys.executable, "-m", "server.cli", "serve", "--lan"],
        cwd=ROOT,
        env=server_env(free_port(), tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("handsup: --lan: this machine has no network address phones could reach")
    assert "--public-url" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "handsup.db").exists(), "nothing was started"


@pytest.mark.parametrize(
    "bad", ["192.168.1.20:8000", "ftp://handsup.example.org", "http://", "http://host:port", "http://h/?code=1"]
)
def test_a_bad_public_url_is_refused_on_the_command_line(
    bad: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in server_env(free_port(), tmp_path).items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--lan", "--public-url", bad]) == 2
    error = capsys.readouterr().err
    assert error.startswith("handsup: --public-url: must be the http:// or https:// address phones open")
    assert repr(bad) in error
    assert not (tmp_path / "handsup.db").exists()


def test_a_bad_public_url_setting_is_refused_the_same_way(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in server_env(free_port(), tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HANDSUP_PUBLIC_URL", "handsup.example.org")
    assert main(["serve"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("handsup: HANDSUP_PUBLIC_URL: must be the http:// or https:// address phones open")


def test_room_mode_refuses_to_listen_on_loopback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in server_env(free_port(), tmp_path).items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--lan", "--host", "127.0.0.1"]) == 2
    assert capsys.readouterr().err.startswith("handsup: --lan: --host 127.0.0.1 is this machine only")
