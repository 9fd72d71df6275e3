"""What a running server holds: settings, database, backplane, writer, hub, templates. One per app."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from activities import Registry
from activities.base import OffloadFailed
from server.accounts.oidc import Providers
from server.backplane import Backplane
from server.config import Settings
from server.live.fragments import Views
from server.live.hub import Hub
from server.live.room import RoomDeps
from server.live.writer import ResponseWriter
from server.web.throttle import Throttles
from server.webhooks import Webhooks


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    db: async_sessionmaker[AsyncSession]
    backplane: Backplane
    writer: ResponseWriter
    registry: Registry
    views: Views
    hub: Hub = field(init=False)
    throttles: Throttles = field(init=False)
    oidc: Providers = field(init=False)  # the single sign-on providers, with their discovery and keys kept
    webhooks: Webhooks = field(init=False)
    _pool: ProcessPoolExecutor | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.throttles = Throttles(self.settings)
        self.oidc = Providers(self.settings)
        self.webhooks = Webhooks(self.db, self.settings)
        self.writer.on_stored = self.webhooks.responses_stored  # after each commit: queued, never awaited
        self.hub = Hub(
            RoomDeps(
                settings=self.settings,
                db=self.db,
                engine=self.engine,
                backplane=self.backplane,
                registry=self.registry,
                writer=self.writer,
                fragments=self.views,
                throttles=self.throttles,
            )
        )

    async def offload(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run CPU-bound work (drawing a word cloud) in a worker process, off the event loop."""
        if self._pool is None:
            # One worker: drawing never takes more than one of the box's cores from the event loop.
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        pool = self._pool
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        except BrokenProcessPool:
            # The worker died (a hostile image's decoding ran it out of memory, say): a broken pool refuses every
            # later call too, so it is replaced, and this call's caller hears that its work was lost.
            if self._pool is pool:
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
            raise OffloadFailed("the worker process died before it finished") from None

    def close_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
