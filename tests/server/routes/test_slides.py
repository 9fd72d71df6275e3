"""POST /present/slides and /api/v1/slides: a deck's pages stored as images, progress streamed as NDJSON, every
refusal one plain line with nothing stored and no child left running."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from server.routes.participant import COOKIE
from server.slideimport import ImportGate
from tests.factories import Presenter, csrf_from, join, limits, login, make_user, run, services_of, uploaded_media
from tests.hostile import PAYLOADS
from tests.server import slide_files

pytestmark = pytest.mark.usefixtures("own_temp")  # tests/server/conftest.py: no child outlives a test


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return slide_files.zip_bomb(tmp_path_factory.mktemp("bomb") / "deck.pptx").read_bytes()


def post(
    client: TestClient, headers: dict[str, str], name: str, data: bytes, path: str = "/api/v1/slides"
) -> httpx.Response:
    return client.post(
        path, headers=headers, files={"file": (name, data, "application/octet-stream")}, follow_redirects=False
    )


def lines(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    return [json.loads(line) for line in response.text.splitlines()]


def media_rows(client: TestClient) -> int:
    async def count() -> int:
        async with services_of(client).db() as db:
            return len((await db.exec(uploaded_media())).all())

    return run(client, count)


def test_each_page_is_stored_and_progress_streams_in_order(client: TestClient, presenter: Presenter) -> None:
    pdf = slide_files.hand_pdf(3, texts=["Where does the week go?", "Influence vs authority", ""])
    got = lines(post(client, presenter.headers, "institute deck.pdf", pdf))
    assert got[:4] == [{"pages": 3}, {"page": 1}, {"page": 2}, {"page": 3}]
    assert got[4]["filename"] == "institute deck.pdf"
    slides = got[4]["slides"]
    assert [slide["title"] for slide in slides] == ["Where does the week go?", "Influence vs authority", "Slide 3"]
    for slide in slides:
        assert slide["media"].endswith(".webp")
        assert slide["url"] == f"/media/{slide['media']}"
        assert (slide["width"], slide["height"]) == (1920, 1080)
    assert len(got) == 5
    assert media_rows(client) == 3

    async def owners() -> set[int | None]:
        async with services_of(client).db() as db:
            return {image.created_by for image in (await db.exec(uploaded_media())).all()}

    assert run(client, owners) == {presenter.user.id}


def test_the_same_deck_twice_stores_each_page_once(client: TestClient, presenter: Presenter) -> None:
    pdf = slide_files.image_pdf([((720, 405), "navy"), ((720, 540), "gold")])
    first = lines(post(client, presenter.headers, "deck.pdf", pdf))[-1]["slides"]
    second = lines(post(client, presenter.headers, "again.pdf", pdf))[-1]["slides"]
    assert [slide["media"] for slide in first] == [slide["media"] for slide in second]
    assert [(slide["width"], slide["height"]) for slide in first] == [(1920, 1080), (1440, 1080)]
    assert media_rows(client) == 2


def test_the_editor_imports_a_real_pptx_with_its_session_and_csrf_token(
    client: TestClient, presenter: Presenter
) -> None:
    login(client, presenter.user.email)
    token = csrf_from(client.get("/present").text)
    deck = slide_files.pptx(["Welcome", "Three words for leadership"])
    got = lines(post(client, {"X-CSRF-Token": token}, "deck.pptx", deck, "/present/slides"))
    assert got[:3] == [{"pages": 2}, {"page": 1}, {"page": 2}]
    assert [slide["title"] for slide in got[3]["slides"]] == ["Welcome", "Three words for leadership"]
    assert media_rows(client) == 2
    as_form = client.post(
        "/present/slides",
        data={"csrf_token": token},
        files={"file": ("deck.pdf", slide_files.hand_pdf(1), "application/pdf")},
    )
    assert lines(as_form)[0] == {"pages": 1}  # a plain form's token field does as well as the header


def test_the_editor_route_refuses_without_sign_in_csrf_or_an_account(client: TestClient, presenter: Presenter) -> None:
    pdf = slide_files.hand_pdf(1)
    anonymous = post(client, {}, "deck.pdf", pdf, "/present/slides")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    code = presenter.start(slide_files_deck())["code"]
    participant = join(client, code)
    client.cookies.set(COOKIE, participant)
    as_participant = post(client, {}, "deck.pdf", pdf, "/present/slides")
    assert as_participant.status_code == 303 and as_participant.headers["location"].startswith("/login")
    client.cookies.clear()
    login(client, presenter.user.email)
    no_token = post(client, {}, "deck.pdf", pdf, "/present/slides")
    assert no_token.status_code == 403
    wrong_token = post(client, {"X-CSRF-Token": "x" * 43}, "deck.pdf", pdf, "/present/slides")
    assert wrong_token.status_code == 403
    assert "expired" in wrong_token.json()["detail"]
    assert media_rows(client) == 0


def slide_files_deck() -> str:
    return "title: One poll\nactivities:\n  - kind: poll\n    title: Ready?\n    options: [Yes, No]\n"


def test_the_api_refuses_without_a_token(client: TestClient) -> None:
    response = post(client, {}, "deck.pdf", slide_files.hand_pdf(1))
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("name", "data", "status", "line"),
    [
        ("photo.pdf", slide_files.jpeg(), 415, "This file is not a PDF or a PowerPoint file."),
        ("page.pdf", slide_files.HTML, 415, "This file is not a PDF or a PowerPoint file."),
        ("deck.pptx", slide_files.plain_zip(), 415, "This file is not a PDF or a PowerPoint file."),
        ("deck.pdf", b"", 415, "The file is empty."),
        (
            "deck.pptx",
            slide_files.many_entries(6000),
            422,
            "This file holds 6,001 parts; a presentation of at most 5,000 is accepted.",
        ),
    ],
    ids=["jpeg-named-pdf", "html-named-pdf", "zip-without-presentation", "empty", "too-many-parts"],
)
def test_a_file_that_is_not_slides_is_refused_before_streaming(
    client: TestClient, presenter: Presenter, name: str, data: bytes, status: int, line: str
) -> None:
    response = post(client, presenter.headers, name, data)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == line
    assert media_rows(client) == 0


def test_a_zip_bomb_dressed_as_pptx_is_refused_unopened(client: TestClient, presenter: Presenter, bomb: bytes) -> None:
    response = post(client, presenter.headers, "deck.pptx", bomb)
    assert response.status_code == 422
    assert (
        response.json()["detail"] == "This presentation would unpack to 1,024 MB; it is refused as a likely zip bomb."
    )
    assert media_rows(client) == 0


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (slide_files.hand_pdf(10_000), "This PDF has 10,000 pages; at most 200 can be imported."),
        (slide_files.damaged_pdf(), "This PDF is damaged and cannot be read."),
        (slide_files.hand_pdf(2, encrypt=True), "This PDF is password-protected."),
    ],
    ids=["ten-thousand-pages", "damaged", "encrypted"],
)
def test_a_pdf_refused_by_its_reader_ends_the_stream_with_one_line(
    client: TestClient, presenter: Presenter, data: bytes, line: str
) -> None:
    assert lines(post(client, presenter.headers, "deck.pdf", data)) == [{"error": line}]
    assert media_rows(client) == 0


@limits(import_max_bytes=4096)
def test_a_file_over_the_limit_is_refused_as_too_large(client: TestClient, presenter: Presenter) -> None:
    response = post(client, presenter.headers, "deck.pdf", slide_files.hand_pdf(1) + bytes(8192))
    assert response.status_code == 413
    assert response.json()["detail"] == "The file is larger than 4,096 bytes."
    huge = post(client, presenter.headers, "deck.pdf", bytes(200_000))  # refused while the body arrives
    assert huge.status_code == 413
    assert media_rows(client) == 0


@limits(import_max_pages=2)
def test_the_page_limit_is_the_setting(client: TestClient, presenter: Presenter) -> None:
    assert lines(post(client, presenter.headers, "deck.pdf", slide_files.hand_pdf(3))) == [
        {"error": "This PDF has 3 pages; at most 2 can be imported."}
    ]


def test_a_missing_file_field_is_a_bad_request(client: TestClient, presenter: Presenter) -> None:
    response = client.post("/api/v1/slides", headers=presenter.headers, data={"other": "x"})
    assert response.status_code == 400
    assert "multipart/form-data field" in response.json()["detail"]
    assert client.post("/api/v1/slides", headers=presenter.headers).status_code == 400


class RawForm:
    """A multipart body written byte by byte, so a file name may hold what no well-behaved client sends (half of a
    surrogate pair, as its UTF-8-like bytes)."""

    boundary = "handsup-test-boundary"
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}

    def __call__(self, filename: str, data: bytes) -> bytes:
        name = filename.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A").encode("utf-8", "surrogatepass")
        head = f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
        tail = f"\r\n--{self.boundary}--\r\n".encode()
        return head + name + b'"\r\nContent-Type: application/pdf\r\n\r\n' + data + tail


raw_form = RawForm()


def test_every_hostile_file_name_comes_back_as_inert_text(client: TestClient, presenter: Presenter) -> None:
    pdf = slide_files.hand_pdf(1)
    for name, payload in PAYLOADS.items():
        response = client.post(
            "/api/v1/slides", headers={**presenter.headers, **raw_form.headers}, content=raw_form(payload, pdf)
        )
        final = lines(response)[-1]
        assert set(final) == {"slides", "filename"}, name
        shown = final["filename"]
        assert isinstance(shown, str) and 0 < len(shown) <= 120, name
        assert "\x00" not in shown and "/" not in shown, name
    assert media_rows(client) == 1  # the same page every time: stored once


def test_one_import_at_a_time_per_account_and_a_bound_per_process(client: TestClient, presenter: Presenter) -> None:
    pdf = slide_files.hand_pdf(1)
    assert lines(post(client, presenter.headers, "deck.pdf", pdf))[-1]["slides"]  # the gate exists after one import
    gate: ImportGate = client.app.state.slide_imports  # type: ignore[attr-defined]
    assert presenter.user.id is not None
    with gate.admit(presenter.user.id):
        busy = post(client, presenter.headers, "deck.pdf", pdf)
        assert busy.status_code == 429
        assert busy.json()["detail"] == "Your previous import is still running; wait for it to finish."
        assert int(busy.headers["retry-after"]) >= 1
    other = make_user(client, "other@example.org")
    assert other.id is not None
    with gate.admit(-1), gate.admit(-2):  # two imports of other accounts: the process's bound (2)
        full = post(client, presenter.headers, "deck.pdf", pdf)
        assert full.status_code == 429
        assert full.json()["detail"] == "The server is importing other decks; try again in a moment."
    assert gate.running == 0
    assert lines(post(client, presenter.headers, "deck.pdf", pdf))[-1]["slides"]


def test_a_client_that_leaves_mid_import_leaves_no_child(
    client: TestClient, presenter: Presenter, own_temp: Path
) -> None:
    pdf = slide_files.hand_pdf(120)
    files = {"file": ("deck.pdf", pdf, "application/pdf")}
    with client.stream("POST", "/api/v1/slides", headers=presenter.headers, files=files) as response:
        assert response.status_code == 200
        first = next(response.iter_lines())
        assert json.loads(first) == {"pages": 120}
    # The fixture checks no child names the import's folder and the folder is gone; the gate is free again.
    gate: ImportGate = client.app.state.slide_imports  # type: ignore[attr-defined]
    assert gate.running == 0


def test_without_libreoffice_a_pptx_is_refused_up_front_with_export_a_pdf(
    client: TestClient, presenter: Presenter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a server whose PATH has no soffice and no libreoffice
    response = post(client, presenter.headers, "deck.pptx", slide_files.pptx(["One"]))
    assert response.status_code == 415
    assert response.json()["detail"] == (
        "This server cannot read PowerPoint files; export the deck as PDF and upload that."
    )
    assert media_rows(client) == 0
