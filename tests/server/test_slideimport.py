"""server/slideimport.py: what a file is (by content), the pages drawn in a child process and in order, LibreOffice
converting a real .pptx, and the hostile files refused with their one line, with no child left running."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from PIL import Image

from server.slideimport import (
    NO_LIBREOFFICE,
    NOT_SLIDES,
    FileTooLarge,
    Format,
    ImportBusy,
    ImportGate,
    ImportLimits,
    ImportRefused,
    NotSlides,
    PageCount,
    RenderedPage,
    accept,
    fit,
    identify,
    powerpoint_supported,
    render_pages,
    shown_name,
    slide_title,
    workspace,
)
from tests.hostile import PAYLOADS
from tests.server import slide_files

LIMITS = ImportLimits()
pytestmark = pytest.mark.usefixtures("own_temp")  # tests/server/conftest.py: no child outlives a test


@pytest.fixture(scope="session")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return slide_files.zip_bomb(tmp_path_factory.mktemp("bomb") / "deck.pptx")


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rendered(source: Path, limits: ImportLimits = LIMITS) -> list[PageCount | RenderedPage]:
    """Everything render_pages gives for the file."""
    return [event for event, _ in drawn(source, limits)]


def drawn(source: Path, limits: ImportLimits = LIMITS) -> list[tuple[PageCount | RenderedPage, tuple[int, ...]]]:
    """Every event render_pages gives, with the colour at the middle of each page's image (read while it exists)."""

    async def collect() -> list[tuple[PageCount | RenderedPage, tuple[int, ...]]]:
        events: list[tuple[PageCount | RenderedPage, tuple[int, ...]]] = []
        with workspace() as workdir:
            async for event in render_pages(source, accept(source, limits), workdir, limits):
                colour: tuple[int, ...] = ()
                if isinstance(event, RenderedPage):
                    with Image.open(event.path) as image:
                        assert image.format == "WEBP"
                        assert image.size == (event.width, event.height)
                        colour = tuple(image.convert("RGB").getpixel((event.width // 2, event.height // 2)))
                events.append((event, colour))
        return events

    return asyncio.run(collect())


def refusal(source: Path, limits: ImportLimits = LIMITS) -> str:
    with pytest.raises(ImportRefused) as refused:
        rendered(source, limits)
    return str(refused.value)


# --- pages ------------------------------------------------------------------------------------------------------


def test_each_pdf_page_becomes_one_image_in_order_fitted_to_the_screen(tmp_path: Path) -> None:
    pdf = slide_files.image_pdf([((960, 540), "red"), ((400, 300), "lime"), ((300, 600), "blue"), ((2000, 500), "red")])
    events = drawn(write(tmp_path, "deck.pdf", pdf))
    assert events[0][0] == PageCount(4)
    pages = [(page, colour) for page, colour in events[1:] if isinstance(page, RenderedPage)]
    assert [page.number for page, _ in pages] == [1, 2, 3, 4]
    sizes = [(page.width, page.height) for page, _ in pages]
    assert sizes == [(1920, 1080), (1440, 1080), (540, 1080), (1920, 480)]  # 16:9, 4:3, portrait, a banner
    expected = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 0, 0)]  # Pillow's PDF holds them as JPEG: near enough
    for (_, colour), wanted in zip(pages, expected, strict=True):
        assert max(abs(a - b) for a, b in zip(colour, wanted, strict=True)) <= 8, (colour, wanted)


def test_fit_keeps_the_aspect_within_1920_by_1080() -> None:
    assert fit(720, 405)[1:] == (1920, 1080)
    assert fit(720, 540)[1:] == (1440, 1080)
    assert fit(3000, 10)[1:] == (1920, 6)
    assert fit(1, 100000)[1:] == (1, 1080)


def test_a_page_title_is_its_first_line_of_text(tmp_path: Path) -> None:
    pdf = slide_files.hand_pdf(3, texts=["Where does the week go?", "(Influence) vs authority", ""])
    events = rendered(write(tmp_path, "deck.pdf", pdf))
    lines = [event.first_line for event in events if isinstance(event, RenderedPage)]
    assert [slide_title(line, n) for n, line in enumerate(lines, 1)] == [
        "Where does the week go?",
        "(Influence) vs authority",
        "Slide 3",
    ]


def test_slide_titles_are_tidy_and_bounded() -> None:
    assert slide_title("\n  \x07 \n  Our  theory\u200b of change \nsecond line", 2) == "Our theory of change"
    assert len(slide_title("x" * 500, 1)) == 100
    assert slide_title("   ", 7) == "Slide 7"


def test_the_file_name_shown_is_its_last_part_tidy_and_bounded() -> None:
    assert shown_name("C:\\Users\\me\\Deck\u202e.pdf") == "Deck.pdf"
    assert shown_name("../../etc/passwd") == "passwd"
    assert shown_name(None) == "the uploaded file"
    assert len(shown_name("a" * 400 + ".pdf")) == 118
    for payload in PAYLOADS.values():
        assert "\x00" not in shown_name(payload)


def test_libreoffice_converts_a_real_pptx_one_page_per_slide(tmp_path: Path) -> None:
    deck = write(tmp_path, "deck.pptx", slide_files.pptx(["Welcome to the institute", "What leaders do", "Next"]))
    assert identify(deck, LIMITS) is Format.pptx
    events = rendered(deck)
    assert events[0] == PageCount(3)
    pages = [event for event in events if isinstance(event, RenderedPage)]
    assert [(page.number, page.width, page.height) for page in pages] == [
        (1, 1920, 1080),
        (2, 1920, 1080),
        (3, 1920, 1080),
    ]
    assert [page.first_line for page in pages] == ["Welcome to the institute", "What leaders do", "Next"]


def test_without_libreoffice_a_pptx_is_refused_with_export_a_pdf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert powerpoint_supported(), "LibreOffice is part of the test suite (Makefile SYSTEM_PACKAGES)"
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no soffice and no libreoffice on it
    assert not powerpoint_supported()
    deck = write(tmp_path, "deck.pptx", slide_files.pptx(["One"]))
    with pytest.raises(NotSlides, match=NO_LIBREOFFICE):
        accept(deck, LIMITS)
    pdf = write(tmp_path, "deck.pdf", slide_files.hand_pdf(1))
    assert accept(pdf, LIMITS) is Format.pdf  # PDFs need nothing but the server's own packages


# --- hostile files ------------------------------------------------------------------------------------------------


def test_ten_thousand_pages_are_refused_before_any_is_drawn(tmp_path: Path, own_temp: Path) -> None:
    pdf = write(tmp_path, "deck.pdf", slide_files.hand_pdf(10_000))
    assert pdf.stat().st_size < 2 * 1024 * 1024
    drawn: list[Path] = []

    async def attempt() -> None:
        with workspace() as workdir:
            try:
                async for _ in render_pages(pdf, Format.pdf, workdir, LIMITS):
                    raise AssertionError("no event comes before the refusal")
            finally:
                drawn.extend((workdir / "pages").iterdir())

    with pytest.raises(ImportRefused, match="^This PDF has 10,000 pages; at most 200 can be imported$"):
        asyncio.run(attempt())
    assert drawn == []


def test_the_page_limit_is_a_setting(tmp_path: Path) -> None:
    pdf = write(tmp_path, "deck.pdf", slide_files.hand_pdf(3))
    assert refusal(pdf, ImportLimits(max_pages=2)) == "This PDF has 3 pages; at most 2 can be imported"


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (slide_files.damaged_pdf(), "This PDF is damaged and cannot be read"),
        (slide_files.hand_pdf(2, encrypt=True), "This PDF is password-protected"),
    ],
    ids=["damaged", "encrypted"],
)
def test_a_pdf_that_cannot_be_read_is_refused_with_why(tmp_path: Path, data: bytes, line: str) -> None:
    assert refusal(write(tmp_path, "deck.pdf", data)) == line


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("photo.pdf", slide_files.jpeg()),
        ("page.pdf", slide_files.HTML),
        ("deck.pptx", slide_files.plain_zip()),
        ("deck.ppt", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000)),  # a compound file with no PowerPoint stream
        ("deck.odp", b"PK\x03\x04" + bytes(100)),
    ],
    ids=["jpeg-named-pdf", "html-named-pdf", "zip-without-presentation", "ole-not-powerpoint", "broken-zip"],
)
def test_a_file_is_known_by_its_content_not_its_name(tmp_path: Path, name: str, data: bytes) -> None:
    with pytest.raises(ImportRefused) as refused:
        identify(write(tmp_path, name, data), LIMITS)
    assert str(refused.value) in (NOT_SLIDES, "This presentation is damaged and cannot be read")


