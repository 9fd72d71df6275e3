"""The readiness probe a load balancer or container runtime asks (as full-stack FastAPI's api/routes/utils.py)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from server import __version__
from server.accounts.access import Access, declare
from server.web.deps import ServicesDep

router = APIRouter(include_in_schema=False)


@router.get("/healthz", dependencies=[declare(Access.anyone)])
async def healthz(services: ServicesDep) -> JSONResponse:
    """200 once the server is ready: database reachable, writer running."""
    async with services.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return JSONResponse({"status": "ok", "version": __version__})
