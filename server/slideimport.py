"""Slide import: a PDF (what PowerPoint, Keynote and Google Slides export), or a PowerPoint or OpenDocument deck
that LibreOffice converts to PDF, becomes one image per page.

Nothing of the uploaded file is parsed in the server's process beyond its first bytes and a zip's directory. The
pages are counted and rendered by PDFium in a child process (`python -m server.slideimport render ...`), and
LibreOffice runs as one too; each child runs at a lower priority, under a memory, CPU-time and file-size limit, in a
session of its own that is killed whole at the wall-clock limit or when the import is abandoned. So a hostile file
can cost one child its limits, never the server its rooms.

The pages are counted before any is rendered: a PDF over the page limit is refused without drawing one. Each page
is drawn to fit 1920x1080 (its own aspect kept) and handed over as lossless WebP at the encoder's fastest setting
(about 50 ms a page here, PNG's zlib level 1 about 20 ms). Lossless, so the stored image, which
`server.media.store_image` re-encodes once (quality 85, keeping the type), loses detail once, not twice; WebP, because
the stored type follows the type handed over: a photo slide stored as WebP was about 0.8 MB where PNG kept 5 MB, a
text slide 10 KiB against 25 KiB, and these images go to phones on venue Wi-Fi and into the database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import resource
import shutil
import signal
import struct
import sys
import tempfile
import zipfile
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

# server.media and activities.text are imported inside the functions that use them: the child this module runs as
# (`python -m server.slideimport`) then starts with the standard library, PDFium and Pillow only, not the database.
if TYPE_CHECKING:
    from server.config import Settings
    from server.media import MediaDeps

log = logging.getLogger(__name__)


def _(message: str) -> str:
    """A refusal in the facilitator's language (activities.i18n, imported when a refusal is made: see above)."""
    from activities.i18n import _ as translated

    return translated(message)


MB = 1024 * 1024
MAX_WIDTH, MAX_HEIGHT = 1920, 1080
# A page's text, read for its title: only the first characters (a title comes first in an exported slide).
TITLE_CHARACTERS = 200
TITLE_LENGTH = 100

PDF_MAGIC = b"%PDF-"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # a compound file: .ppt, and also .doc, .xls, .msg ...
PPT_STREAM = "PowerPoint Document".encode("utf-16-le")  # the stream every .ppt holds, named in its directory
PPTX_TYPES = tuple(
    f"application/vnd.openxmlformats-officedocument.presentationml.{part}.main+xml".encode()
    for part in ("presentation", "slideshow", "template")
)
MACRO_TYPE = b"application/vnd.ms-powerpoint."  # .pptm/.ppsm/.potm: presentations with macros
ODP_TYPES = (
    b"application/vnd.oasis.opendocument.presentation",
    b"application/vnd.oasis.opendocument.presentation-template",
)

# A PowerPoint file is a zip; these bound it before LibreOffice sees it, from its directory alone (nothing is
# extracted): a real deck has hundreds of entries, unpacks to a few times its size, and its XML packs about 10:1.
ZIP_ENTRIES_LIMIT = 5000
ZIP_UNPACKED_LIMIT = 512 * MB
ZIP_RATIO_LIMIT = 100
ZIP_NAME_READ_LIMIT = 1 * MB  # [Content_Types].xml and mimetype are read whole only below this

# The children's limits. RLIMIT_AS is address space, not resident memory: LibreOffice maps much it never touches.
RENDER_MEMORY_BYTES = 1024 * MB
CONVERT_MEMORY_BYTES = 3072 * MB
CONVERTED_FILE_LIMIT = 512 * MB  # the largest file a child may write (LibreOffice's PDF, one page's image)
CHILD_NICE = 10  # below the server: a live room keeps the CPU it needs while a deck is converted


class ImportRefused(ValueError):
    """Why a file cannot become slides, in one plain line."""


class NotSlides(ImportRefused):
    """The file is not one this server imports (by its content), or not one it can convert here."""


class FileTooLarge(ImportRefused):
    """The file is over the byte limit."""


