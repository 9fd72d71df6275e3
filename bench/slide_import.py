"""The slide import's cost per page against PDFium in-process: `python -m bench.slide_import` (from the repository
root; `make bench` runs it after the load benchmark).

One PDF of 20 slide-like pages (vector text and shapes, 16:9) goes through four paths, alternating, `--repeat`
times each, so every path sees the same (noisy) machine:

- `pipeline`: what an import runs, `server.slideimport.render_pages`: a child process started under its limits at a
  lower priority, PDFium counting then drawing each page to fit 1920x1080, each page written as lossless WebP and
  read back by the server as it is announced;
- `baseline`: PDFium in this process, no child and no limits: open, draw each page at the same scale, encode it the
  same way (the cost of isolation is the difference);
- `baseline_render_only`: the same without the encoding (what drawing alone costs);
- `stored`: the whole import as the route runs it (`import_slides`): the pipeline, then each page re-encoded by
  `server.media.store_image` in a one-worker process pool (the server's offload) and stored in SQLite.

Each figure is the median over the runs. The JSON (default bench/results/slide_import.json) also holds the server
process's own CPU during the pipeline (what a live room would share the event loop with) and the children's.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bench.procs import ROOT
from bench.run import code_version, machine
from server.config import Settings
from server.db import create_engine, session_factory, upgrade
from server.slideimport import (
    Format,
    ImportedSlide,
    ImportLimits,
    PageCount,
    RenderedPage,
    fit,
    import_slides,
    render_pages,
    workspace,
)

RESULTS = ROOT / "bench" / "results"
WIDTH, HEIGHT = 960, 540  # points: PowerPoint's 16:9 page size


def slide_pdf(pages: int) -> bytes:
    """A PDF of slide-like pages: a title, six lines of text, a few coloured boxes, each page its own stream."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(pages))
    objects.append(f"<< /Type /Pages /Count {pages} /Kids [{kids}] >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i in range(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {WIDTH} {HEIGHT}] /Contents {5 + 2 * i} 0 R "
            "/Resources << /Font << /F1 3 0 R >> >> >>".encode()
        )
        body = [f"0.{i % 9} 0.3 0.6 rg 0 {HEIGHT - 90} {WIDTH} 90 re f", "1 1 1 rg"]
        body.append(f"BT /F1 40 Tf 40 {HEIGHT - 65} Td (Slide {i + 1}: how school leaders spend their time) Tj ET")
        body.append("0 0 0 rg")
        for line in range(6):
            text = f"Point {line + 1}: distributed leadership across the cohort, site {i + 1}"
            body.append(f"BT /F1 24 Tf 60 {HEIGHT - 150 - 48 * line} Td ({text}) Tj ET")
        body += [f"0.9 0.{line} 0.2 rg {620 + 60 * line} 60 50 {40 + 30 * line} re f" for line in range(5)]
        stream = "\n".join(body).encode()
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def pipeline(pdf: Path) -> dict[str, Any]:
    """One import's drawing through the real pipeline; the server's and the children's CPU over it."""

    async def drive() -> tuple[int, float]:
        pages = 0
        first_page = 0.0
        start = time.perf_counter()
        with workspace() as workdir:
            async for event in render_pages(pdf, Format.pdf, workdir, ImportLimits()):
                if isinstance(event, RenderedPage):
                    event.path.read_bytes()  # what the import hands to store_image
                    pages += 1
                    first_page = first_page or time.perf_counter() - start
                else:
                    assert isinstance(event, PageCount)
        return pages, first_page

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    pages, first_page = asyncio.run(drive())
    seconds = time.perf_counter() - start
    own_after, children_after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "pages": pages,
        "seconds": seconds,
        "first_page_s": first_page,
        "server_cpu_s": (own_after.ru_utime + own_after.ru_stime) - (own.ru_utime + own.ru_stime),
        "children_cpu_s": (children_after.ru_utime + children_after.ru_stime) - (children.ru_utime + children.ru_stime),
    }


