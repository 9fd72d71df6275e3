"""Files for the slide import tests, made here: PDFs written by hand or by Pillow, a minimal PowerPoint package, and
the hostile ones (10,000 pages, password-protected, a zip bomb dressed as .pptx); and `leftovers`, the import children
still running in a folder."""

from __future__ import annotations

import io
import secrets
import zipfile
from collections.abc import Sequence
from pathlib import Path

from PIL import Image


def image_pdf(pages: Sequence[tuple[tuple[int, int], str]]) -> bytes:
    """A PDF with one page per (size in points, colour), filled with that colour (Pillow writes it at 72 dpi)."""
    images = [Image.new("RGB", size, colour) for size, colour in pages]
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=72.0)
    return out.getvalue()


def hand_pdf(
    pages: int, *, texts: Sequence[str] | None = None, size: tuple[int, int] = (720, 405), encrypt: bool = False
) -> bytes:
    """A PDF written object by object. Without texts, every page shares one content stream, so 10,000 pages cost a
    few hundred kilobytes; with texts, page i shows texts[i] in Helvetica. `encrypt` adds a standard security handler
    whose password nobody knows."""
    objects: list[bytes] = []
    kids = " ".join(f"{4 + i} 0 R" for i in range(pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Count {pages} /Kids [{kids}] >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    first_content = 4 + pages
    for i in range(pages):
        content = first_content + (i if texts else 0)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {size[0]} {size[1]}] /Contents {content} 0 R "
            "/Resources << /Font << /F1 3 0 R >> >> >>".encode()
        )
    for text in texts or [""]:
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 28 Tf 40 {size[1] - 60} Td ({escaped}) Tj ET".encode() if text else b"0 0 1 rg 0 0 50 50 re f"
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    trailer_extra = ""
    if encrypt:
        objects.append(
            b"<< /Filter /Standard /V 1 /R 2 /P -4 /O <"
            + secrets.token_hex(32).encode()
            + b"> /U <"
            + secrets.token_hex(32).encode()
            + b"> >>"
        )
        trailer_extra = f" /Encrypt {len(objects)} 0 R /ID [<{'ab' * 16}> <{'ab' * 16}>]"
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


P = "http://schemas.openxmlformats.org/presentationml/2006/main"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
PRESENTATION_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
SLIDE_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.slide+xml"
XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'


def _relationships(items: Sequence[tuple[str, str]]) -> str:
    body = "".join(
        f'<Relationship Id="rId{n}" Type="{R}/{kind}" Target="{target}"/>' for n, (kind, target) in enumerate(items, 1)
    )
    return f'{XML}<Relationships xmlns="{PACKAGE}">{body}</Relationships>'


def _slide(title: str) -> str:
    return (
        f'{XML}<p:sld xmlns:a="{A}" xmlns:r="{R}" xmlns:p="{P}"><p:cSld><p:spTree>'
        '<p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>'
        '<p:sp><p:nvSpPr><p:cNvPr id="2" name="Title"/><p:cNvSpPr/><p:nvPr/></p:nvSpPr>'
        '<p:spPr><a:xfrm><a:off x="457200" y="274638"/><a:ext cx="8229600" cy="1143000"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></p:spPr>'
        f'<p:txBody><a:bodyPr/><a:lstStyle/><a:p><a:r><a:rPr lang="en-US" sz="4000"/><a:t>{title}</a:t></a:r></a:p>'
        "</p:txBody></p:sp></p:spTree></p:cSld></p:sld>"
    )


def pptx(titles: Sequence[str], *, content_type: str = PRESENTATION_TYPE) -> bytes:
    """A minimal PowerPoint package (16:9): one slide per title, the title in a text box at the top."""
    overrides = f'<Override PartName="/ppt/presentation.xml" ContentType="{content_type}"/>' + "".join(
        f'<Override PartName="/ppt/slides/slide{n}.xml" ContentType="{SLIDE_TYPE}"/>' for n in range(1, len(titles) + 1)
    )
    types = (
        f'{XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>{overrides}</Types>'
    )
    ids = "".join(f'<p:sldId id="{255 + n}" r:id="rId{n}"/>' for n in range(1, len(titles) + 1))
    presentation = (
        f'{XML}<p:presentation xmlns:a="{A}" xmlns:r="{R}" xmlns:p="{P}"><p:sldIdLst>{ids}</p:sldIdLst>'
        '<p:sldSz cx="12192000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/></p:presentation>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", types)
        package.writestr("_rels/.rels", _relationships([("officeDocument", "ppt/presentation.xml")]))
        package.writestr("ppt/presentation.xml", presentation)
        slides = [("slide", f"slides/slide{n}.xml") for n in range(1, len(titles) + 1)]
        package.writestr("ppt/_rels/presentation.xml.rels", _relationships(slides))
        for n, title in enumerate(titles, 1):
            package.writestr(f"ppt/slides/slide{n}.xml", _slide(title))
    return out.getvalue()


def zip_bomb(path: Path, *, gigabytes: int = 1) -> Path:
    """A .pptx-looking zip (its content types say presentation) with one entry of `gigabytes` GiB of zeros, which
    deflate packs about 1000:1. Written once per test session."""
    if not path.exists():
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
            package.writestr("[Content_Types].xml", _types_only())
            chunk = bytes(16 * 1024 * 1024)
            with package.open("ppt/media/image1.png", "w", force_zip64=True) as entry:
                for _ in range(gigabytes * 64):
                    entry.write(chunk)
    return path


def _types_only() -> bytes:
    with zipfile.ZipFile(io.BytesIO(pptx(["x"]))) as package:
        return package.read("[Content_Types].xml")


def many_entries(count: int) -> bytes:
    """A presentation-looking zip with `count` tiny entries."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as package:
        package.writestr("[Content_Types].xml", _types_only())
        for n in range(count):
            package.writestr(f"ppt/x{n}.xml", b"")
    return out.getvalue()


def plain_zip() -> bytes:
    """A zip that holds no presentation: a .pptx by name only."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("notes.txt", "Nothing to present here")
        package.writestr(
            "[Content_Types].xml", f'{XML}<Types xmlns="x"><Default Extension="txt" ContentType="text/plain"/></Types>'
        )
    return out.getvalue()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(out, "JPEG")
    return out.getvalue()


HTML = b"<!doctype html><html><body><script>alert(1)</script>Not a PDF</body></html>"


def damaged_pdf() -> bytes:
    """A PDF cut short: its header is right, its objects and cross-reference table are gone."""
    whole = hand_pdf(3)
    return whole[:40] + b"\x00\xff" * 64


def leftovers(marker: str) -> list[str]:
    """Processes still running whose command line names this folder (every import child does: its files are there)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = next(line for line in (entry / "status").read_text().splitlines() if line.startswith("State:"))
        except (OSError, StopIteration):
            continue
        if marker in command and "Z" not in state.split()[1]:
            found.append(f"{entry.name}: {command}")
    return found