class ImportBusy(Exception):
    """An import may not start now: this account's is running, or the process runs as many as it may."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class ImportGate:
    """Imports running in this process: one per account, `at_once` in all, so imports never take both cores from
    the live rooms."""

    def __init__(self, at_once: int, seconds: float) -> None:
        self.at_once = at_once
        self.retry_after = max(1, min(int(seconds), 30))
        self._running: set[int] = set()

    @contextlib.contextmanager
    def admit(self, account: int) -> Iterator[None]:
        """Hold a place for this account's import while it runs; raises ImportBusy when there is none."""
        if account in self._running:
            raise ImportBusy(_("Your previous import is still running; wait for it to finish"), self.retry_after)
        if len(self._running) >= self.at_once:
            raise ImportBusy(_("The server is importing other decks; try again in a moment"), self.retry_after)
        self._running.add(account)
        try:
            yield
        finally:
            self._running.discard(account)

    @property
    def running(self) -> int:
        return len(self._running)


class Format(StrEnum):
    pdf = "pdf"
    pptx = "pptx"
    ppt = "ppt"
    odp = "odp"


@dataclass(frozen=True)
class ImportLimits:
    """How much one import may take: the file's bytes, its pages, and the wall-clock time of the whole of it."""

    max_bytes: int = 50 * MB
    max_pages: int = 200
    seconds: float = 120.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ImportLimits:
        return cls(settings.import_max_bytes, settings.import_max_pages, settings.import_seconds)

    @property
    def shown_bytes(self) -> str:
        return f"{self.max_bytes // MB} MB" if self.max_bytes >= MB else f"{self.max_bytes:,} bytes"

    def too_large(self) -> str:
        return f"The file is larger than {self.shown_bytes}"

    def too_slow(self) -> str:
        return f"Converting took longer than {self.seconds:g} seconds"


@dataclass(frozen=True)
class PageCount:
    """The pages the file has, known before any is drawn."""

    total: int


@dataclass(frozen=True)
class RenderedPage:
    """One page drawn: its image (in the import's folder), its size, and its text's first line ('' if none)."""

    number: int
    path: Path
    width: int
    height: int
    first_line: str


NOT_SLIDES = "This file is not a PDF or a PowerPoint file"
DAMAGED_PDF = "This PDF is damaged and cannot be read"
NO_LIBREOFFICE = "This server cannot read PowerPoint files; export the deck as PDF and upload that"


# --- what the file is ------------------------------------------------------------------------------------------


def libreoffice() -> str | None:
    """The LibreOffice program on PATH, if any."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def powerpoint_supported() -> bool:
    """Whether this server converts PowerPoint and OpenDocument decks (LibreOffice is installed)."""
    return libreoffice() is not None


def identify(path: Path, limits: ImportLimits) -> Format:
    """What the file is, by its content (never its name): a PDF, or a presentation LibreOffice may convert. Reads the
    first bytes and, for a zip, its directory; refuses an empty, oversized or other file, and a zip bomb."""
    size = path.stat().st_size
    if size == 0:
        raise NotSlides(_("The file is empty"))
    if size > limits.max_bytes:
        raise FileTooLarge(limits.too_large())
    with path.open("rb") as file:
        head = file.read(1024)
        if PDF_MAGIC in head:  # PDF readers take the header anywhere in the first kilobyte
            return Format.pdf
        if head.startswith(ZIP_MAGIC):
            return _presentation_zip(file, size)
        if head.startswith(OLE_MAGIC):
            file.seek(0)
            if _holds(file, PPT_STREAM):
                return Format.ppt
    raise NotSlides(NOT_SLIDES)


def accept(path: Path, limits: ImportLimits) -> Format:
    """The file's format when this server can import it (a presentation needs LibreOffice). Raises ImportRefused
    (NotSlides, FileTooLarge) with why."""
    kind = identify(path, limits)
    if kind is not Format.pdf and not powerpoint_supported():
        raise NotSlides(NO_LIBREOFFICE)
    return kind


def _holds(file: IO[bytes], needle: bytes, chunk: int = 4 * MB) -> bool:
    """Whether the file holds these bytes, read a chunk at a time."""
    tail = b""
    while block := file.read(chunk):
        if needle in tail + block:
            return True
        tail = block[-len(needle) :]
    return False


def _presentation_zip(file: IO[bytes], size: int) -> Format:
    """A .pptx (by its content types) or an .odp (by its mimetype entry), refused when its directory says it would
    unpack to too much, or holds too many entries, before anything is extracted."""
    entries = _declared_entries(file, size)
    if entries is not None and entries > ZIP_ENTRIES_LIMIT:
        raise ImportRefused(
            f"This file holds {entries:,} parts; a presentation of at most {ZIP_ENTRIES_LIMIT:,} is accepted"
        )
    try:
        with zipfile.ZipFile(file) as archive:
            infos = archive.infolist()
            _check_unpacked(infos)
            names = {info.filename: info for info in infos}
            if "[Content_Types].xml" in names:
                types = _small_entry(archive, names["[Content_Types].xml"])
                if any(kind in types for kind in PPTX_TYPES):
                    return Format.pptx
                if MACRO_TYPE in types:
                    raise NotSlides(_("This presentation holds macros; save it as .pptx or PDF and upload that"))
            if "mimetype" in names and _small_entry(archive, names["mimetype"]).strip() in ODP_TYPES:
                return Format.odp
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError):
        raise ImportRefused(_("This presentation is damaged and cannot be read")) from None
    raise NotSlides(NOT_SLIDES)


def _declared_entries(file: IO[bytes], size: int) -> int | None:
    """The entry count the zip's end record declares, read before zipfile walks (and allocates for) the directory."""
    tail_size = min(size, 22 + 65535)
    file.seek(size - tail_size)
    tail = file.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None  # zipfile says what is wrong with it
    (entries,) = struct.unpack("<H", tail[at + 10 : at + 12])
    return int(entries) if entries != 0xFFFF else ZIP_ENTRIES_LIMIT + 1  # 0xFFFF: a zip64 count, never a real deck