def test_an_empty_or_oversized_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    with pytest.raises(NotSlides, match="^The file is empty$"):
        identify(write(tmp_path, "deck.pdf", b""), LIMITS)
    with pytest.raises(FileTooLarge, match="^The file is larger than 1 MB$"):
        identify(
            write(tmp_path, "big.pdf", slide_files.hand_pdf(1) + bytes(1024 * 1024)),
            ImportLimits(max_bytes=1024 * 1024),
        )


def test_a_zip_bomb_dressed_as_pptx_is_refused_without_unpacking(bomb: Path) -> None:
    assert bomb.stat().st_size < 2 * 1024 * 1024
    with pytest.raises(ImportRefused, match="would unpack to 1,024 MB; it is refused as a likely zip bomb"):
        identify(bomb, LIMITS)


def test_a_zip_of_too_many_parts_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportRefused, match="holds 6,001 parts; a presentation of at most 5,000 is accepted"):
        identify(write(tmp_path, "deck.pptx", slide_files.many_entries(6000)), LIMITS)


def test_a_presentation_with_macros_is_refused(tmp_path: Path) -> None:
    macro = "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml"
    deck = write(tmp_path, "deck.pptm", slide_files.pptx(["One"], content_type=macro))
    with pytest.raises(NotSlides, match="holds macros"):
        identify(deck, LIMITS)


