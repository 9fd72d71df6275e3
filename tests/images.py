"""Image files for the tests, made on the spot with Pillow or written byte by byte: ordinary pictures of each
accepted type, and the hostile ones an upload must refuse or store inert."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from PIL import Image

EXIF_ORIENTATION = 0x0112
EXIF_GPS = 0x8825
EXIF_MAKE = 0x010F


def picture(
    fmt: str = "PNG", size: tuple[int, int] = (40, 30), colour: tuple[int, int, int] = (200, 40, 40), **options: Any
) -> bytes:
    """An ordinary picture: a left half of `colour`, a right half of blue (so turning it shows)."""
    image = Image.new("RGB", size, colour)
    image.paste((20, 40, 220), (size[0] // 2, 0, size[0], size[1]))
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def photo_with_gps(orientation: int = 1, size: tuple[int, int] = (40, 30)) -> bytes:
    """A JPEG as a phone takes it: EXIF with the camera, the place (GPS) and how to turn it; a comment too."""
    image = Image.new("RGB", size, (200, 40, 40))
    image.paste((20, 40, 220), (size[0] // 2, 0, size[0], size[1]))
    exif = Image.Exif()
    exif[EXIF_MAKE] = "PhoneMaker"
    exif[EXIF_ORIENTATION] = orientation
    exif.get_ifd(EXIF_GPS).update({1: "N", 2: (37.0, 46.0, 29.7), 3: "W", 4: (122.0, 25.0, 9.9)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"taken at home")
    return out.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny PNG whose header declares width × height pixels (the data is a few bytes: decoding would explode)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    row = b"\x00" + b"\x00" * 16
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(row * 4))
        + png_chunk(b"IEND", b"")
    )


HTML_AS_PNG = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"

SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>"
)


def gif_js_polyglot() -> bytes:
    """A GIF that a script tag would also run: its screen size reads `/*` in JavaScript (10799 × 10 px), and a
    script follows the GIF's last byte (`*/=1;alert(...)`). A GIF reader sees a small picture."""
    image = Image.new("P", (8, 8), 1)
    out = io.BytesIO()
    image.save(out, "GIF")
    gif = bytearray(out.getvalue())
    gif[6:10] = b"/*\x0a\x00"  # logical screen 10799 × 10: the frame inside stays 8 × 8
    return bytes(gif) + b"*/=1;alert(document.cookie);//"


def truncated(fmt: str = "PNG") -> bytes:
    """A picture cut off half way, as a failed download leaves it."""
    whole = picture(fmt, (200, 150))
    return whole[: len(whole) // 2]


def animated_gif(frames: int = 3, size: tuple[int, int] = (20, 20)) -> bytes:
    images = [Image.new("RGB", size, (60 * n, 0, 0)) for n in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()