def _check_unpacked(infos: Sequence[zipfile.ZipInfo]) -> None:
    if len(infos) > ZIP_ENTRIES_LIMIT:
        raise ImportRefused(
            f"This file holds {len(infos):,} parts; a presentation of at most {ZIP_ENTRIES_LIMIT:,} is accepted"
        )
    unpacked = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    if unpacked > ZIP_UNPACKED_LIMIT or unpacked > ZIP_RATIO_LIMIT * max(packed, 1):
        raise ImportRefused(
            f"This presentation would unpack to {unpacked / MB:,.0f} MB; it is refused as a likely zip bomb"
        )


def _small_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > ZIP_NAME_READ_LIMIT:
        raise NotSlides(NOT_SLIDES)
    with archive.open(info) as entry:
        return entry.read(ZIP_NAME_READ_LIMIT)


# --- the pipeline, in the server's process ---------------------------------------------------------------------


@dataclass(frozen=True)
class ImportedSlide:
    """One page stored as an image: what the editor puts in a content slide."""

    number: int
    media: str
    url: str
    width: int
    height: int
    title: str


async def import_slides(
    deps: MediaDeps, source: Path, kind: Format, workdir: Path, limits: ImportLimits, *, user_id: int | None
) -> AsyncGenerator[PageCount | ImportedSlide, None]:
    """The page count, then each page as it is stored (through `store_image`, which re-encodes and hashes it).
    Nothing else is written: the slides reach a deck only when the editor saves it."""
    from server.media import ImageRefused, store_image

    async with contextlib.aclosing(render_pages(source, kind, workdir, limits)) as events:
        async for event in events:
            if isinstance(event, PageCount):
                yield event
                continue
            try:
                stored = await store_image(deps, event.path.read_bytes(), user_id=user_id)
            except ImageRefused as refused:
                raise ImportRefused(
                    _("Page {number} could not be stored: {reason}").format(number=event.number, reason=refused)
                ) from None
            event.path.unlink()
            title = slide_title(event.first_line, event.number)
            yield ImportedSlide(event.number, stored.name, stored.url, stored.width, stored.height, title)


def slide_title(text: str, number: int) -> str:
    """The page's first line of text as its title (a slide's title comes first), or "Slide N" when it has none."""
    from activities.text import tidy

    line = next((tidy(part) for part in text.splitlines() if tidy(part)), "")
    if len(line) > TITLE_LENGTH:
        line = line[: TITLE_LENGTH - 1].rstrip() + "…"
    return line or f"Slide {number}"


def shown_name(filename: str | None) -> str:
    """The uploaded file's name as the slides' alt text names it: its last path part, tidy, not too long."""
    from activities.text import tidy

    name = tidy((filename or "").replace("\\", "/").rsplit("/", 1)[-1])
    return (name[:117].rstrip() + "…" if len(name) > 120 else name) or "the uploaded file"