def test_an_odp_is_known_by_its_mimetype(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "deck.odp"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("mimetype", "application/vnd.oasis.opendocument.presentation")
        package.writestr("content.xml", "<office:document-content/>")
    assert identify(path, LIMITS) is Format.odp


def test_an_import_past_its_time_is_killed_and_refused(tmp_path: Path) -> None:
    pdf = write(tmp_path, "deck.pdf", slide_files.hand_pdf(150))
    assert refusal(pdf, ImportLimits(seconds=0.05)) == "Converting took longer than 0.05 seconds"


def test_an_abandoned_import_leaves_no_child(tmp_path: Path, own_temp: Path) -> None:
    pdf = write(tmp_path, "deck.pdf", slide_files.hand_pdf(150))

    async def abandon() -> list[str]:
        with workspace() as workdir:
            events = render_pages(pdf, Format.pdf, workdir, LIMITS)
            assert await anext(events) == PageCount(150)
            running = slide_files.leftovers(str(own_temp))
            await events.aclose()
        return running

    assert len(asyncio.run(abandon())) == 1  # the child was drawing when the import was abandoned; the fixture
    # then checks it is gone


def test_the_child_runs_with_limits_and_below_the_server(tmp_path: Path) -> None:
    """The limits the child sets itself, read back from /proc while it runs (a PDF long enough to catch it)."""
    pdf = write(tmp_path, "deck.pdf", slide_files.hand_pdf(150))

    async def observe() -> tuple[str, int]:
        with workspace() as workdir:
            events = render_pages(pdf, Format.pdf, workdir, LIMITS)
            try:
                await anext(events)
                pid = next(int(line.split(":")[0]) for line in slide_files.leftovers(str(workdir)))
                limits_text = Path(f"/proc/{pid}/limits").read_text()
                nice = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
            finally:
                await events.aclose()
        return limits_text, nice

    limits_text, nice = asyncio.run(observe())
    assert nice >= os.nice(0) + 10
    address_space = next(line for line in limits_text.splitlines() if line.startswith("Max address space"))
    assert address_space.split()[3] == str(1024 * 1024 * 1024)
    cpu = next(line for line in limits_text.splitlines() if line.startswith("Max cpu time"))
    assert cpu.split()[3] == "120"


# --- the gate -----------------------------------------------------------------------------------------------------


def test_the_gate_admits_one_import_per_account_and_a_bounded_number_in_all() -> None:
    gate = ImportGate(at_once=2, seconds=120)
    with gate.admit(1):
        with pytest.raises(ImportBusy, match="previous import is still running") as busy:
            with gate.admit(1):
                pass
        assert busy.value.retry_after == 30
        with gate.admit(2):
            with pytest.raises(ImportBusy, match="importing other decks"):
                with gate.admit(3):
                    pass
            assert gate.running == 2
    assert gate.running == 0
    with gate.admit(1):  # a place is given back however the import ended
        pass


def test_a_line_the_child_could_not_finish_reads_as_a_damaged_pdf(tmp_path: Path) -> None:
    """A child killed by its memory limit mid-write leaves half a line: a refusal, not a server error."""
    from server.slideimport import DAMAGED_PDF, _event

    assert _event(b'{"pages": 2}\n', tmp_path) == PageCount(2)
    for cut in (b'{"page": 1, "wid', b"\xff\xfe", b'{"page": "one"}', b"[]", b'{"other": 1}'):
        with pytest.raises(ImportRefused, match=f"^{DAMAGED_PDF}$"):
            _event(cut, tmp_path)
    with pytest.raises(ImportRefused, match="^This PDF is password-protected$"):
        _event(b'{"error": "This PDF is password-protected"}', tmp_path)


def test_libreoffice_reads_a_profile_that_runs_no_macros(tmp_path: Path) -> None:
    """LibreOffice rewrites the throwaway profile it was given, keeping the settings the import put there."""
    deck = write(tmp_path, "deck.pptx", slide_files.pptx(["One"]))

    async def convert() -> str:
        with workspace() as workdir:
            async for _ in render_pages(deck, Format.pptx, workdir, LIMITS):
                pass
            return (workdir / "profile" / "user" / "registrymodifications.xcu").read_text()

    profile = asyncio.run(convert())
    assert profile.count("<item ") > 3  # LibreOffice's own settings joined the import's three
    for name, value in (("DisableMacrosExecution", "true"), ("MacroSecurityLevel", "3")):
        assert f'<prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop>' in profile