@dataclass
class StoreDeps:
    """What store_image needs (the server's Services bag has the same): settings, a database, the offload pool."""

    settings: Settings
    db: async_sessionmaker[AsyncSession]
    pool: ProcessPoolExecutor

    async def offload(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)


def stored(pdf: Path, folder: Path) -> dict[str, Any]:
    """A whole import as the route runs it, `import_slides`: the pipeline, then each page re-encoded by store_image
    in a one-worker process pool (the server's offload) and stored in a migrated SQLite database of its own."""
    data = Path(tempfile.mkdtemp(dir=folder))
    settings = Settings(env="test", data_dir=data, secret_key="bench-" + "x" * 40)
    upgrade(settings.resolved_database_url)

    async def drive() -> int:
        engine = create_engine(settings.resolved_database_url)
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            deps = StoreDeps(settings, session_factory(engine), pool)
            await deps.offload(abs, 0)  # the worker started, as in a server that has drawn a word cloud
            start = time.perf_counter()
            with workspace() as workdir:
                events = import_slides(deps, pdf, Format.pdf, workdir, ImportLimits(), user_id=None)
                pages = sum([1 async for event in events if isinstance(event, ImportedSlide)])
            timing["seconds"] = time.perf_counter() - start
        await engine.dispose()
        return pages

    timing: dict[str, float] = {}
    pages = asyncio.run(drive())
    return {"pages": pages, "seconds": timing["seconds"]}


def in_process(pdf: Path, *, encode: bool) -> dict[str, Any]:
    """PDFium in this process, no isolation: the same pages at the same scale (and the same encoding, if asked)."""
    start = time.perf_counter()
    document = pdfium.PdfDocument(str(pdf))
    for index in range(len(document)):
        page = document[index]
        scale, _, _ = fit(*page.get_size())
        image = page.render(scale=scale, may_draw_forms=False).to_pil()
        if encode:
            image.save(io.BytesIO(), "WEBP", lossless=True, quality=0, method=0)
        page.close()
    pages = len(document)
    document.close()
    return {"pages": pages, "seconds": time.perf_counter() - start}


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    figures = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    figures["per_page_ms"] = 1000 * figures["seconds"] / figures["pages"]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The slide import's time per page against in-process PDFium.")
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each path, alternating")
    parser.add_argument("--out", type=Path, default=RESULTS / "slide_import.json")
    args = parser.parse_args(argv)
    host = machine()
    started = datetime.now(UTC)
    paths: dict[str, Callable[[Path], dict[str, Any]]] = {
        "pipeline": pipeline,
        "baseline": lambda pdf: in_process(pdf, encode=True),
        "baseline_render_only": lambda pdf: in_process(pdf, encode=False),
    }
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in paths}
    with tempfile.TemporaryDirectory(prefix="handsup-bench-slides-") as folder:
        pdf = Path(folder) / "deck.pdf"
        pdf.write_bytes(slide_pdf(args.pages))
        paths["stored"] = lambda pdf: stored(pdf, Path(folder))
        runs["stored"] = []
        for _ in range(args.repeat):
            for name, path in paths.items():
                runs[name].append(path(pdf))
    figures = {name: median_of(each) for name, each in runs.items()}
    result = {
        **figures,
        "pipeline_per_page_ratio_to_baseline": figures["pipeline"]["per_page_ms"] / figures["baseline"]["per_page_ms"],
        "stored_per_page_ratio_to_baseline": figures["stored"]["per_page_ms"] / figures["baseline"]["per_page_ms"],
        "pipeline_overhead_ms": 1000 * (figures["pipeline"]["seconds"] - figures["baseline"]["seconds"]),
        "runs": runs,
        "page_size_points": [WIDTH, HEIGHT],
        "rendered_size": list(fit(WIDTH, HEIGHT)[1:]),
        "machine": host,
        "code": code_version(),
        "command": " ".join([Path(sys.executable).name, "-m", "bench.slide_import", *(argv or sys.argv[1:])]),
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({key: value for key, value in result.items() if key not in ("runs", "machine")}, indent=2))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