async def render_pages(
    source: Path, kind: Format, workdir: Path, limits: ImportLimits
) -> AsyncGenerator[PageCount | RenderedPage, None]:
    """The file's page count, then each page drawn, in order. A presentation is converted to PDF first. Raises
    ImportRefused with the reason; whatever way it ends (refused, finished, abandoned), no child is left running."""
    deadline = asyncio.get_running_loop().time() + limits.seconds
    pdf = source if kind is Format.pdf else await _convert_to_pdf(source, workdir, limits, deadline)
    pages = workdir / "pages"
    pages.mkdir()
    command = [
        *_limited(RENDER_MEMORY_BYTES, limits),
        "render",
        str(pdf),
        str(pages),
        "--max-pages",
        str(limits.max_pages),
    ]
    async with _child(command, workdir) as child:
        assert child.stdout is not None
        while True:
            line = await _before(deadline, child.stdout.readline(), limits)
            if not line:
                break
            yield _event(line, pages)
        code = await _before(deadline, child.wait(), limits)
    if code != 0:
        log.warning("the PDF child of a slide import exited with status %s", code)
        raise ImportRefused(_failure(code, limits, DAMAGED_PDF))


def _event(line: bytes, pages: Path) -> PageCount | RenderedPage:
    """One line the child said; a line cut off (the child killed by its memory limit mid-write) reads as damage."""
    try:
        message = json.loads(line)
        if "error" in message:
            refusal = str(message["error"])
        elif "pages" in message:
            return PageCount(int(message["pages"]))
        else:
            number = int(message["page"])
            size = int(message["width"]), int(message["height"])
            return RenderedPage(number, pages / _page_file(number), *size, str(message.get("text", "")))
    except (ValueError, KeyError, TypeError):
        refusal = DAMAGED_PDF
    raise ImportRefused(refusal)


async def _convert_to_pdf(source: Path, workdir: Path, limits: ImportLimits, deadline: float) -> Path:
    """LibreOffice's PDF of the deck: a throwaway profile and output folder, no network where the system allows a
    network namespace, killed with all it started at the deadline."""
    program = libreoffice()
    if program is None:
        raise ImportRefused(NO_LIBREOFFICE)
    out = workdir / "converted"
    out.mkdir()
    profile = workdir / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(LIBREOFFICE_SETTINGS)
    command = [
        *_limited(CONVERT_MEMORY_BYTES, limits),
        "exec",
        "--",
        *await _no_network(),
        program,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--nolockcheck",
        "--convert-to",
        "pdf",
        "--outdir",
        str(out),
        str(source),
    ]
    async with _child(command, workdir, output=False) as child:
        code = await _before(deadline, child.wait(), limits)
    converted = out / f"{source.stem}.pdf"
    if code != 0 or not converted.is_file():
        raise ImportRefused(
            _failure(code, limits, "This presentation could not be converted; export it as PDF and upload that")
        )
    return converted


def _setting(path: str, name: str, value: str) -> str:
    return f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>'


SECURITY = "/org.openoffice.Office.Common/Security/Scripting"
# The throwaway profile LibreOffice starts with: macros never run (whatever the file holds: a .ppt may carry VBA),
# and links that would fetch from elsewhere are blocked.
LIBREOFFICE_SETTINGS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    + _setting(SECURITY, "MacroSecurityLevel", "3")
    + _setting(SECURITY, "DisableMacrosExecution", "true")
    + _setting(SECURITY, "BlockUntrustedRefererLinks", "true")
    + "\n</oor:items>\n"
)


def _failure(code: int, limits: ImportLimits, otherwise: str) -> str:
    """What a child's exit status means for the person: the CPU limit reads as time, the rest as a bad file."""
    return limits.too_slow() if code in (-signal.SIGXCPU, -signal.SIGKILL) else otherwise


def _limited(memory: int, limits: ImportLimits) -> list[str]:
    """This module as a child that limits itself before it reads anything."""
    return [
        sys.executable,
        "-m",
        "server.slideimport",
        "--memory",
        str(memory),
        "--cpu",
        str(max(1, int(limits.seconds))),
        "--file-size",
        str(CONVERTED_FILE_LIMIT),
    ]


_NETWORK_NAMESPACE: list[str] | None = None


async def _no_network() -> list[str]:
    """A prefix that runs a program without network (`unshare --net`), where this system allows it (as root, or
    with unprivileged user namespaces); else none. Tried once per process."""
    global _NETWORK_NAMESPACE
    if _NETWORK_NAMESPACE is None:
        found: list[str] = []
        unshare = shutil.which("unshare") or ""
        for flags in (["--net"], ["--user", "--map-root-user", "--net"]) if unshare else ():
            probe = await asyncio.create_subprocess_exec(
                unshare, *flags, "--", "true", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
            )
            if await probe.wait() == 0:
                found = [unshare, *flags, "--"]
                break
        if not found:
            log.warning("LibreOffice runs with the network: this system allows no network namespace (unshare --net)")
        _NETWORK_NAMESPACE = found
    return _NETWORK_NAMESPACE


@contextlib.asynccontextmanager
async def _child(
    command: list[str], workdir: Path, *, output: bool = True
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A child in a session of its own; on the way out, the whole session is killed and the child reaped."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("HANDSUP_")}
    environment.update(HOME=str(workdir), TMPDIR=str(workdir))
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE if output else asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=workdir,
        env=environment,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # the session: LibreOffice starts a process of its own
        # Reaped whatever happens, a cancelled import included, and its output read to the end: asyncio closes a
        # child's transport once it has exited AND its pipe has ended, and one left open is only found by the garbage
        # collector, after its event loop is gone. Killed with its whole session, it exits and its pipe ends at once.
        reaped = asyncio.ensure_future(_reap(process))
        while not reaped.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(reaped)


async def _reap(process: asyncio.subprocess.Process) -> None:
    if process.stdout is not None:
        with contextlib.suppress(Exception):  # another reader was cut off mid-read: the pipe still ends
            await process.stdout.read()
    await process.wait()


async def _before(deadline: float, awaitable: Any, limits: ImportLimits) -> Any:
    remaining = deadline - asyncio.get_running_loop().time()
    try:
        return await asyncio.wait_for(awaitable, max(remaining, 0.001))
    except TimeoutError:
        raise ImportRefused(limits.too_slow()) from None


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    """A private temporary folder for one import (the upload, LibreOffice's profile and PDF, the pages), removed
    after."""
    with tempfile.TemporaryDirectory(prefix="handsup-import-") as folder:
        yield Path(folder)


def _page_file(number: int) -> str:
    return f"page-{number:04d}.webp"


# --- the child ------------------------------------------------------------------------------------------------


def _limit_self(memory: int, cpu: int, file_size: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.nice(CHILD_NICE)


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def fit(width: float, height: float) -> tuple[float, int, int]:
    """The scale that fits a page of this size (in points) into MAX_WIDTH x MAX_HEIGHT, and the pixels it gives."""
    scale = min(MAX_WIDTH / width, MAX_HEIGHT / height)
    return scale, max(1, min(MAX_WIDTH, round(width * scale))), max(1, min(MAX_HEIGHT, round(height * scale)))


def _render(source: str, out: str, max_pages: int) -> int:
    """Count the pages (refusing past max_pages before drawing any), then draw each to an image, saying so per page."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        document = pdfium.PdfDocument(source)
    except pdfium.PdfiumError as error:
        password = getattr(error, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD
        _say({"error": "This PDF is password-protected" if password else DAMAGED_PDF})
        return 0
    total = len(document)
    if total == 0:
        _say({"error": "This PDF has no pages"})
        return 0
    if total > max_pages:
        _say({"error": f"This PDF has {total:,} pages; at most {max_pages:,} can be imported"})
        return 0
    _say({"pages": total})
    for index in range(total):
        page = document[index]
        width, height = page.get_size()
        if not (width > 0 and height > 0):
            _say({"error": f"Page {index + 1} of this PDF has no size; it is damaged and cannot be read"})
            return 0
        scale, _, _ = fit(width, height)
        image = page.render(scale=scale, may_draw_forms=False).to_pil()
        text = page.get_textpage()
        characters = text.count_chars()  # -1 when PDFium cannot tell: then no title rather than the whole text
        first = text.get_text_range(0, min(TITLE_CHARACTERS, characters)) if characters > 0 else ""
        image.save(Path(out) / _page_file(index + 1), "WEBP", lossless=True, quality=0, method=0)
        _say({"page": index + 1, "width": image.width, "height": image.height, "text": first})
        text.close()
        page.close()
    document.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m server.slideimport --memory B --cpu S --file-size B (render PDF OUT --max-pages N | exec -- CMD)`."""
    parser = argparse.ArgumentParser(prog="python -m server.slideimport")
    parser.add_argument("--memory", type=int, required=True)
    parser.add_argument("--cpu", type=int, required=True)
    parser.add_argument("--file-size", type=int, required=True)
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render")
    render.add_argument("source")
    render.add_argument("out")
    render.add_argument("--max-pages", type=int, required=True)
    run = commands.add_parser("exec")
    run.add_argument("program", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    _limit_self(args.memory, args.cpu, args.file_size)
    if args.command == "exec":
        program = args.program[1:] if args.program[:1] == ["--"] else args.program
        os.execvp(program[0], program)
    return _render(args.source, args.out, args.max_pages)


if __name__ == "__main__":
    sys.exit(main())
